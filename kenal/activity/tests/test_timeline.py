"""The customer's timeline: every kind of activity as an entry, web and app events grouped
per day, filters, paging with a cursor (ties in time included), bounded queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kenal.accounts.models import Role, User
from kenal.activity import services, timeline
from kenal.activity.models import (
    Cart,
    CartItem,
    Event,
    Interaction,
    Order,
    OrderItem,
    Product,
    Ticket,
)
from kenal.activity.timeline import Entry
from kenal.customers import services as customer_services
from kenal.customers.models import Customer, Note
from kenal.customers.services import Origin
from kenal.privacy.services import parse_declaration, record_consent

NOW = timezone.now()
# Noon yesterday, local time: a few hours either side stay on the same day.
NOON = timezone.localtime(NOW).replace(hour=12, minute=0, second=0) - datetime.timedelta(days=1)


def ago(**delta: float) -> datetime.datetime:
    return NOW - datetime.timedelta(**delta)


@pytest.fixture
def budi(db: None) -> Customer:
    return customer_services.create_customer(
        {"full_name": "Budi Santoso", "phones": ["0812-3456-7890"]}, Origin(source="pos")
    )


@pytest.fixture
def ani(make_user: Callable[..., User]) -> User:
    return make_user("ani", Role.AGENT)


_orders = 0


def order(
    customer: Customer,
    when: datetime.datetime,
    status: str = Order.Status.COMPLETED,
    items: tuple[tuple[str, int, str], ...] = (("Kopi Gayo", 2, "75000"),),
) -> Order:
    global _orders
    _orders += 1
    total = sum(Decimal(price) * quantity for _name, quantity, price in items)
    made = Order.objects.create(
        customer=customer,
        source="tokopedia",
        order_number=f"INV/{_orders:04d}",
        ordered_at=when,
        status=status,
        total=total,
    )
    for name, quantity, price in items:
        product, _created = Product.objects.get_or_create(sku=name.upper(), name=name)
        OrderItem.objects.create(
            order=made, product=product, quantity=quantity, unit_price=Decimal(price)
        )
    return made


_events = 0


def event(
    customer: Customer, when: datetime.datetime, kind: str = Event.Kind.PAGE, name: str = "Home"
) -> Event:
    global _events
    _events += 1
    return Event.objects.create(
        customer=customer,
        source="web",
        message_id=f"m-{_events}",
        kind=kind,
        name=name,
        occurred_at=when,
    )


def note(customer: Customer, body: str, when: datetime.datetime) -> Note:
    made = customer_services.add_note(customer, body, None)
    Note.objects.filter(pk=made.pk).update(created_at=when)
    return made


def everything(customer: Customer) -> list[Entry]:
    """Every entry, page after page."""
    entries: list[Entry] = []
    cursor = None
    for _page in range(1000):
        page = timeline.timeline(customer, before=cursor, limit=7)
        entries.extend(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            return entries
    raise AssertionError("the timeline never ended")


def titles(entries: list[Entry]) -> list[str]:
    return [entry.title for entry in entries]


# --- every kind of activity -----------------------------------------------------------------


def test_every_kind_of_activity_is_an_entry(budi: Customer, ani: User) -> None:
    bought = order(
        budi, ago(days=30), items=(("Kopi Gayo", 2, "75000"), ("Teh Melati", 1, "20000"))
    )
    cancelled = order(budi, ago(days=20), status=Order.Status.CANCELLED)
    returned = order(budi, ago(days=19), status=Order.Status.RETURNED)
    services.log_interaction(
        budi,
        kind="call",
        direction="outbound",
        staff=ani,
        channel="phone",
        outcome="reached",
        summary="Asked about the new blend.",
        occurred_at=ago(days=3),
    )
    ticket = services.open_ticket(
        budi, subject="Parcel damaged", priority="high", opened_at=ago(days=10)
    )
    services.set_ticket_status(ticket, Ticket.Status.RESOLVED, at=ago(days=8))
    services.add_subscription(
        budi,
        name="AC service",
        started_on=(NOW - datetime.timedelta(days=100)).date(),
        interval_days=90,
    )
    services.record_feedback(budi, kind="nps", score=9, comment="Fast!", given_at=ago(days=7))
    for minutes in range(12):
        event(budi, NOON - datetime.timedelta(days=1, minutes=minutes))
    event(budi, NOON - datetime.timedelta(days=1, hours=1), Event.Kind.TRACK, "Product Viewed")
    cart = Cart.objects.create(
        customer=budi,
        source="web",
        cart_id="c-1",
        created_at=ago(days=5),
        updated_at=ago(days=5),
    )
    CartItem.objects.create(
        cart=cart, product=Product.objects.get(sku="KOPI GAYO"), quantity=3, unit_price=None
    )
    note(budi, "Prefers WhatsApp.", ago(days=1))
    record_consent(
        budi,
        parse_declaration({"marketing_whatsapp": "granted"}, method="Paper form"),
        source="fair",
    )

    entries = timeline.timeline(budi).entries
    by_kind = {entry.kind for entry in entries}
    assert by_kind == set(timeline.KINDS)
    found = {entry.title: entry for entry in entries}

    first = found[f"Order {bought.order_number}"]
    assert [(line.name, line.quantity, line.total) for line in first.lines] == [
        ("Kopi Gayo", 2, Decimal("150000.00")),
        ("Teh Melati", 1, Decimal("20000.00")),
    ]
    assert "IDR 170,000.00" in first.detail
    assert found[f"Order {cancelled.order_number}"].status_label == "Cancelled"
    assert found[f"Order {returned.order_number}"].status == "returned"
    call = found["Outbound call"]
    assert (call.who, call.status_label) == ("ani", "Reached")
    assert "Asked about the new blend." in call.detail
    assert "Ticket opened: Parcel damaged" in found
    assert found["Ticket resolved: Parcel damaged"].when == ago(days=8)
    assert "Service started: AC service" in found
    due = found["Service due: AC service"]
    assert (due.status, due.all_day) == ("overdue", True)  # due 10 days ago
    nps = found["NPS 9"]
    assert (nps.status, nps.detail) == ("promoter", "Fast!")
    web = [entry for entry in entries if entry.kind == "event"]
    assert len(web) == 1
    assert web[0].title == "Website and app: 12 page views, 1 action"
    assert "Home × 12" in web[0].detail  # noqa: RUF001 - the multiplication sign
    abandoned = found["Abandoned cart"]
    assert (abandoned.status, abandoned.lines[0].name) == ("abandoned", "Kopi Gayo")
    assert found["Note"].detail == "Prefers WhatsApp."
    consent = found["Marketing by WhatsApp: Granted"]
    assert "Paper form" in consent.detail
    # Newest first.
    assert [entry.when for entry in entries] == sorted(
        (entry.when for entry in entries), reverse=True
    )


def test_a_recent_open_cart_is_in_progress_and_an_ordered_one_is_left_to_its_order(
    budi: Customer,
) -> None:
    Cart.objects.create(
        customer=budi, source="web", cart_id="now", created_at=ago(hours=2), updated_at=ago(hours=1)
    )
    Cart.objects.create(
        customer=budi,
        source="web",
        cart_id="done",
        status=Cart.Status.ORDERED,
        created_at=ago(days=3),
        updated_at=ago(days=3),
    )
    entries = timeline.timeline(budi).entries
    assert [(entry.title, entry.status) for entry in entries] == [("Cart in progress", "open")]


def test_a_service_due_later_is_upcoming(budi: Customer) -> None:
    today = timezone.localdate()
    services.add_subscription(
        budi, name="Filter change", started_on=today, next_due=today + datetime.timedelta(days=9)
    )
    due = next(entry for entry in timeline.timeline(budi).entries if "due" in entry.title)
    assert (due.status, due.status_label) == ("upcoming", "Upcoming")


def test_a_customer_with_no_activity_has_an_empty_timeline(budi: Customer) -> None:
    page = timeline.timeline(budi)
    assert (page.entries, page.next_cursor) == ([], None)


# --- web and app events ---------------------------------------------------------------------


def test_hundreds_of_page_views_are_one_entry_per_day(budi: Customer) -> None:
    Event.objects.bulk_create(
        Event(
            customer=budi,
            source="web",
            message_id=f"bulk-{n}",
            kind=Event.Kind.PAGE,
            name=f"Page {n % 4}",
            occurred_at=NOON - datetime.timedelta(days=n % 3, minutes=n % 300),
        )
        for n in range(600)
    )
    services.log_interaction(budi, kind="chat", direction="inbound", staff=None)
    entries = timeline.timeline(budi).entries
    web = [entry for entry in entries if entry.kind == "event"]
    assert [entry.title for entry in web] == ["Website and app: 200 page views"] * 3
    assert any(entry.kind == "interaction" for entry in entries)


def test_a_day_busier_than_one_read_is_counted_in_full(
    budi: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timeline, "EVENT_SCAN", 10)
    for minute in range(25):
        event(budi, NOON - datetime.timedelta(minutes=minute))
    for day in (3, 4):
        event(budi, NOON - datetime.timedelta(days=day))
    entries = everything(budi)
    assert (
        titles(entries) == ["Website and app: 25 page views"] + ["Website and app: 1 page view"] * 2
    )


def test_events_of_anonymous_visitors_and_identify_calls_are_left_out(budi: Customer) -> None:
    event(budi, ago(hours=1), Event.Kind.IDENTIFY, "")
    Event.objects.create(
        source="web", message_id="anon", kind=Event.Kind.PAGE, occurred_at=ago(hours=1)
    )
    assert timeline.timeline(budi).entries == []


# --- filters --------------------------------------------------------------------------------


def test_filter_by_one_or_more_kinds(budi: Customer, ani: User) -> None:
    order(budi, ago(days=2))
    services.log_interaction(budi, kind="email", direction="outbound", staff=ani)
    note(budi, "Called back", ago(hours=3))
    only_orders = timeline.timeline(budi, kinds=["order"])
    assert [entry.kind for entry in only_orders.entries] == ["order"]
    assert only_orders.kinds == ("order",)
    two = timeline.timeline(budi, kinds=["note,interaction", "nonsense"])
    assert [entry.kind for entry in two.entries] == ["interaction", "note"]
    assert two.kinds == ("interaction", "note")
    assert len(timeline.timeline(budi, kinds=["nonsense"]).entries) == 3  # unknown: everything


# --- paging ---------------------------------------------------------------------------------


def test_paging_shows_everything_once_newest_first_even_at_the_same_moment(
    budi: Customer, ani: User
) -> None:
    moment = ago(days=1)
    for n in range(9):
        services.log_interaction(
            budi,
            kind="call",
            direction="inbound",
            staff=ani,
            summary=f"call {n}",
            occurred_at=moment,
        )
        note(budi, f"note {n}", moment)
    for n in range(6):
        order(budi, moment - datetime.timedelta(hours=n))
        event(budi, moment - datetime.timedelta(days=n, hours=1))
    today = timezone.localdate(moment)
    for n in range(4):  # services on the same days: ties on a date column
        services.add_subscription(
            budi,
            name=f"service {n}",
            started_on=today - datetime.timedelta(days=n // 2),
            next_due=today,
        )
    entries = everything(budi)
    expected = 9 + 9 + 6 + 6 + 4 + 4
    assert len(entries) == expected
    assert len({(entry.kind, entry.rank, entry.row) for entry in entries}) == expected
    assert [entry.sort_key for entry in entries] == sorted(
        (entry.sort_key for entry in entries), reverse=True
    )


def test_paging_with_a_filter_keeps_the_filter(budi: Customer) -> None:
    for n in range(5):
        order(budi, ago(days=n))
        note(budi, f"note {n}", ago(days=n, hours=1))
    first = timeline.timeline(budi, kinds=["note"], limit=3)
    assert first.next_cursor is not None
    second = timeline.timeline(budi, kinds=["note"], before=first.next_cursor, limit=3)
    assert [entry.detail for entry in first.entries + second.entries] == [
        f"note {n}" for n in range(5)
    ]
    assert second.next_cursor is None


def test_a_mangled_cursor_starts_from_the_newest(budi: Customer) -> None:
    note(budi, "only", ago(hours=1))
    for cursor in ("", "abc", "1.2", "9" * 40 + ".1.1", "1.2.x"):
        assert titles(timeline.timeline(budi, before=cursor).entries) == ["Note"], cursor


def test_each_page_reads_a_bounded_number_of_rows(budi: Customer, ani: User) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            timeline.timeline(budi)
        return len(captured.captured_queries)

    order(budi, ago(days=1))
    services.log_interaction(budi, kind="call", direction="inbound", staff=ani)
    few = queries()
    for n in range(40):
        order(budi, ago(days=n + 2))
        services.log_interaction(budi, kind="call", direction="inbound", staff=ani)
        event(budi, ago(days=n))
        note(budi, "x", ago(days=n))
    assert queries() == few
    with CaptureQueriesContext(connection) as captured:
        timeline.timeline(budi)
    limits = [query["sql"] for query in captured.captured_queries if "LIMIT" in query["sql"]]
    assert len(limits) >= len(timeline.SOURCES)


def test_other_customers_activity_stays_off(budi: Customer, ani: User) -> None:
    siti = customer_services.create_customer({"full_name": "Siti"}, Origin(source="pos"))
    order(siti, ago(days=1))
    services.log_interaction(siti, kind="call", direction="inbound", staff=ani)
    event(siti, ago(hours=2))
    note(siti, "not Budi's", ago(hours=1))
    assert timeline.timeline(budi).entries == []
    assert Interaction.objects.filter(customer=siti).exists()
