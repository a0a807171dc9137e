"""The REST API's activity endpoints, through Django's full stack: interactions, tickets,
services, feedback, orders and traits; values refused by field and value; role permissions;
merged customers; paging; traits current right after each write; the OpenAPI schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kenal.accounts.models import Role, User
from kenal.activity import services
from kenal.activity.models import (
    CustomerTraits,
    Feedback,
    Interaction,
    Order,
    OrderItem,
    Product,
    Subscription,
    Ticket,
)
from kenal.customers.models import Customer
from kenal.customers.tests.test_views import make

API = "/api"


# --- helpers --------------------------------------------------------------------------------


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def get(path: str, key: str, **params: Any) -> Any:
    return Client().get(f"{API}{path}", params, headers=bearer(key))


def send(method: str, path: str, key: str, body: Any = None) -> Any:
    data = "" if body is None else json.dumps(body)
    return Client().generic(
        method, f"{API}{path}", data, content_type="application/json", headers=bearer(key)
    )


def post(path: str, key: str, body: Any = None) -> Any:
    return send("POST", path, key, body)


def refused(response: Any) -> list[tuple[str, str]]:
    """The (field, value) of each error of a 400 answer, which every error also explains."""
    assert response.status_code == 400, response.content
    body = response.json()
    for error in body["errors"]:
        assert error["expected"]
        assert error["field"] in error["message"]
        assert error["message"] in body["detail"]
    return [(error["field"], error["value"]) for error in body["errors"]]


def traits_of(customer: Customer, key: str) -> dict[str, Any]:
    response = get(f"/customers/{customer.pk}/traits", key)
    assert response.status_code == 200, response.content
    result: dict[str, Any] = response.json()
    return result


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user("rina", Role.AGENT)


@pytest.fixture
def agent_key(agent: User) -> str:
    from kenal.accounts.services import create_api_key

    return create_api_key("call centre", agent)[1]


@pytest.fixture
def budi(db: None) -> Customer:
    return make("Budi Santoso")


def order_for(customer: Customer, number: str, ordered_at: datetime, *lines: Any) -> Order:
    """An order of ``lines`` (sku, category, quantity, unit price), as an import writes one."""
    total = sum((Decimal(price) * quantity for _sku, _cat, quantity, price in lines), Decimal(0))
    order = Order.objects.create(
        customer=customer,
        source="shop",
        order_number=number,
        ordered_at=ordered_at,
        total=total,
        channel="tokopedia",
    )
    for sku, category, quantity, price in lines:
        product, _created = Product.objects.get_or_create(
            sku=sku, defaults={"name": sku.title(), "category": category}
        )
        OrderItem.objects.create(
            order=order, product=product, quantity=quantity, unit_price=Decimal(price)
        )
    return order


# --- schema, authentication, permissions ----------------------------------------------------

CUSTOMER_PATHS = [
    f"/api/customers/{{customer_id}}/{part}"
    for part in ("interactions", "tickets", "services", "feedback", "orders", "traits")
]


@pytest.mark.django_db
def test_the_openapi_schema_has_every_activity_endpoint() -> None:
    paths = Client().get("/api/openapi.json").json()["paths"]
    for path in CUSTOMER_PATHS:
        assert "get" in paths[path], path
    for part in ("interactions", "tickets", "services", "feedback"):
        assert "post" in paths[f"/api/customers/{{customer_id}}/{part}"], part
    assert {"patch", "delete"} <= set(paths["/api/tickets/{ticket_id}"])
    assert "post" in paths["/api/services/{service_id}/done"]
    assert "delete" in paths["/api/services/{service_id}"]
    assert "delete" in paths["/api/interactions/{interaction_id}"]
    assert "delete" in paths["/api/feedback/{feedback_id}"]
    # Refusals are documented in the customer API's error shape.
    post_op = paths["/api/customers/{customer_id}/feedback"]["post"]
    error = post_op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert error.endswith("/ErrorOut")


ENDPOINTS = [
    *(("GET", f"/customers/1/{part}") for part in ("interactions", "tickets", "services")),
    *(("GET", f"/customers/1/{part}") for part in ("feedback", "orders", "traits")),
    *(("POST", f"/customers/1/{part}") for part in ("interactions", "tickets", "services")),
    ("POST", "/customers/1/feedback"),
    ("PATCH", "/tickets/1"),
    ("POST", "/services/1/done"),
    *(("DELETE", f"/{part}/1") for part in ("interactions", "tickets", "services", "feedback")),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_credentials(method: str, path: str) -> None:
    response = Client().generic(method, f"{API}{path}", "{}", content_type="application/json")
    assert response.status_code == 401
    assert "Authorization: Bearer <key>" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_a_viewer_key_reads_everything_but_writes_nothing(
    key_for: Callable[[str], str], agent_key: str, budi: Customer
) -> None:
    viewer = key_for(Role.VIEWER)
    interaction = post(
        f"/customers/{budi.pk}/interactions", agent_key, {"kind": "call", "direction": "inbound"}
    ).json()
    ticket = post(f"/customers/{budi.pk}/tickets", agent_key, {"subject": "Rusak"}).json()
    service = post(
        f"/customers/{budi.pk}/services", agent_key, {"name": "Servis AC", "interval_days": 90}
    ).json()
    feedback = post(f"/customers/{budi.pk}/feedback", agent_key, {"kind": "nps", "score": 9}).json()
    for part in ("interactions", "tickets", "services", "feedback", "orders", "traits"):
        assert get(f"/customers/{budi.pk}/{part}", viewer).status_code == 200, part
    writes = [
        ("POST", f"/customers/{budi.pk}/interactions", {"kind": "call", "direction": "inbound"}),
        ("POST", f"/customers/{budi.pk}/tickets", {"subject": "Rusak lagi"}),
        ("POST", f"/customers/{budi.pk}/services", {"name": "Servis AC"}),
        ("POST", f"/customers/{budi.pk}/feedback", {"kind": "nps", "score": 3}),
        ("PATCH", f"/tickets/{ticket['id']}", {"status": "closed"}),
        ("POST", f"/services/{service['id']}/done", {}),
        ("DELETE", f"/interactions/{interaction['id']}", None),
        ("DELETE", f"/tickets/{ticket['id']}", None),
        ("DELETE", f"/services/{service['id']}", None),
        ("DELETE", f"/feedback/{feedback['id']}", None),
    ]
    for method, path, body in writes:
        response = send(method, path, viewer, body)
        assert response.status_code == 403, (method, path)
        assert "needs the permission activity." in response.json()["detail"]
    assert Interaction.objects.count() == Ticket.objects.count() == 1
    assert Subscription.objects.count() == Feedback.objects.count() == 1
    assert Ticket.objects.get().status == Ticket.Status.OPEN


@pytest.mark.django_db
def test_agents_record_activity_but_only_managers_delete_it(
    key_for: Callable[[str], str], agent_key: str, budi: Customer
) -> None:
    ticket = post(f"/customers/{budi.pk}/tickets", agent_key, {"subject": "Rusak"}).json()
    response = send("DELETE", f"/tickets/{ticket['id']}", agent_key)
    assert response.status_code == 403
    assert "activity.delete_ticket" in response.json()["detail"]
    assert traits_of(budi, agent_key)["open_tickets"] == 1

    manager = key_for(Role.MANAGER)
    deleted = send("DELETE", f"/tickets/{ticket['id']}", manager)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert not Ticket.objects.exists()
    assert traits_of(budi, agent_key)["open_tickets"] == 0  # the traits no longer count it
    assert send("DELETE", f"/tickets/{ticket['id']}", manager).status_code == 404


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(login: Callable[..., Client], budi: Customer) -> None:
    client = login(Role.AGENT)
    client.handler.enforce_csrf_checks = True
    client.get("/customers/")  # a page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    path = f"{API}/customers/{budi.pk}/feedback"
    body = json.dumps({"kind": "rating", "score": 5})
    response = client.post(path, body, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF check failed")
    assert not Feedback.objects.exists()
    accepted = client.post(path, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    assert client.get(path).json()["items"][0]["score"] == 5


@pytest.mark.django_db
def test_unknown_customers_and_rows_are_404(agent_key: str, key_for: Callable[[str], str]) -> None:
    response = get("/customers/999999/interactions", agent_key)
    assert response.status_code == 404
    assert response.json() == {"detail": "customer 999999: no customer has this id"}
    body = {"kind": "call", "direction": "inbound"}
    assert post("/customers/999999/interactions", agent_key, body).status_code == 404
    missing = send("PATCH", "/tickets/999999", agent_key, {"status": "closed"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "ticket 999999: no ticket has this id"}
    assert post("/services/999999/done", agent_key).status_code == 404
    assert send("DELETE", "/feedback/999999", key_for(Role.MANAGER)).status_code == 404


# --- interactions ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_log_a_call_then_the_last_contact_traits_show_it(
    agent_key: str, agent: User, budi: Customer
) -> None:
    before = traits_of(budi, agent_key)
    assert before["computed_at"] is None  # no activity yet
    assert before["last_contact_at"] is None
    assert before["last_contact_by"] is None

    response = post(
        f"/customers/{budi.pk}/interactions",
        agent_key,
        {
            "kind": "call",
            "direction": "outbound",
            "channel": "phone",
            "outcome": "reached",
            "summary": " Menanyakan jadwal servis ",
            "occurred_at": "2024-03-05T10:30:00+07:00",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == budi.pk
    assert (body["kind"], body["direction"], body["outcome"]) == ("call", "outbound", "reached")
    assert body["staff"] == "rina"  # left out: the staff member the key acts as
    assert body["summary"] == "Menanyakan jadwal servis"
    assert datetime.fromisoformat(body["occurred_at"]) == datetime.fromisoformat(
        "2024-03-05T10:30:00+07:00"
    )

    after = traits_of(budi, agent_key)
    assert datetime.fromisoformat(after["last_contact_at"]) == datetime.fromisoformat(
        "2024-03-05T10:30:00+07:00"
    )
    assert after["last_contact_channel"] == "phone"
    assert after["last_contact_by"] == "rina"
    assert after["computed_at"] is not None


@pytest.mark.django_db
def test_an_interaction_names_its_staff_by_username(
    agent_key: str, make_user: Callable[..., User], budi: Customer
) -> None:
    make_user("dewi", Role.AGENT)
    by_dewi = post(
        f"/customers/{budi.pk}/interactions",
        agent_key,
        {"kind": "chat", "direction": "inbound", "channel": "whatsapp", "staff": "Dewi"},
    )
    assert by_dewi.status_code == 201
    assert by_dewi.json()["staff"] == "dewi"
    nobody = post(
        f"/customers/{budi.pk}/interactions",
        agent_key,
        {"kind": "visit", "direction": "inbound", "staff": None},
    )
    assert nobody.json()["staff"] is None
    items = get(f"/customers/{budi.pk}/interactions", agent_key).json()["items"]
    assert [item["staff"] for item in items] == [None, "dewi"]  # latest first


@pytest.mark.django_db
def test_a_refused_interaction_names_every_field_and_value(agent_key: str, budi: Customer) -> None:
    tomorrow = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    response = post(
        f"/customers/{budi.pk}/interactions",
        agent_key,
        {"kind": "fax", "direction": "sideways", "occurred_at": tomorrow.isoformat()},
    )
    errors = refused(response)
    assert [field for field, _value in errors] == ["kind", "direction", "occurred_at"]
    assert errors[0] == ("kind", "fax")
    assert errors[1] == ("direction", "sideways")
    assert datetime.fromisoformat(errors[2][1]) == tomorrow
    assert "call, chat, email, visit, meeting" in response.json()["errors"][0]["expected"]
    assert not Interaction.objects.exists()
    assert not CustomerTraits.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "value"),
    [
        ({"kind": "call", "direction": "inbound", "staff": "nobody"}, "staff", "nobody"),
        ({"kind": "call", "direction": "inbound", "mood": "happy"}, "mood", "happy"),
        (
            {"kind": "call", "direction": "inbound", "occurred_at": "kemarin"},
            "occurred_at",
            "kemarin",
        ),
        ({"direction": "inbound"}, "kind", ""),
    ],
)
def test_interaction_requests_of_the_wrong_shape_are_refused_by_name(
    agent_key: str, budi: Customer, body: dict[str, Any], field: str, value: str
) -> None:
    assert refused(post(f"/customers/{budi.pk}/interactions", agent_key, body)) == [(field, value)]
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_a_deactivated_staff_member_is_not_accepted(
    agent_key: str, make_user: Callable[..., User], budi: Customer
) -> None:
    make_user("left", Role.AGENT)
    User.objects.filter(username="left").update(is_active=False)
    body = {"kind": "call", "direction": "inbound", "staff": "left"}
    response = post(f"/customers/{budi.pk}/interactions", agent_key, body)
    assert refused(response) == [("staff", "left")]
    assert response.json()["errors"][0]["expected"] == "the username of an active staff member"


@pytest.mark.django_db
def test_deleting_an_interaction_moves_the_last_contact_back(
    key_for: Callable[[str], str], agent_key: str, budi: Customer
) -> None:
    path = f"/customers/{budi.pk}/interactions"
    older = {"kind": "email", "direction": "outbound", "occurred_at": ago(days=3).isoformat()}
    post(path, agent_key, older)
    latest = post(path, agent_key, {"kind": "call", "direction": "inbound"}).json()
    assert traits_of(budi, agent_key)["last_contact_channel"] == "call"
    assert send("DELETE", f"/interactions/{latest['id']}", key_for(Role.MANAGER)).status_code == 204
    assert traits_of(budi, agent_key)["last_contact_channel"] == "email"


# --- paging ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_lists_page_latest_first_by_when_it_happened(agent_key: str, budi: Customer) -> None:
    path = f"/customers/{budi.pk}/interactions"
    # Logged out of order, two at the same moment: the order is by moment, then by id.
    moments = [ago(days=5), ago(days=1), ago(days=9), ago(days=1)]
    moments[3] = moments[1]
    ids = [
        post(
            path, agent_key, {"kind": "call", "direction": "inbound", "occurred_at": m.isoformat()}
        ).json()["id"]
        for m in moments
    ]
    expected = [ids[3], ids[1], ids[0], ids[2]]
    first = get(path, agent_key, limit=2).json()
    assert [item["id"] for item in first["items"]] == expected[:2]
    assert first["next_cursor"]
    # A back-dated interaction logged meanwhile neither repeats nor shifts the next page.
    post(
        path,
        agent_key,
        {"kind": "chat", "direction": "inbound", "occurred_at": ago(days=30).isoformat()},
    )
    second = get(path, agent_key, limit=2, cursor=first["next_cursor"]).json()
    assert [item["id"] for item in second["items"]] == expected[2:]
    third = get(path, agent_key, limit=2, cursor=second["next_cursor"]).json()
    assert [item["kind"] for item in third["items"]] == ["chat"]
    assert third["next_cursor"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "value"),
    [
        ({"cursor": "not-a-cursor"}, "cursor", "not-a-cursor"),
        ({"cursor": "eyJhZnRlciI6IDF9"}, "cursor", "eyJhZnRlciI6IDF9"),  # another list's cursor
        ({"limit": "0"}, "limit", "0"),
        ({"limit": "201"}, "limit", "201"),
    ],
)
def test_bad_paging_parameters_are_refused_by_name(
    agent_key: str, budi: Customer, params: dict[str, str], field: str, value: str
) -> None:
    response = get(f"/customers/{budi.pk}/feedback", agent_key, **params)
    assert refused(response) == [(field, value)]


# --- tickets --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_open_assign_and_resolve_a_ticket(
    agent_key: str, make_user: Callable[..., User], budi: Customer
) -> None:
    make_user("dewi", Role.AGENT)
    created = post(
        f"/customers/{budi.pk}/tickets",
        agent_key,
        {"subject": " AC bocor ", "description": "Air menetes", "priority": "high"},
    )
    assert created.status_code == 201, created.content
    ticket = created.json()
    assert (ticket["subject"], ticket["status"], ticket["priority"]) == ("AC bocor", "open", "high")
    assert ticket["assignee"] is None
    assert ticket["closed_at"] is None
    assert traits_of(budi, agent_key)["open_tickets"] == 1

    path = f"/tickets/{ticket['id']}"
    assigned = send("PATCH", path, agent_key, {"assignee": "dewi", "priority": "urgent"})
    assert assigned.status_code == 200, assigned.content
    assert (assigned.json()["assignee"], assigned.json()["priority"]) == ("dewi", "urgent")
    assert assigned.json()["status"] == "open"  # not sent: unchanged

    resolved = send("PATCH", path, agent_key, {"status": "resolved"}).json()
    assert resolved["status"] == "resolved"
    assert resolved["closed_at"] is not None
    assert resolved["assignee"] == "dewi"
    assert traits_of(budi, agent_key)["open_tickets"] == 0
    # Resolved again: when it was resolved stays.
    again = send("PATCH", path, agent_key, {"status": "resolved"}).json()
    assert again["closed_at"] == resolved["closed_at"]

    reopened = send("PATCH", path, agent_key, {"status": "open", "assignee": None}).json()
    assert (reopened["status"], reopened["closed_at"], reopened["assignee"]) == ("open", None, None)
    listed = get(f"/customers/{budi.pk}/tickets", agent_key).json()["items"]
    assert [item["id"] for item in listed] == [ticket["id"]]


@pytest.mark.django_db
def test_a_refused_ticket_change_changes_nothing(agent_key: str, budi: Customer) -> None:
    ticket = services.open_ticket(budi, subject="AC bocor")
    response = send(
        "PATCH",
        f"/tickets/{ticket.pk}",
        agent_key,
        {"status": "done", "priority": "asap", "assignee": "ghost"},
    )
    assert sorted(refused(response)) == [
        ("assignee", "ghost"),
        ("priority", "asap"),
        ("status", "done"),
    ]
    # A valid status with an invalid priority: the status does not change either.
    response = send(
        "PATCH", f"/tickets/{ticket.pk}", agent_key, {"status": "closed", "priority": "asap"}
    )
    assert refused(response) == [("priority", "asap")]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.closed_at) == ("open", "normal", None)


@pytest.mark.django_db
def test_a_refused_ticket_names_field_and_value(agent_key: str, budi: Customer) -> None:
    response = post(
        f"/customers/{budi.pk}/tickets",
        agent_key,
        {"subject": "  ", "priority": "asap", "assignee": "ghost"},
    )
    # The assignee is looked up first; then the service checks the values.
    assert refused(response) == [("assignee", "ghost")]
    response = post(
        f"/customers/{budi.pk}/tickets", agent_key, {"subject": " ", "priority": "asap"}
    )
    assert refused(response) == [("subject", " "), ("priority", "asap")]
    assert not Ticket.objects.exists()


# --- services -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_service_falls_due_and_is_done(agent_key: str, budi: Customer) -> None:
    product = Product.objects.create(sku="AC-1", name="AC Split 1 PK", category="AC")
    started = timezone.localdate() - timedelta(days=100)
    created = post(
        f"/customers/{budi.pk}/services",
        agent_key,
        {
            "name": "Servis AC",
            "started_on": started.isoformat(),
            "interval_days": 90,
            "product": "AC-1",
        },
    )
    assert created.status_code == 201, created.content
    service = created.json()
    assert service["next_due"] == (started + timedelta(days=90)).isoformat()
    assert service["product"] == product.sku
    assert service["status"] == "active"
    assert service["overdue"] is True
    assert traits_of(budi, agent_key)["overdue_services"] == 1

    done_on = timezone.localdate() - timedelta(days=2)
    done = post(f"/services/{service['id']}/done", agent_key, {"on": done_on.isoformat()})
    assert done.status_code == 200, done.content
    assert done.json()["next_due"] == (done_on + timedelta(days=90)).isoformat()
    assert done.json()["overdue"] is False
    assert traits_of(budi, agent_key)["overdue_services"] == 0

    today = post(f"/services/{service['id']}/done", agent_key)  # no body: done today
    assert today.status_code == 200, today.content
    assert today.json()["next_due"] == (timezone.localdate() + timedelta(days=90)).isoformat()
    listed = get(f"/customers/{budi.pk}/services", agent_key).json()["items"]
    assert [item["id"] for item in listed] == [service["id"]]


@pytest.mark.django_db
def test_a_refused_service_names_field_and_value(agent_key: str, budi: Customer) -> None:
    path = f"/customers/{budi.pk}/services"
    response = post(
        path,
        agent_key,
        {"name": "", "started_on": "2024-05-01", "interval_days": 0, "next_due": "2024-04-01"},
    )
    assert refused(response) == [("name", ""), ("interval_days", "0"), ("next_due", "2024-04-01")]
    assert refused(post(path, agent_key, {"name": "Servis", "interval_days": 10**9})) == [
        ("interval_days", str(10**9))
    ]
    assert refused(post(path, agent_key, {"name": "Servis", "product": "NOPE"})) == [
        ("product", "NOPE")
    ]
    assert refused(post(path, agent_key, {"name": "Servis", "started_on": "besok"})) == [
        ("started_on", "besok")
    ]
    assert not Subscription.objects.exists()
    service = services.add_subscription(budi, name="Servis", started_on=date(2024, 1, 1))
    assert refused(post(f"/services/{service.pk}/done", agent_key, {"on": "kemarin"})) == [
        ("on", "kemarin")
    ]


@pytest.mark.django_db
def test_a_service_cannot_be_done_in_the_future(agent_key: str, budi: Customer) -> None:
    service = services.add_subscription(
        budi, name="Servis AC", started_on=date(2024, 1, 1), interval_days=90
    )
    next_week = timezone.localdate() + timedelta(days=7)
    response = post(f"/services/{service.pk}/done", agent_key, {"on": next_week.isoformat()})
    assert refused(response) == [("on", next_week.isoformat())]


# --- feedback -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_nps_answer_makes_the_customer_a_promoter(agent_key: str, budi: Customer) -> None:
    order = order_for(budi, "INV-1", ago(days=2), ("ac-1", "AC", 1, "3500000"))
    response = post(
        f"/customers/{budi.pk}/feedback",
        agent_key,
        {"kind": "nps", "score": 9, "comment": "Mantap", "channel": "whatsapp", "order": order.pk},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["score"], body["order"]) == ("nps", 9, order.pk)
    traits = traits_of(budi, agent_key)
    assert traits["latest_nps"] == 9
    assert traits["nps_category"] == "promoter"

    post(f"/customers/{budi.pk}/feedback", agent_key, {"kind": "nps", "score": 4})
    assert traits_of(budi, agent_key)["nps_category"] == "detractor"
    listed = get(f"/customers/{budi.pk}/feedback", agent_key).json()["items"]
    assert [item["score"] for item in listed] == [4, 9]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"kind": "nps", "score": 11}, [("score", "11")]),
        ({"kind": "rating", "score": 0}, [("score", "0")]),
        ({"kind": "csat"}, [("score", "")]),
        ({"kind": "stars", "score": 5}, [("kind", "stars")]),
        ({"kind": "comment", "comment": "  "}, [("comment", "  ")]),
        ({"kind": "nps", "score": 7.5}, [("score", "7.5")]),
        ({"kind": "nps", "score": 7, "order": 999999}, [("order", "999999")]),
    ],
)
def test_refused_feedback_names_field_and_value(
    agent_key: str, budi: Customer, body: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    assert refused(post(f"/customers/{budi.pk}/feedback", agent_key, body)) == errors
    assert not Feedback.objects.exists()


@pytest.mark.django_db
def test_feedback_in_the_future_or_on_someone_elses_order_is_refused(
    agent_key: str, budi: Customer
) -> None:
    other = order_for(make("Siti Aminah"), "INV-9", ago(days=1), ("tv-1", "TV", 1, "10"))
    path = f"/customers/{budi.pk}/feedback"
    body = {"kind": "rating", "score": 5, "order": other.pk}
    assert refused(post(path, agent_key, body)) == [("order", str(other.pk))]
    next_week = (timezone.now() + timedelta(days=7)).replace(microsecond=0)
    response = post(
        path, agent_key, {"kind": "rating", "score": 5, "given_at": next_week.isoformat()}
    )
    [(field, value)] = refused(response)
    assert field == "given_at"
    assert datetime.fromisoformat(value) == next_week
    assert not Feedback.objects.exists()


# --- orders and traits ----------------------------------------------------------------------


@pytest.mark.django_db
def test_orders_come_with_their_items_and_products_latest_first(
    agent_key: str, budi: Customer
) -> None:
    older = order_for(budi, "INV-1", ago(days=40), ("kaos-1", "Fashion", 2, "75000"))
    newer = order_for(
        budi, "INV-2", ago(days=3), ("ac-1", "AC", 1, "3500000"), ("kabel-1", "AC", 3, "20000")
    )
    response = get(f"/customers/{budi.pk}/orders", agent_key)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [order["id"] for order in items] == [newer.pk, older.pk]
    first = items[0]
    assert (first["order_number"], first["source"], first["status"]) == (
        "INV-2",
        "shop",
        "completed",
    )
    assert Decimal(first["total"]) == Decimal("3560000")
    lines = sorted(first["items"], key=lambda line: line["product"]["sku"])
    assert lines[0]["product"] == {"sku": "ac-1", "name": "Ac-1", "category": "AC"}
    assert (lines[1]["quantity"], Decimal(lines[1]["unit_price"])) == (3, Decimal("20000"))

    page = get(f"/customers/{budi.pk}/orders", agent_key, limit=1).json()
    rest = get(f"/customers/{budi.pk}/orders", agent_key, cursor=page["next_cursor"]).json()
    assert [o["id"] for o in page["items"] + rest["items"]] == [newer.pk, older.pk]


@pytest.mark.django_db
def test_traits_hold_every_figure_and_days_since_the_last_order(
    agent_key: str, budi: Customer
) -> None:
    order_for(budi, "INV-1", ago(days=10, hours=1), ("kaos-1", "Fashion", 2, "75000"))
    order_for(budi, "INV-2", ago(days=40), ("kaos-2", "Fashion", 1, "50000"))
    services.log_interaction(budi, kind="call", direction="inbound", staff=None)  # a refresh
    traits = traits_of(budi, agent_key)
    assert traits["customer"] == budi.pk
    assert traits["order_count"] == 2
    assert Decimal(traits["total_spend"]) == Decimal("200000")
    assert Decimal(traits["average_spend"]) == Decimal("100000")
    assert traits["favourite_category"] == "Fashion"
    assert traits["days_since_last_order"] == 10
    assert traits["last_contact_channel"] == "call"
    assert traits["last_contact_by"] is None
    for name in ("open_tickets", "overdue_services", "visits_30d", "opens_30d"):
        assert traits[name] == 0, name
    assert traits["latest_nps"] is None
    assert traits["nps_category"] == ""


@pytest.mark.django_db
def test_a_customer_without_activity_has_empty_traits(agent_key: str, budi: Customer) -> None:
    traits = traits_of(budi, agent_key)
    assert traits["order_count"] == 0
    assert Decimal(traits["total_spend"]) == 0
    assert traits["days_since_last_order"] is None
    assert traits["computed_at"] is None


# --- merged customers -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_merged_customer_redirects_reads_and_sends_writes_to_the_survivor(
    agent_key: str, budi: Customer
) -> None:
    merged = make("Budi S.")
    Customer.objects.filter(pk=merged.pk).update(merged_into=budi)
    for part in ("interactions", "tickets", "services", "feedback", "orders", "traits"):
        response = get(f"/customers/{merged.pk}/{part}", agent_key)
        assert response.status_code == 307, part
        assert response["Location"] == f"{API}/customers/{budi.pk}/{part}"
        assert response.json() == {
            "detail": f"Customer {merged.pk} was merged into customer {budi.pk}.",
            "merged_into": budi.pk,
        }

    written = post(f"/customers/{merged.pk}/feedback", agent_key, {"kind": "nps", "score": 10})
    assert written.status_code == 201
    assert written.json()["customer"] == budi.pk
    assert Feedback.objects.get().customer_id == budi.pk
    assert traits_of(budi, agent_key)["latest_nps"] == 10
    call = {"kind": "call", "direction": "inbound"}
    assert (
        post(f"/customers/{merged.pk}/interactions", agent_key, call).json()["customer"] == budi.pk
    )


@pytest.mark.django_db
def test_writes_follow_a_chain_of_merges_to_its_end(agent_key: str, budi: Customer) -> None:
    middle = make("Budi San")
    first = make("B. Santoso")
    Customer.objects.filter(pk=middle.pk).update(merged_into=budi)
    Customer.objects.filter(pk=first.pk).update(merged_into=middle)
    response = post(f"/customers/{first.pk}/tickets", agent_key, {"subject": "Garansi"})
    assert response.status_code == 201
    assert response.json()["customer"] == budi.pk
