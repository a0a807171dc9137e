"""The demo dataset: written through the customer service, realistic, and repeatable."""

from __future__ import annotations

import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from kenal.accounts.models import Role, User
from kenal.activity.models import (
    Cart,
    CustomerTraits,
    Event,
    Feedback,
    Interaction,
    Order,
    OrderItem,
    Product,
    Subscription,
    Ticket,
)
from kenal.customers.models import (
    Address,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomFieldValue,
    Note,
    SourceRecord,
)
from kenal.customers.services import Origin, create_customer
from kenal.demo import services
from kenal.identity.models import CandidatePair, Merge

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, "--no-serve", stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str:
    match = re.search(r"^\s+password:\s+(\S+)$", output, re.MULTILINE)
    assert match, output
    return match[1]


@pytest.mark.django_db
def test_demo_builds_a_realistic_dataset() -> None:
    output = run_demo("--customers", "300", "--seed", "1")

    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN
    assert admin.is_superuser
    assert admin.check_password(printed_password(output))
    assert User.objects.filter(username__in=services.AGENT_USERNAMES).count() == 3

    batch = SourceRecord.objects.filter(batch_id="demo-1")
    rejected = batch.filter(status=SourceRecord.Status.REJECTED)
    customers = Customer.objects.count()
    assert customers > 300  # the people, plus the duplicates other channels recorded
    assert batch.filter(status=SourceRecord.Status.APPLIED).count() == customers
    assert rejected.exists()  # broken records are kept for correction, with their errors
    assert all(record.errors and record.customer_id is None for record in rejected)
    assert f"Created {customers:,} customers" in output
    assert f"{rejected.count()} rejected records" in output

    # Every customer came through the service, from one of the channels.
    assert set(batch.values_list("source", flat=True)) == set(services.SOURCES)
    # Phones arrive in mixed formats and are stored as E.164.
    numbers = list(CustomerPhone.objects.values_list("number", flat=True))
    assert numbers
    assert all(E164.match(number) for number in numbers)
    assert any(number.startswith("+62") for number in numbers)
    assert any(not number.startswith("+62") for number in numbers)
    raw_numbers = [entry["number"] for record in batch for entry in record.data.get("phones", [])]
    assert any(number.startswith("0") and "-" in number for number in raw_numbers)
    assert any(number.startswith("+62 ") for number in raw_numbers)
    # Email domains are lower-cased even when they arrived in capitals.
    raw_emails = [entry["email"] for record in batch for entry in record.data.get("emails", [])]
    assert any(email.split("@")[-1] != email.split("@")[-1].lower() for email in raw_emails)
    assert not CustomerEmail.objects.filter(email__regex=r"@.*[A-Z]").exists()
    # Indonesian addresses carry kelurahan and kecamatan.
    assert Address.objects.filter(country="ID").exclude(village="").exclude(district="").exists()
    # Mononyms: one name, no family name.
    assert Customer.objects.exclude(full_name__contains=" ").exists()

    # Duplicates: the same E.164 number on customers from different channels.
    shared = (
        CustomerPhone.objects.values("number")
        .annotate(customers=Count("customer", distinct=True))
        .filter(customers__gt=1)
    )
    assert shared.exists()
    twins = Customer.objects.filter(phones__number=shared[0]["number"])
    sources = SourceRecord.objects.filter(customer__in=twins).values_list("source", flat=True)
    assert len(set(sources)) > 1

    # Orders, items, notes, custom fields and a spread of life-cycle stages.
    assert Product.objects.count() >= 60
    orders = Order.objects.all()
    assert orders.count() > customers
    assert OrderItem.objects.count() >= orders.count()
    assert {"completed", "cancelled"} <= set(orders.values_list("status", flat=True))
    assert {"tokopedia", "shopee", "pos", "website"} == set(orders.values_list("source", flat=True))
    assert all(order.currency == "IDR" and order.total > 0 for order in orders[:50])
    with_orders = Customer.objects.filter(orders__isnull=False).distinct().count()
    assert 0.5 < with_orders / customers < 0.85
    assert 0.15 < Customer.objects.filter(notes__isnull=False).distinct().count() / customers < 0.45
    assert Note.objects.filter(author__username__in=services.AGENT_USERNAMES).exists()
    keys = set(CustomFieldValue.objects.values_list("field__key", flat=True))
    assert keys == {"member_since", "loyalty_points", "favourite_store"}
    stages = Counter(Customer.objects.values_list("lifecycle_stage", flat=True))
    assert len(stages) >= 5, stages
    assert Customer.objects.filter(owner__username__in=services.AGENT_USERNAMES).exists()
    # Sign-ups are spread over the past years (growth charts need a history).
    first = Customer.objects.earliest("created_at").created_at
    assert (Customer.objects.latest("created_at").created_at - first).days > 365
    assert "support tickets" in output
    # The demo's duplicates are found as it starts: some merged, the doubtful ones proposed.
    assert "waiting for review in Duplicates" in output
    assert CandidatePair.objects.filter(status=CandidatePair.Status.PENDING).exists()
    assert Merge.objects.exists()


@pytest.mark.django_db
def test_demo_customers_have_rich_timelines_and_traits() -> None:
    run_demo("--customers", "300", "--seed", "2")
    customers = Customer.objects.filter(merged_into=None).count()
    contacted = Interaction.objects.values("customer").distinct().count()
    assert 0.4 < contacted / customers < 0.8
    assert Interaction.objects.filter(staff__username__in=services.AGENT_USERNAMES).exists()
    assert {"call", "chat", "visit"} <= set(Interaction.objects.values_list("kind", flat=True))
    assert Ticket.objects.filter(status="open").exists()
    assert Ticket.objects.filter(status="resolved").exists()
    assert Subscription.objects.exists()
    assert {"nps", "rating"} <= set(Feedback.objects.values_list("kind", flat=True))
    assert {"page", "track"} <= set(Event.objects.values_list("kind", flat=True))
    assert Event.objects.filter(name="Product Viewed", product__isnull=False).exists()
    assert Cart.objects.filter(items__isnull=False).exists()
    # Traits are computed for everyone the demo wrote, and agree with the orders.
    assert CustomerTraits.objects.count() == Customer.objects.count()
    buyer = CustomerTraits.objects.filter(order_count__gt=0).first()
    assert buyer is not None
    assert buyer.total_spend > 0
    assert CustomerTraits.objects.exclude(latest_nps=None).exists()
    assert CustomerTraits.objects.filter(overdue_services__gt=0).exists()
    assert CustomerTraits.objects.exclude(last_contact_by=None).exists()


@pytest.mark.django_db
def test_same_seed_gives_the_same_customers() -> None:
    run_demo("--customers", "120", "--seed", "7")
    first = sorted(Customer.objects.values_list("full_name", flat=True))
    first_orders = Order.objects.count()
    output = run_demo("--customers", "120", "--seed", "7", "--reset")
    assert "Deleted the previous demo data." in output
    assert sorted(Customer.objects.values_list("full_name", flat=True)) == first
    assert Order.objects.count() == first_orders
    # A reset gives the admin a new password, printed once.
    assert User.objects.get(username="admin").check_password(printed_password(output))


def test_the_plan_depends_only_on_the_seed() -> None:
    def names(seed: int) -> list[str]:
        return [
            record.raw.get("full_name") or record.raw["given_name"]
            for record in services.plan_people(80, seed)
        ]

    assert names(3) == names(3)
    assert names(3) != names(4)


@pytest.mark.django_db
def test_second_run_keeps_the_demo() -> None:
    run_demo("--customers", "30", "--seed", "2")
    count = Customer.objects.count()
    output = run_demo("--customers", "30", "--seed", "2")
    assert "Demo data already present" in output
    assert "kenal demo --reset" in output
    assert "password:" not in output
    assert Customer.objects.count() == count


@pytest.mark.django_db
def test_reset_never_deletes_real_customers() -> None:
    create_customer({"full_name": "Pelanggan Asli"}, Origin(source="api"))
    with pytest.raises(CommandError, match="1 customer\\(s\\) that are not demo data"):
        run_demo("--customers", "10", "--reset")
    with pytest.raises(CommandError, match="not demo data"):
        run_demo("--customers", "10")
    assert list(Customer.objects.values_list("full_name", flat=True)) == ["Pelanggan Asli"]


@pytest.mark.django_db
def test_customers_must_be_positive() -> None:
    with pytest.raises(CommandError, match="--customers: 0 must be at least 1"):
        run_demo("--customers", "0")
