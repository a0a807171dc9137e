"""Computed traits stay current on every write: orders, contacts, tickets, services, feedback,
web and app events, deletes, imports and their revert, merges and their undo."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kenal.accounts.models import User
from kenal.activity import services, tasks, traits
from kenal.activity.models import (
    CustomerTraits,
    Event,
    Order,
    OrderItem,
    Product,
    Subscription,
)
from kenal.customers import services as customers
from kenal.customers.models import Customer
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import Origin
from kenal.identity.merging import merge_customers, unmerge
from kenal.ingest import services as ingest
from kenal.ingest.revert import revert_import
from kenal.ingest.tests.files import write_csv

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def make(name: str = "Budi Santoso", external_id: str = "1") -> Customer:
    return customers.create_customer({"full_name": name}, Origin("shop", external_id))


def order(
    customer: Customer,
    number: str,
    total: str,
    *,
    days_ago: int = 1,
    status: str = Order.Status.COMPLETED,
    items: tuple[tuple[str, str, int], ...] = (),
) -> Order:
    created = Order.objects.create(
        customer=customer,
        source="shop",
        order_number=number,
        ordered_at=NOW - dt.timedelta(days=days_ago),
        status=status,
        total=Decimal(total),
    )
    for sku, category, quantity in items:
        product, _ = Product.objects.get_or_create(
            sku=sku, defaults={"name": sku, "category": category}
        )
        OrderItem.objects.create(
            order=created, product=product, quantity=quantity, unit_price=Decimal(1)
        )
    traits.refresh([customer.pk])
    return created


def traits_of(customer: Customer) -> CustomerTraits:
    return CustomerTraits.objects.get(customer=customer)


def test_orders_give_count_spend_average_dates_and_favourite_category() -> None:
    budi = make()
    order(budi, "A1", "100000", days_ago=40, items=(("kopi", "Minuman", 1),))
    order(budi, "A2", "50000", days_ago=3, items=(("roti", "Makanan", 3), ("teh", "Minuman", 1)))
    order(budi, "A3", "900000", status=Order.Status.CANCELLED, items=(("tv", "Elektronik", 9),))
    order(budi, "A4", "70000", status=Order.Status.RETURNED)

    got = traits_of(budi)
    assert got.order_count == 2  # a cancelled or returned order is no purchase
    assert got.total_spend == Decimal("150000.00")
    assert got.average_spend == Decimal("75000.00")
    assert got.first_order_at == NOW - dt.timedelta(days=40)
    assert got.last_order_at == NOW - dt.timedelta(days=3)
    assert traits.days_since(got.last_order_at) == 3
    assert got.favourite_category == "Makanan"  # three loaves beat two drinks


def test_deleting_an_order_takes_it_out_of_the_traits() -> None:
    budi = make()
    order(budi, "A1", "100000")
    second = order(budi, "A2", "20000")
    services.delete_activity(second)
    assert (traits_of(budi).order_count, traits_of(budi).total_spend) == (1, Decimal("100000"))


def test_a_logged_contact_is_the_last_contact_with_who_and_how(
    make_user: Callable[..., User],
) -> None:
    budi, ani, rudi = make(), make_user("ani"), make_user("rudi")
    services.log_interaction(
        budi,
        kind="call",
        direction="outbound",
        staff=ani,
        channel="phone",
        occurred_at=NOW - dt.timedelta(days=2),
    )
    services.log_interaction(
        budi, kind="chat", direction="inbound", staff=rudi, channel="WhatsApp", outcome="resolved"
    )
    # Logged later but happened earlier: it does not become the last contact.
    services.log_interaction(
        budi, kind="visit", direction="inbound", staff=ani, occurred_at=NOW - dt.timedelta(days=9)
    )
    got = traits_of(budi)
    assert (got.last_contact_channel, got.last_contact_by) == ("WhatsApp", rudi)
    assert traits.as_dict(got)["last_contact_by"] == "rudi"


def test_open_tickets_count_until_resolved_and_again_when_reopened() -> None:
    budi = make()
    first = services.open_ticket(budi, subject="Paket belum sampai", priority="high")
    services.open_ticket(budi, subject="Salah ukuran")
    assert traits_of(budi).open_tickets == 2
    services.set_ticket_status(first, "resolved")
    assert traits_of(budi).open_tickets == 1
    first.refresh_from_db()
    assert first.closed_at is not None
    services.set_ticket_status(first, "open")
    first.refresh_from_db()
    assert traits_of(budi).open_tickets == 2
    assert first.closed_at is None


def test_a_service_past_its_due_date_is_overdue_until_done() -> None:
    budi = make()
    today = timezone.localdate()
    service = services.add_subscription(
        budi, name="Servis AC", started_on=today - dt.timedelta(days=100), interval_days=90
    )
    assert service.next_due == today - dt.timedelta(days=10)
    services.add_subscription(budi, name="Ganti oli", started_on=today, interval_days=30)
    assert traits_of(budi).overdue_services == 1
    services.service_done(service, today)
    service.refresh_from_db()
    assert service.next_due == today + dt.timedelta(days=90)
    assert traits_of(budi).overdue_services == 0


def test_the_latest_nps_answer_and_its_category() -> None:
    budi = make()
    services.record_feedback(budi, kind="nps", score=10, given_at=NOW - dt.timedelta(days=30))
    services.record_feedback(budi, kind="nps", score=6, comment="Pengiriman lambat")
    services.record_feedback(budi, kind="rating", score=5)
    got = traits_of(budi)
    assert (got.latest_nps, got.nps_category) == (6, "detractor")
    assert [traits.nps_category(score) for score in (0, 6, 7, 8, 9, 10, None)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
        "",
    ]


def event(customer: Customer, kind: str, name: str, days_ago: float, message: str) -> Event:
    return Event.objects.create(
        customer=customer,
        source="web",
        message_id=message,
        kind=kind,
        name=name,
        occurred_at=NOW - dt.timedelta(days=days_ago),
    )


def test_engagement_counts_days_visited_and_emails_opened_in_the_last_30_days() -> None:
    budi = make()
    event(budi, "page", "Home", 1, "m1")
    event(budi, "page", "Produk", 1.01, "m2")  # same day: one visit
    event(budi, "screen", "Keranjang", 5, "m3")
    event(budi, "page", "Home", 45, "m4")  # too long ago
    event(budi, "track", "Email Opened", 2, "m5")
    event(budi, "track", "Email Opened", 40, "m6")
    traits.refresh([budi.pk])
    got = traits_of(budi)
    assert (got.visits_30d, got.opens_30d) == (2, 1)


def test_bad_values_are_refused_naming_field_value_and_expectation() -> None:
    budi = make()
    with pytest.raises(services.ActivityInvalid) as caught:
        services.log_interaction(
            budi,
            kind="fax",
            direction="sideways",
            staff=None,
            occurred_at=NOW + dt.timedelta(days=1),
        )
    fields = {error.field: error for error in caught.value.errors}
    assert set(fields) == {"kind", "direction", "occurred_at"}
    assert "fax" in str(fields["kind"])
    assert "call" in str(fields["kind"])
    with pytest.raises(services.ActivityInvalid, match=r"score.*11.*0 to 10"):
        services.record_feedback(budi, kind="nps", score=11)
    with pytest.raises(services.ActivityInvalid, match="subject"):
        services.open_ticket(budi, subject="  ")
    with pytest.raises(services.ActivityInvalid, match="next_due"):
        services.add_subscription(
            budi,
            name="Servis",
            started_on=dt.date(2026, 5, 1),
            next_due=dt.date(2026, 4, 1),
        )
    assert not CustomerTraits.objects.filter(customer=budi).exists()


def test_a_merge_adds_up_both_customers_and_its_undo_splits_them_again(
    make_user: Callable[..., User],
) -> None:
    budi, budy = make("Budi Santoso", "1"), make("Budy Santoso", "2")
    order(budi, "A1", "100000")
    order(budy, "B1", "30000")
    services.open_ticket(budy, subject="Retur")
    services.log_interaction(budy, kind="call", direction="inbound", staff=make_user("ani"))
    merge = merge_customers(budi, budy, actor=None)
    got = traits_of(budi)
    assert (got.order_count, got.total_spend, got.open_tickets) == (2, Decimal(130000), 1)
    assert got.last_contact_at is not None
    unmerge(merge, actor=None)
    assert (traits_of(budi).order_count, traits_of(budi).open_tickets) == (1, 0)
    assert (traits_of(budy).order_count, traits_of(budy).open_tickets) == (1, 1)


def test_order_imports_and_their_revert_keep_traits_current(tmp_path: Path) -> None:
    sari = customers.create_customer(
        {"full_name": "Sari Dewi", "emails": ["sari@example.id"]}, Origin("shop", "9")
    )
    order(sari, "X1", "5000")
    path = write_csv(
        tmp_path / "orders.csv",
        [
            ["No. Pesanan", "Email", "Nama", "Tanggal", "Produk", "Kategori", "Jumlah", "Total"],
            [
                "INV-1",
                "sari@example.id",
                "Sari Dewi",
                "2026-10-01",
                "Kopi",
                "Minuman",
                "2",
                "50000",
            ],
            ["INV-2", "sari@example.id", "Sari Dewi", "2026-10-05", "Teh", "Minuman", "1", "20000"],
        ],
    )
    setup = ingest.ImportSetup(kind="orders", source="toko")
    run = ingest.run_import(ingest.prepare_import(path, setup))
    assert run.created_count == 2
    assert (traits_of(sari).order_count, traits_of(sari).total_spend) == (3, Decimal(75000))
    assert traits_of(sari).favourite_category == "Minuman"
    revert_import(run)
    assert (traits_of(sari).order_count, traits_of(sari).total_spend) == (1, Decimal(5000))


def test_refresh_command_moves_the_windows_on(capsys: Any) -> None:
    budi = make()
    today = timezone.localdate()
    services.add_subscription(budi, name="Servis", started_on=today, next_due=today)
    assert traits_of(budi).overdue_services == 0
    # Tomorrow the service is overdue although nothing was written.
    CustomerTraits.objects.filter(customer=budi).update(computed_at=NOW - dt.timedelta(days=1))
    Subscription.objects.filter(customer=budi).update(next_due=today - dt.timedelta(days=1))
    call_command("traits", "refresh")
    assert traits_of(budi).overdue_services == 1
    assert "1 customer" in capsys.readouterr().out


@pytest.fixture
def shoppers() -> dict[str, Customer]:
    """Three customers: a loyal one, a lapsed one and one who never ordered."""
    loyal, lapsed, never = make("Ani Loyal", "1"), make("Budi Lapsed", "2"), make("Cici Baru", "3")
    for number, days in (("L1", 2), ("L2", 10), ("L3", 20)):
        order(loyal, number, "100000", days_ago=days, items=(("kopi", "Minuman", 1),))
    order(lapsed, "P1", "40000", days_ago=200, items=(("sepatu", "Fashion", 1),))
    services.record_feedback(loyal, kind="nps", score=9)
    return {"loyal": loyal, "lapsed": lapsed, "never": never}


def names(query: customers.CustomerQuery) -> set[str]:
    return set(customers.find_customers(query).values_list("full_name", flat=True))


def by_trait(*filters: tuple[str, str, str]) -> set[str]:
    return names(customers.CustomerQuery(trait_filters=filters))


@pytest.mark.usefixtures("shoppers")
def test_the_customer_list_filters_on_traits() -> None:
    assert by_trait(("order_count", "gte", "3")) == {"Ani Loyal"}
    # No traits yet counts as no orders.
    assert by_trait(("order_count", "lt", "1")) == {"Cici Baru"}
    assert by_trait(("total_spend", "gt", "50000")) == {"Ani Loyal"}
    assert by_trait(("days_since_last_order", "gt", "90")) == {"Budi Lapsed"}
    assert by_trait(("days_since_last_order", "lte", "2")) == {"Ani Loyal"}
    assert by_trait(("favourite_category", "eq", "fashion")) == {"Budi Lapsed"}
    assert by_trait(("nps_category", "eq", "promoter")) == {"Ani Loyal"}
    assert by_trait(("order_count", "gte", "1"), ("days_since_last_order", "lt", "30")) == {
        "Ani Loyal"
    }


@pytest.mark.parametrize(
    ("trait", "expected"),
    [
        (("orders", "gte", "1"), "one of: order_count"),
        (("order_count", "about", "1"), "one of eq, lt, lte, gt, gte"),
        (("order_count", "gte", "lots"), "a whole number"),
        (("favourite_category", "gt", "a"), "eq for this trait"),
    ],
)
def test_a_bad_trait_filter_names_what_is_wrong(trait: tuple[str, str, str], expected: str) -> None:
    with pytest.raises(InvalidValue, match=expected):
        by_trait(trait)


@pytest.mark.usefixtures("shoppers")
def test_trait_filters_on_the_page_and_through_the_api(
    login: Callable[..., Client], key_for: Callable[[str], str]
) -> None:
    page = login().get("/customers/", {"tf": "days_since_last_order", "top": "gt", "tv": "90"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Budi Lapsed" in html
    assert "Ani Loyal" not in html
    assert 'option value="days_since_last_order" selected' in html
    headers = {"Authorization": f"Bearer {key_for('viewer')}"}
    api = Client().get(
        "/api/customers", {"trait": ["order_count:gte:1", "total_spend:lt:50000"]}, headers=headers
    )
    assert [item["full_name"] for item in api.json()["items"]] == ["Budi Lapsed"]
    bad = Client().get("/api/customers", {"trait": "order_count:gte:many"}, headers=headers)
    assert bad.status_code == 400
    assert "trait.order_count" in bad.content.decode()


def test_the_nightly_refresh_moves_the_windows_of_those_they_change() -> None:
    visitor, due, quiet = make("Ani", "1"), make("Budi", "2"), make("Cici", "3")
    event(visitor, "page", "Home", 29, "m1")
    traits.refresh([visitor.pk])
    service = services.add_subscription(
        due, name="Servis AC", started_on=timezone.localdate(), interval_days=30
    )
    order(quiet, "Q1", "1000")
    assert (traits_of(visitor).visits_30d, traits_of(due).overdue_services) == (1, 0)
    # Two days later, with nothing written: the visit is out of the window, the service due.
    Event.objects.update(occurred_at=NOW - dt.timedelta(days=31))
    Subscription.objects.filter(pk=service.pk).update(
        next_due=timezone.localdate() - dt.timedelta(days=1)
    )
    quiet_before = traits_of(quiet).computed_at

    assert traits.refresh_moved_windows() == 2

    assert (traits_of(visitor).visits_30d, traits_of(due).overdue_services) == (0, 1)
    assert traits_of(quiet).computed_at == quiet_before  # nothing of theirs moves


def test_the_worker_keeps_one_nightly_refresh_waiting() -> None:
    def waiting() -> list[dt.datetime]:
        rows = DBTaskResult.objects.filter(
            task_path=tasks.refresh_traits_task.module_path, status="READY"
        )
        return list(rows.values_list("run_after", flat=True))

    assert tasks.schedule_nightly_refresh()
    assert not tasks.schedule_nightly_refresh()
    assert waiting() == [tasks.next_night()]
    assert timezone.localtime(tasks.next_night()).time() == tasks.NIGHTLY_AT
    # The nightly run itself (called here directly) leaves the next one waiting.
    DBTaskResult.objects.all().delete()
    tasks.refresh_traits_task.call()
    assert waiting() == [tasks.next_night()]


@pytest.mark.parametrize(("hour", "days_later"), [(1, 0), (2, 1), (23, 1)])
def test_the_nightly_refresh_runs_at_two_in_the_morning(hour: int, days_later: int) -> None:
    now = timezone.make_aware(dt.datetime(2026, 11, 23, hour, 30))
    expected = timezone.make_aware(dt.datetime(2026, 11, 23 + days_later, 2, 0))
    assert tasks.next_night(now) == expected
