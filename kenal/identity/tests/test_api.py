"""The REST API's duplicate and merge endpoints, through Django's full stack: the review
queue (list, compare, merge, "not the same person"), comparing and merging any two
customers, the merge history and undo; who may do what; errors; the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kenal.accounts.models import Role
from kenal.customers.models import Customer
from kenal.customers.tests.test_api import get, send
from kenal.customers.tests.test_views import make
from kenal.identity.api import ChosenIn, ComparedCustomer
from kenal.identity.merging import MERGEABLE_FIELDS
from kenal.identity.models import CandidatePair, Merge
from kenal.identity.tests.helpers import NAMES_CLOSE, propose

pytestmark = pytest.mark.django_db

EXPLANATION = [NAMES_CLOSE]


@pytest.fixture
def manager_key(key_for: Callable[[str], str]) -> str:
    return key_for(Role.MANAGER)


@pytest.fixture
def budi_pair() -> CandidatePair:
    budi = make(
        "Budi Santoso",
        birth_date="1990-05-12",
        job_title="Pedagang",
        phones=["0812-3456-7890"],
        emails=["budi@contoh.id"],
    )
    boedi = make(
        "Boedi Santoso",
        birth_date="1990-05-12",
        job_title="Pemilik Toko",
        emails=["boedi@contoh.id"],
        addresses=[{"street": "Jl. Sudirman 1", "city": "Cimahi"}],
    )
    return propose(budi, boedi, 0.93, EXPLANATION)


def post(path: str, key: str, body: Any = None) -> Any:
    return send("POST", path, key, body or {})


# --- the review queue -----------------------------------------------------------------------


def test_pending_pairs_are_listed_likeliest_first_a_page_at_a_time(manager_key: str) -> None:
    # Nothing alike, so matching on write proposes no pair of its own.
    names = ("Ani Lestari", "Budi Santoso", "Citra Dewi", "Dodi Pratama", "Eka Putri", "Fajar")
    customers = [make(name) for name in names]
    pairs = [
        propose(customers[0], customers[1], 0.85, EXPLANATION),
        propose(customers[2], customers[3], 0.97, EXPLANATION),
        propose(customers[4], customers[5], 0.85, EXPLANATION),
    ]
    first = get("/api/duplicates", manager_key, limit=2).json()
    assert [item["id"] for item in first["items"]] == [pairs[1].pk, pairs[0].pk]
    second = get("/api/duplicates", manager_key, limit=2, cursor=first["next_cursor"]).json()
    # The tie at 0.85 is broken by id, so paging neither repeats nor skips a pair.
    assert [item["id"] for item in second["items"]] == [pairs[2].pk]
    assert second["next_cursor"] is None


def test_a_listed_pair_shows_who_both_are_and_why(
    manager_key: str, budi_pair: CandidatePair
) -> None:
    (item,) = get("/api/duplicates", manager_key).json()["items"]
    assert item["score"] == 0.93
    assert item["status"] == "pending"
    assert item["explanation"] == EXPLANATION
    assert item["left"] == {
        "id": budi_pair.left_id,
        "full_name": "Budi Santoso",
        "email": "budi@contoh.id",
        "phone": "+6281234567890",
        "birth_date": "1990-05-12",
    }
    assert item["right"]["full_name"] == "Boedi Santoso"
    assert item["right"]["phone"] is None


def test_a_cursor_not_from_a_page_is_refused(manager_key: str) -> None:
    response = get("/api/duplicates", manager_key, cursor="not-a-cursor")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_one_pair_shows_the_values_a_merge_chooses_between(
    manager_key: str, budi_pair: CandidatePair
) -> None:
    pair = get(f"/api/duplicates/{budi_pair.pk}", manager_key).json()
    assert (pair["left"]["job_title"], pair["right"]["job_title"]) == ("Pedagang", "Pemilik Toko")
    assert pair["right"]["addresses"][0]["city"] == "Cimahi"
    assert pair["left"]["phones"] == [
        {"number": "+6281234567890", "is_primary": True, "is_verified": False}
    ]
    assert pair["explanation"] == EXPLANATION


def test_a_pair_is_merged_with_the_chosen_values(
    manager_key: str, budi_pair: CandidatePair
) -> None:
    response = post(
        f"/api/duplicates/{budi_pair.pk}/merge",
        manager_key,
        {"survivor_id": budi_pair.left_id, "chosen": {"job_title": "Pemilik Toko"}},
    )
    assert response.status_code == 201
    merge = response.json()
    assert (merge["survivor"], merge["merged"]) == (budi_pair.left_id, budi_pair.right_id)
    assert merge["score"] == 0.93
    assert merge["merged_by"] == "manager-api"
    assert merge["chosen"]["job_title"] == "Pemilik Toko"
    budi_pair.refresh_from_db()
    assert budi_pair.status == CandidatePair.Status.MERGED
    assert Customer.objects.get(pk=budi_pair.left_id).job_title == "Pemilik Toko"
    assert get("/api/duplicates", manager_key).json()["items"] == []
    # Decided once: a second decision is refused, saying so.
    again = post(
        f"/api/duplicates/{budi_pair.pk}/merge", manager_key, {"survivor_id": budi_pair.left_id}
    )
    assert again.status_code == 409
    assert again.json() == {"detail": "This pair was already decided: Merged."}


def test_not_the_same_person_is_remembered(manager_key: str, budi_pair: CandidatePair) -> None:
    response = post(f"/api/duplicates/{budi_pair.pk}/distinct", manager_key)
    assert response.status_code == 200
    assert response.json()["status"] == "distinct"
    assert response.json()["decided_by"] == "manager-api"
    assert get("/api/duplicates", manager_key).json()["items"] == []
    assert Customer.objects.filter(merged_into=None).count() == 2
    again = post(f"/api/duplicates/{budi_pair.pk}/distinct", manager_key)
    assert again.status_code == 409
    assert "already decided" in again.json()["detail"]


def test_an_unknown_pair_is_404(manager_key: str) -> None:
    response = get("/api/duplicates/999", manager_key)
    assert response.status_code == 404
    assert response.json() == {"detail": "pair 999: no possible duplicate has this id"}


# --- comparing and merging any two customers ------------------------------------------------


def test_two_customers_are_compared_with_the_explanation(manager_key: str) -> None:
    budi = make("Budi Santoso", birth_date="1990-05-12", emails=["budi@contoh.id"])
    boedi = make("Boedi Santoso", birth_date="1990-05-12")
    response = get(f"/api/customers/{budi.pk}/compare/{boedi.pk}", manager_key)
    assert response.status_code == 200
    comparison = response.json()
    assert (comparison["left"]["id"], comparison["right"]["id"]) == (budi.pk, boedi.pk)
    assert comparison["left"]["email"] == "budi@contoh.id"
    assert 0 < comparison["probability"] <= 1
    fields = {item["field"]: item for item in comparison["explanation"]}
    assert {"name", "birth_date"} <= set(fields)
    assert fields["birth_date"]["weight"] > 0
    assert {"level", "label", "left", "right"} <= set(fields["name"])


def test_comparing_with_an_unknown_customer_is_404(manager_key: str) -> None:
    budi = make("Budi Santoso")
    response = get(f"/api/customers/{budi.pk}/compare/999", manager_key)
    assert response.status_code == 404
    assert response.json() == {"detail": "customer 999: no customer has this id"}


def test_any_two_customers_are_merged_and_the_undo_brings_both_back(manager_key: str) -> None:
    ani = make("Ani Wijaya", emails=["ani@contoh.id"], job_title="Guru")
    anita = make("Anita Wijaya", phones=["0813-1111-2222"], job_title="Dosen")
    response = post(
        "/api/merges",
        manager_key,
        {"survivor_id": ani.pk, "merged_id": anita.pk, "reason": "Same person, new name"},
    )
    assert response.status_code == 201
    merge = response.json()
    assert (merge["survivor"], merge["merged"]) == (ani.pk, anita.pk)
    assert merge["reason"] == "Same person, new name"
    assert merge["merged_by"] == "manager-api"
    assert merge["score"] is not None  # how alike the two looked, for the record
    assert merge["undone_at"] is None
    assert get(f"/api/customers/{anita.pk}", manager_key).status_code == 307
    phones = get(f"/api/customers/{ani.pk}", manager_key).json()["phones"]
    assert [phone["number"] for phone in phones] == ["+6281311112222"]

    assert get(f"/api/merges/{merge['id']}", manager_key).json() == merge
    history = get("/api/merges", manager_key, customer_id=anita.pk).json()
    assert [item["id"] for item in history["items"]] == [merge["id"]]

    undone = post(f"/api/merges/{merge['id']}/undo", manager_key)
    assert undone.status_code == 200
    assert undone.json()["undone_at"] is not None
    assert undone.json()["undone_by"] == "manager-api"
    assert undone.json()["undo_conflicts"] == []
    back = get(f"/api/customers/{anita.pk}", manager_key)
    assert back.status_code == 200
    assert back.json()["job_title"] == "Dosen"
    assert [phone["number"] for phone in back.json()["phones"]] == ["+6281311112222"]
    kept = get(f"/api/customers/{ani.pk}", manager_key).json()
    assert [email["email"] for email in kept["emails"]] == ["ani@contoh.id"]
    assert kept["phones"] == []

    again = post(f"/api/merges/{merge['id']}/undo", manager_key)
    assert again.status_code == 409
    assert again.json()["detail"].startswith(f"Merge #{merge['id']} was already undone on ")


def test_a_customer_is_not_merged_into_itself(manager_key: str) -> None:
    budi = make("Budi Santoso")
    response = post("/api/merges", manager_key, {"survivor_id": budi.pk, "merged_id": budi.pk})
    assert response.status_code == 409
    assert response.json() == {"detail": f"Customer #{budi.pk} cannot be merged into itself."}
    assert not Merge.objects.exists()


def test_merging_a_customer_merged_already_is_a_conflict(manager_key: str) -> None:
    budi, boedi, santoso = make("Budi Santoso"), make("Boedi Santoso"), make("Santoso")
    first = post("/api/merges", manager_key, {"survivor_id": budi.pk, "merged_id": boedi.pk})
    assert first.status_code == 201
    response = post("/api/merges", manager_key, {"survivor_id": santoso.pk, "merged_id": boedi.pk})
    assert response.status_code == 409
    assert "already merged into" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"merged_id": 999}, "merged_id"),
        ({"merged_id": None}, "merged_id"),
        ({"chosen": {"email": "budi@contoh.id"}}, "chosen.email"),
        ({"reason": "x" * 256}, "reason"),
        ({"survivor": 1}, "survivor"),
    ],
)
def test_a_bad_merge_request_is_refused_naming_the_field(
    manager_key: str, change: dict[str, Any], field: str
) -> None:
    budi, boedi = make("Budi Santoso"), make("Boedi Santoso")
    body = {"survivor_id": budi.pk, "merged_id": boedi.pk, **change}
    response = post("/api/merges", manager_key, body)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert not Merge.objects.exists()


def test_an_unknown_field_is_named_as_such(manager_key: str) -> None:
    budi, boedi = make("Budi Santoso"), make("Boedi Santoso")
    body = {"survivor_id": budi.pk, "merged_id": boedi.pk, "chosen": {"shoe_size": 38}}
    [error] = post("/api/merges", manager_key, body).json()["errors"]
    assert error["field"] == "chosen.shoe_size"
    assert error["expected"].startswith("no such field")


def test_a_chosen_value_that_is_not_valid_is_refused_naming_it(manager_key: str) -> None:
    budi, boedi = make("Budi Santoso"), make("Boedi Santoso")
    body = {"survivor_id": budi.pk, "merged_id": boedi.pk, "chosen": {"birth_date": "31/02/1990"}}
    response = post("/api/merges", manager_key, body)
    # merge_customers reports it as a MergeError, like its refusals, hence 409 rather than 400.
    assert response.status_code == 409
    assert response.json()["detail"].startswith("birth_date: '31/02/1990' is not valid; expected")
    assert not Merge.objects.exists()


def test_an_unknown_merge_is_404(manager_key: str) -> None:
    assert get("/api/merges/999", manager_key).status_code == 404
    response = post("/api/merges/999/undo", manager_key)
    assert response.status_code == 404
    assert response.json() == {"detail": "merge 999: no merge has this id"}


def test_every_field_a_merge_chooses_is_shown_and_choosable() -> None:
    assert set(ChosenIn.model_fields) == set(MERGEABLE_FIELDS)
    assert set(MERGEABLE_FIELDS) <= set(ComparedCustomer.model_fields)


# --- who may do what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_only_administrators_and_managers_merge_undo_and_decide(
    key_for: Callable[[str], str], manager_key: str, budi_pair: CandidatePair, role: str
) -> None:
    key = key_for(role)
    merged = post(
        "/api/merges", manager_key, {"survivor_id": budi_pair.left_id, "merged_id": make("Ani").pk}
    )
    assert merged.status_code == 201
    merge = merged.json()
    for path, body in (
        ("/api/merges", {"survivor_id": budi_pair.left_id, "merged_id": budi_pair.right_id}),
        (f"/api/merges/{merge['id']}/undo", None),
        (f"/api/duplicates/{budi_pair.pk}/merge", {"survivor_id": budi_pair.left_id}),
        (f"/api/duplicates/{budi_pair.pk}/distinct", None),
    ):
        response = post(path, key, body)
        assert response.status_code == 403, path
        assert "is for administrators and managers" in response.json()["detail"]
    budi_pair.refresh_from_db()
    assert budi_pair.status == CandidatePair.Status.PENDING
    assert Merge.objects.get(pk=merge["id"]).undone_at is None


def test_an_administrator_decides(key_for: Callable[[str], str], budi_pair: CandidatePair) -> None:
    response = post(f"/api/duplicates/{budi_pair.pk}/distinct", key_for(Role.ADMIN))
    assert response.status_code == 200


def test_agents_see_the_queue_and_viewers_do_not(
    key_for: Callable[[str], str], budi_pair: CandidatePair
) -> None:
    # As on the duplicate pages: seeing possible duplicates belongs to changing customers.
    agent, viewer = key_for(Role.AGENT), key_for(Role.VIEWER)
    compare = f"/api/customers/{budi_pair.left_id}/compare/{budi_pair.right_id}"
    for path in ("/api/duplicates", f"/api/duplicates/{budi_pair.pk}", compare, "/api/merges"):
        assert get(path, agent).status_code == 200, path
        refused = get(path, viewer)
        assert refused.status_code == 403, path
        assert "customers.change_customer" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/duplicates"),
        ("GET", "/api/duplicates/1"),
        ("POST", "/api/duplicates/1/merge"),
        ("POST", "/api/duplicates/1/distinct"),
        ("GET", "/api/customers/1/compare/2"),
        ("GET", "/api/merges"),
        ("POST", "/api/merges"),
        ("GET", "/api/merges/1"),
        ("POST", "/api/merges/1/undo"),
    ],
)
def test_every_endpoint_needs_credentials(method: str, path: str) -> None:
    response = Client().generic(method, path, "{}", content_type="application/json")
    assert response.status_code == 401


# --- schema ---------------------------------------------------------------------------------


def test_the_openapi_schema_lists_the_endpoints() -> None:
    paths = Client().get("/api/openapi.json").json()["paths"]
    expected = {
        "/api/duplicates": {"get"},
        "/api/duplicates/{pair_id}": {"get"},
        "/api/duplicates/{pair_id}/merge": {"post"},
        "/api/duplicates/{pair_id}/distinct": {"post"},
        "/api/customers/{customer_id}/compare/{other_id}": {"get"},
        "/api/merges": {"get", "post"},
        "/api/merges/{merge_id}": {"get"},
        "/api/merges/{merge_id}/undo": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    assert "409" in paths["/api/merges"]["post"]["responses"]
