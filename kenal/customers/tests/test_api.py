"""The REST API's customer endpoints, through Django's full stack (middleware, URLs, CSRF):
authentication by key and session, role permissions, paging, identity-matched creation,
errors naming field and value, merged customers and the OpenAPI schema."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kenal.accounts.models import Role, User
from kenal.accounts.services import apply_role, create_api_key, revoke_api_key
from kenal.customers import services
from kenal.customers.models import Customer, SourceRecord
from kenal.customers.services import Origin
from kenal.customers.tests.test_views import make

CUSTOMERS = "/api/customers"


@pytest.fixture
def agent_key(key_for: Callable[[str], str]) -> str:
    return key_for(Role.AGENT)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def get(path: str, key: str, **params: Any) -> Any:
    return Client().get(path, params, headers=bearer(key))


def send(method: str, path: str, key: str, body: Any) -> Any:
    return Client().generic(
        method, path, json_body(body), content_type="application/json", headers=bearer(key)
    )


def json_body(body: Any) -> str:
    return json.dumps(body)


# --- schema and documentation ---------------------------------------------------------------


@pytest.mark.django_db
def test_openapi_schema_is_served_without_signing_in() -> None:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Kenal API"
    assert schema["info"]["version"] == "1"
    assert {"/api/customers", "/api/customers/{customer_id}"} <= set(schema["paths"])
    assert {"get", "post"} <= set(schema["paths"]["/api/customers"])
    assert "patch" in schema["paths"]["/api/customers/{customer_id}"]
    assert "/api/customers/{customer_id}/source-records" in schema["paths"]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["BearerKey"] == {"type": "http", "scheme": "bearer"}
    assert schemes["HeaderKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["StaffSession"]["in"] == "cookie"


@pytest.mark.django_db
def test_interactive_documentation_is_served() -> None:
    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert "/api/openapi.json" in response.content.decode()


@pytest.mark.django_db
def test_interactive_documentation_works_offline() -> None:
    html = Client().get("/api/docs").content.decode()
    assert "cdn." not in html
    assets = re.findall(r'(?:href|src)="(/static/ninja/[^"]+)"', html)
    assert assets
    for asset in assets:
        response = Client().get(asset)
        assert response.status_code == 200, asset
        response.close()


# --- authentication -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", CUSTOMERS),
        ("post", CUSTOMERS),
        ("get", f"{CUSTOMERS}/1"),
        ("patch", f"{CUSTOMERS}/1"),
        ("get", f"{CUSTOMERS}/1/source-records"),
    ],
)
def test_every_endpoint_needs_credentials(method: str, path: str) -> None:
    # JSON 401, not the web UI's redirect to the login page.
    response = Client().generic(method.upper(), path, "{}", content_type="application/json")
    assert response.status_code == 401
    assert "Authorization: Bearer <key>" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_a_key_is_accepted_as_bearer_token_and_as_x_api_key(agent_key: str) -> None:
    make("Budi Santoso")
    by_bearer = Client().get(CUSTOMERS, headers={"Authorization": f"Bearer {agent_key}"})
    by_header = Client().get(CUSTOMERS, headers={"X-API-Key": agent_key})
    assert by_bearer.status_code == by_header.status_code == 200
    assert by_bearer.json() == by_header.json()
    assert by_bearer.json()["items"][0]["full_name"] == "Budi Santoso"


@pytest.mark.django_db
def test_an_unknown_key_is_refused(agent_key: str) -> None:
    response = get(CUSTOMERS, agent_key[:-1] + ("A" if agent_key[-1] != "A" else "B"))
    assert response.status_code == 401
    assert response.json() == {"detail": "The API key is not valid."}


@pytest.mark.django_db
def test_a_wrong_key_does_not_fall_back_to_the_session(
    login: Callable[..., Client], agent_key: str
) -> None:
    client = login(Role.AGENT)
    assert client.get(CUSTOMERS).status_code == 200
    assert client.get(CUSTOMERS, headers={"X-API-Key": "kenal_wrong"}).status_code == 401


@pytest.mark.django_db
def test_a_revoked_key_is_refused(make_user: Callable[..., User]) -> None:
    api_key, key = create_api_key("shop", make_user("ani", Role.AGENT))
    assert get(CUSTOMERS, key).status_code == 200
    revoke_api_key(api_key)
    response = get(CUSTOMERS, key)
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert detail.startswith(f"The API key {api_key.display_prefix} was revoked on ")


@pytest.mark.django_db
def test_the_key_of_a_deactivated_user_is_refused(make_user: Callable[..., User]) -> None:
    user = make_user("ani", Role.AGENT)
    _api_key, key = create_api_key("shop", user)
    user.is_active = False
    user.save()
    response = get(CUSTOMERS, key)
    assert response.status_code == 401
    assert "acts as ani, who is deactivated" in response.json()["detail"]


# --- session authentication and CSRF --------------------------------------------------------


def csrf_client(login: Callable[..., Client], role: str = Role.AGENT) -> tuple[Client, str]:
    """A signed-in browser-like client that enforces CSRF, and its CSRF token."""
    client = login(role)
    client.handler.enforce_csrf_checks = True
    client.get("/customers/")  # any page with a form sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


@pytest.mark.django_db
def test_a_signed_in_staff_member_reads_without_a_csrf_token(login: Callable[..., Client]) -> None:
    client, _token = csrf_client(login)
    make("Budi Santoso")
    assert client.get(CUSTOMERS).status_code == 200


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(login: Callable[..., Client]) -> None:
    client, token = csrf_client(login)
    budi = make("Budi Santoso")
    body = json_body({"full_name": "Budi Santosa"})
    path = f"{CUSTOMERS}/{budi.pk}"
    for method, target in (("POST", CUSTOMERS), ("PATCH", path)):
        refused = client.generic(method, target, body, content_type="application/json")
        assert refused.status_code == 403, method
        assert refused.json()["detail"].startswith("CSRF check failed")
    budi.refresh_from_db()
    assert budi.full_name == "Budi Santoso"
    accepted = client.generic(
        "PATCH", path, body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 200
    assert accepted.json()["full_name"] == "Budi Santosa"


@pytest.mark.django_db
def test_a_key_needs_no_csrf_token(agent_key: str) -> None:
    client = Client(enforce_csrf_checks=True)
    budi = make("Budi Santoso")
    response = client.patch(
        f"{CUSTOMERS}/{budi.pk}",
        json_body({"company": "Toko Budi"}),
        content_type="application/json",
        headers=bearer(agent_key),
    )
    assert response.status_code == 200


# --- role permissions -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_viewer_key_reads_but_cannot_write(key_for: Callable[[str], str]) -> None:
    key = key_for(Role.VIEWER)
    budi = make("Budi Santoso")
    assert get(CUSTOMERS, key).status_code == 200
    assert get(f"{CUSTOMERS}/{budi.pk}", key).status_code == 200
    assert get(f"{CUSTOMERS}/{budi.pk}/source-records", key).status_code == 200
    created = send("POST", CUSTOMERS, key, {"full_name": "Ani"})
    assert created.status_code == 403
    assert created.json() == {
        "detail": "viewer-api (role viewer) may not do this: it needs the permission "
        "customers.add_customer."
    }
    changed = send("PATCH", f"{CUSTOMERS}/{budi.pk}", key, {"full_name": "Ani"})
    assert changed.status_code == 403
    assert "customers.change_customer" in changed.json()["detail"]
    assert list(Customer.objects.values_list("full_name", flat=True)) == ["Budi Santoso"]


@pytest.mark.django_db
def test_a_key_follows_its_users_current_role(make_user: Callable[..., User]) -> None:
    user = make_user("ani", Role.AGENT)
    key = create_api_key("shop", user)[1]
    budi = make("Budi Santoso")
    assert send("PATCH", f"{CUSTOMERS}/{budi.pk}", key, {"company": "A"}).status_code == 200
    apply_role(user, Role.VIEWER)
    assert send("PATCH", f"{CUSTOMERS}/{budi.pk}", key, {"company": "B"}).status_code == 403


# --- list and paging ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_pages_with_a_cursor(agent_key: str) -> None:
    ids = [make(f"Pelanggan {chr(65 + n)}").pk for n in range(5)]
    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        page = get(CUSTOMERS, agent_key, limit=2, cursor=cursor).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == ids
    assert pages == 3


@pytest.mark.django_db
def test_a_page_is_not_shifted_by_customers_added_meanwhile(agent_key: str) -> None:
    first = [make(f"Pelanggan {chr(65 + n)}").pk for n in range(3)]
    page = get(CUSTOMERS, agent_key, limit=2).json()
    added = make("Added while paging").pk
    rest = get(CUSTOMERS, agent_key, limit=10, cursor=page["next_cursor"]).json()
    assert [item["id"] for item in rest["items"]] == [first[2], added]


@pytest.mark.django_db
def test_the_list_searches_and_filters(agent_key: str) -> None:
    make("Budi Santoso", emails=["budi@contoh.id"], phones=["0812-3456-7890"], tags=["vip"])
    make("Siti Aminah", lifecycle_stage="loyal")

    def names(**params: Any) -> list[str]:
        return [item["full_name"] for item in get(CUSTOMERS, agent_key, **params).json()["items"]]

    assert names(q="BUDI@contoh.id") == ["Budi Santoso"]
    assert names(q="+62 812 3456 7890") == ["Budi Santoso"]
    assert names(q="sit ami") == ["Siti Aminah"]
    assert names(stage="loyal") == ["Siti Aminah"]
    assert names(tag="vip") == ["Budi Santoso"]


@pytest.mark.django_db
def test_merged_customers_are_left_out_of_the_list(agent_key: str) -> None:
    survivor = make("Budi Santoso")
    merged = make("Budi S.")
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
    items = get(CUSTOMERS, agent_key).json()["items"]
    assert [item["id"] for item in items] == [survivor.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "value"),
    [
        ({"limit": "0"}, "limit", "0"),
        ({"limit": "many"}, "limit", "many"),
        ({"cursor": "not-a-cursor"}, "cursor", "not-a-cursor"),
        ({"stage": "royal"}, "lifecycle_stage", "royal"),
    ],
)
def test_bad_list_parameters_name_field_and_value(
    agent_key: str, params: dict[str, str], field: str, value: str
) -> None:
    response = get(CUSTOMERS, agent_key, **params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["value"]) == (field, value)
    assert error["expected"]


# --- one customer ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_customer_in_full(agent_key: str, make_user: Callable[..., User]) -> None:
    make_user("rina", Role.MANAGER)
    budi = make(
        "Budi Santoso",
        birth_date="17/05/1990",
        emails=[{"email": "budi@contoh.id", "is_verified": "yes"}, "budi@kerja.id"],
        phones=["0812-3456-7890"],
        addresses=[{"street": "Jl. Merdeka 1", "city": "Bandung", "country": "ID"}],
        tags=["vip"],
        owner="rina",
    )
    response = get(f"{CUSTOMERS}/{budi.pk}", agent_key)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == budi.pk
    assert body["birth_date"] == "1990-05-17"
    assert body["owner"] == "rina"
    assert body["emails"] == [
        {"email": "budi@contoh.id", "is_primary": True, "is_verified": True},
        {"email": "budi@kerja.id", "is_primary": False, "is_verified": False},
    ]
    assert body["phones"][0]["number"] == "+6281234567890"
    assert body["addresses"][0]["city"] == "Bandung"
    assert body["tags"] == ["vip"]
    assert body["merged_into"] is None


@pytest.mark.django_db
def test_an_unknown_customer_is_404(agent_key: str) -> None:
    response = get(f"{CUSTOMERS}/999999", agent_key)
    assert response.status_code == 404
    assert response.json() == {"detail": "customer 999999: no customer has this id"}


@pytest.mark.django_db
def test_a_merged_customer_redirects_to_the_survivor(agent_key: str) -> None:
    survivor = make("Budi Santoso")
    merged = make("Budi S.")
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
    response = get(f"{CUSTOMERS}/{merged.pk}", agent_key)
    # Temporary: the merge can be undone.
    assert response.status_code == 307
    assert response["Location"] == f"{CUSTOMERS}/{survivor.pk}"
    assert response.json()["merged_into"] == survivor.pk
    records = get(f"{CUSTOMERS}/{merged.pk}/source-records", agent_key)
    assert records.status_code == 307
    assert records["Location"] == f"{CUSTOMERS}/{survivor.pk}/source-records"
    assert get(response["Location"], agent_key).json()["id"] == survivor.pk
    patched = send("PATCH", f"{CUSTOMERS}/{merged.pk}", agent_key, {"company": "X"})
    assert patched.status_code == 409
    assert patched.json()["merged_into"] == survivor.pk


# --- create through identity resolution -----------------------------------------------------


@pytest.mark.django_db
def test_create_then_the_same_person_again_matches(agent_key: str) -> None:
    body = {
        "full_name": "Budi Santoso",
        "emails": ["budi@contoh.id"],
        "source": "shop",
        "external_id": "C-1",
    }
    created = send("POST", CUSTOMERS, agent_key, body)
    assert created.status_code == 201, created.json()
    first = created.json()
    assert first["decision"] == "created"
    assert first["customer"]["emails"][0]["email"] == "budi@contoh.id"
    record = SourceRecord.objects.get(customer_id=first["customer"]["id"])
    assert (record.source, record.external_id) == ("shop", "C-1")
    # Kept exactly as sent: the email as text, not as the object the schema reads it as.
    assert record.data == {"full_name": "Budi Santoso", "emails": ["budi@contoh.id"]}
    assert record.received_by is not None
    assert record.received_by.username == "agent-api"
    again = send("POST", CUSTOMERS, agent_key, {**body, "phones": ["0812 3456 7890"]})
    assert again.status_code == 200, again.json()
    second = again.json()
    assert second["decision"] == "matched"
    assert second["customer"]["id"] == first["customer"]["id"]
    assert second["customer"]["phones"][0]["number"] == "+6281234567890"
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_create_with_an_invalid_email_names_field_and_value(agent_key: str) -> None:
    response = send("POST", CUSTOMERS, agent_key, {"full_name": "Ani", "emails": ["ani@"]})
    assert response.status_code == 400
    body = response.json()
    [error] = body["errors"]
    assert error["field"] == "emails[0].email"
    assert error["value"] == "ani@"
    assert "email" in error["expected"]
    assert "emails[0].email: 'ani@' is not valid" in body["detail"]
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_a_refused_create_keeps_what_was_sent(agent_key: str) -> None:
    response = send("POST", CUSTOMERS, agent_key, {"full_name": "Ani", "emails": ["ani@"]})
    assert response.status_code == 400
    rejected = SourceRecord.objects.get(pk=response.json()["source_record"])
    assert rejected.status == SourceRecord.Status.REJECTED
    assert rejected.data == {"full_name": "Ani", "emails": ["ani@"]}


@pytest.mark.django_db
def test_create_refuses_unknown_fields_and_wrong_types_by_name(agent_key: str) -> None:
    unknown = send("POST", CUSTOMERS, agent_key, {"full_name": "Ani", "shoe_size": 38})
    assert unknown.status_code == 400
    [error] = unknown.json()["errors"]
    assert (error["field"], error["value"]) == ("shoe_size", "38")
    wrong_type = send("POST", CUSTOMERS, agent_key, {"full_name": ["Ani"], "tags": "vip"})
    assert wrong_type.status_code == 400
    fields = {error["field"]: error for error in wrong_type.json()["errors"]}
    assert set(fields) == {"full_name", "tags"}
    assert fields["full_name"]["value"] == "['Ani']"
    assert fields["tags"]["expected"] == "a valid list"
    assert not Customer.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "value", "expected"),
    [
        (
            {"emails": [{"is_primary": True}]},
            "emails[0].email",
            "",
            "a value: the field is required",
        ),
        ({"phones": [812]}, "phones[0]", "812", "a valid dictionary or instance of PhoneIn"),
        ([], "body", "[]", "a valid dictionary or instance of CustomerIn"),
    ],
)
def test_a_body_of_the_wrong_shape_names_field_and_value(
    agent_key: str, body: Any, field: str, value: str, expected: str
) -> None:
    response = send("POST", CUSTOMERS, agent_key, body)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["value"], error["expected"]) == (field, value, expected)


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_refused(agent_key: str) -> None:
    response = Client().post(
        CUSTOMERS, "{not json", content_type="application/json", headers=bearer(agent_key)
    )
    assert response.status_code == 400
    assert response.json()["detail"]


# --- update ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_patch_changes_only_the_fields_sent(agent_key: str) -> None:
    budi = make("Budi Santoso", company="Toko Budi", emails=["budi@contoh.id"])
    response = send(
        "PATCH", f"{CUSTOMERS}/{budi.pk}", agent_key, {"job_title": "Owner", "company": None}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["job_title"], body["company"]) == ("Owner", "")
    assert body["emails"][0]["email"] == "budi@contoh.id"
    record = SourceRecord.objects.filter(customer=budi).first()
    assert record is not None
    assert (record.source, record.data) == ("api", {"job_title": "Owner", "company": None})


@pytest.mark.django_db
def test_a_customer_can_be_marked_do_not_contact(agent_key: str) -> None:
    budi = make("Budi Santoso")
    assert get(f"{CUSTOMERS}/{budi.pk}", agent_key).json()["do_not_contact"] is False
    response = send("PATCH", f"{CUSTOMERS}/{budi.pk}", agent_key, {"do_not_contact": True})
    assert response.json()["do_not_contact"] is True
    budi.refresh_from_db()
    assert budi.do_not_contact


@pytest.mark.django_db
def test_an_empty_patch_writes_nothing(agent_key: str) -> None:
    budi = make("Budi Santoso")
    response = send("PATCH", f"{CUSTOMERS}/{budi.pk}", agent_key, {})
    assert response.status_code == 200
    assert SourceRecord.objects.filter(customer=budi).count() == 1


@pytest.mark.django_db
def test_a_refused_patch_keeps_what_was_sent(agent_key: str) -> None:
    budi = make("Budi Santoso", phones=["081234567890"])
    response = send("PATCH", f"{CUSTOMERS}/{budi.pk}", agent_key, {"phones": ["12"]})
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "phones[0].number"
    rejected = SourceRecord.objects.get(pk=body["source_record"])
    assert rejected.status == SourceRecord.Status.REJECTED
    assert rejected.data == {"phones": ["12"]}
    assert budi.phones.get().number == "+6281234567890"


# --- source records -------------------------------------------------------------------------


@pytest.mark.django_db
def test_source_records_newest_first_a_page_at_a_time(agent_key: str) -> None:
    budi = make("Budi Santoso")
    for title in ("Owner", "Director"):
        services.update_customer(budi, {"job_title": title}, Origin(source="crm"))
    first = get(f"{CUSTOMERS}/{budi.pk}/source-records", agent_key, limit=2).json()
    assert [item["data"] for item in first["items"]] == [
        {"job_title": "Director"},
        {"job_title": "Owner"},
    ]
    assert first["items"][0]["source"] == "crm"
    rest = get(
        f"{CUSTOMERS}/{budi.pk}/source-records", agent_key, cursor=first["next_cursor"]
    ).json()
    assert [item["data"] for item in rest["items"]] == [{"full_name": "Budi Santoso"}]
    assert rest["next_cursor"] is None
