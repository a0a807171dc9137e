"""GET /api/lookup and GET /api/caller through Django's full stack: keys, sessions,
permissions, errors and the payloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kenal.accounts.models import Role, User
from kenal.accounts.services import create_api_key
from kenal.activity.models import Ticket
from kenal.customers.models import Customer
from kenal.identity.merging import merge_customers
from kenal.lookup.tests.helpers import make, order, service, ticket

pytestmark = pytest.mark.django_db

LOOKUP = "/api/lookup"
CALLER = "/api/caller"


def get(path: str, key: str, **params: Any) -> Any:
    return Client().get(path, params, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def viewer_key(key_for: Callable[[str], str]) -> str:
    return key_for(Role.VIEWER)


@pytest.fixture
def sri() -> Customer:
    return make("Sri Wahyuni", phones=["0812-3456-7890"], emails=["sri@contoh.co.id"])


def test_lookup_answers_with_ranked_explained_results(viewer_key: str, sri: Customer) -> None:
    make("Sri Wahyuni Putri")
    response = get(LOOKUP, viewer_key, q="wahyni sri")
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "wahyni sri"
    assert [result["full_name"] for result in body["results"]] == [
        "Sri Wahyuni",
        "Sri Wahyuni Putri",
    ]
    first = body["results"][0]
    assert first == {
        "id": sri.pk,
        "full_name": "Sri Wahyuni",
        "primary_phone": "+6281234567890",
        "primary_email": "sri@contoh.co.id",
        "lifecycle_stage": "prospect",
        "do_not_contact": False,
        "url": f"/customers/{sri.pk}/",
        "rank": 4,
        "score": first["score"],
        "reasons": [
            {
                "kind": "name",
                "field": "full_name",
                "value": "Sri Wahyuni",
                "detail": "Name close to the words typed (wahyni → wahyuni)",
                "merged_customer": None,
            }
        ],
    }
    assert body["results"][1]["score"] < first["score"] <= 1


def test_lookup_by_phone_in_another_format(viewer_key: str, sri: Customer) -> None:
    body = get(LOOKUP, viewer_key, q="62 812 3456 7890").json()
    assert [(r["id"], r["rank"], r["reasons"][0]["kind"]) for r in body["results"]] == [
        (sri.pk, 0, "phone")
    ]


def test_lookup_limit_and_refusals(viewer_key: str) -> None:
    for letter in "abc":
        make(f"Dewi Lestari {letter}")
    assert len(get(LOOKUP, viewer_key, q="dewi", limit=2).json()["results"]) == 2
    missing = get(LOOKUP, viewer_key)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "q"
    too_many = get(LOOKUP, viewer_key, q="dewi", limit=500)
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["field"] == "limit"


def test_lookup_returns_the_survivor_of_a_merge(viewer_key: str) -> None:
    survivor = make("Budi Santoso")
    merged = make("Boedi Santoso", emails=["boedi@contoh.id"])
    merge_customers(survivor, merged, actor=None)
    results = get(LOOKUP, viewer_key, q="Boedi Santoso").json()["results"]
    assert [result["id"] for result in results] == [survivor.pk]
    assert results[0]["reasons"][0]["merged_customer"] == merged.pk


def test_the_caller_endpoint_says_who_calls_and_what_is_open(
    viewer_key: str, sri: Customer
) -> None:
    order(sri, "SHP-1", days_ago=20)
    last = order(sri, "INV/2026/9", days_ago=1, source="tokopedia")
    open_ticket = ticket(sri, "Paket belum sampai")
    ticket(sri, "Selesai", status=Ticket.Status.RESOLVED)
    overdue = service(sri, "Servis AC", due_in_days=-3)
    service(sri, "Ganti oli", due_in_days=7)

    response = get(CALLER, viewer_key, phone="0812 3456 7890")

    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "+6281234567890"
    (card,) = body["customers"]
    assert card["id"] == sri.pk
    assert card["full_name"] == "Sri Wahyuni"
    assert card["url"] == f"/customers/{sri.pk}/"
    assert card["last_order"] == {
        "id": last.pk,
        "order_number": "INV/2026/9",
        "source": "tokopedia",
        "ordered_at": card["last_order"]["ordered_at"],
        "status": "completed",
        "currency": "IDR",
        "total": "150000.00",
    }
    assert [item["id"] for item in card["open_tickets"]] == [open_ticket.pk]
    assert card["open_tickets"][0]["subject"] == "Paket belum sampai"
    assert card["open_tickets"][0]["status"] == "open"
    assert card["overdue_services"] == [
        {
            "id": overdue.pk,
            "name": "Servis AC",
            "next_due": overdue.next_due.isoformat() if overdue.next_due else None,
            "days_overdue": 3,
        }
    ]


def test_the_caller_endpoint_for_a_customer_with_nothing_open(
    viewer_key: str, sri: Customer
) -> None:
    card = get(CALLER, viewer_key, phone="+62 812-3456-7890").json()["customers"][0]
    assert (card["last_order"], card["open_tickets"], card["overdue_services"]) == (None, [], [])


def test_the_caller_endpoint_for_an_unknown_or_invalid_number(viewer_key: str) -> None:
    unknown = get(CALLER, viewer_key, phone="0812-0000-1111")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "No customer has the phone number +6281200001111."}
    invalid = get(CALLER, viewer_key, phone="budi")
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["field"] == "phone"


# --- who may ask -------------------------------------------------------------------------------


def test_without_credentials_the_answer_is_401() -> None:
    for path, params in ((LOOKUP, {"q": "budi"}), (CALLER, {"phone": "0812"})):
        response = Client().get(path, params)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="Kenal API"'


def test_a_user_without_the_view_permission_gets_403(make_user: Callable[..., User]) -> None:
    user = make_user("no-rights", Role.VIEWER)
    user.groups.clear()
    key = create_api_key("no rights", user)[1]
    refused = get(LOOKUP, key, q="budi")
    assert refused.status_code == 403
    assert "customers.view_customer" in refused.json()["detail"]
    assert get(CALLER, key, phone="0812-3456-7890").status_code == 403


def test_a_key_works_in_either_header_and_a_session_works_too(
    viewer_key: str, sri: Customer, login: Callable[..., Client]
) -> None:
    in_header = Client().get(LOOKUP, {"q": "sri"}, headers={"X-API-Key": viewer_key})
    assert [result["id"] for result in in_header.json()["results"]] == [sri.pk]
    session = login(Role.AGENT)
    assert session.get(CALLER, {"phone": "081234567890"}).status_code == 200
    revoked = Client().get(LOOKUP, {"q": "sri"}, headers={"X-API-Key": "kenal_wrong"})
    assert revoked.status_code == 401


def test_the_endpoints_are_in_the_openapi_schema() -> None:
    paths = Client().get("/api/openapi.json").json()["paths"]
    assert "get" in paths[LOOKUP]
    assert "get" in paths[CALLER]
