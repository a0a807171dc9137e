"""Computed traits: the figures staff and segments read about a customer, kept current.

Every service that writes an activity calls :func:`refresh` for the customers it touched,
so traits are right the moment a write commits; :func:`refresh_all` (``kenal traits
refresh``, run daily) moves the time windows on for customers with no new activity.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from kenal.activity.models import (
    CustomerTraits,
    Event,
    Feedback,
    Interaction,
    Order,
    OrderItem,
    Subscription,
    Ticket,
)
from kenal.customers.models import Customer

__all__ = [
    "ENGAGEMENT_DAYS",
    "SPENDING",
    "as_dict",
    "days_since",
    "nps_category",
    "refresh",
    "refresh_all",
]

# Orders that count as spending: a cancelled or returned order was not a purchase.
SPENDING = (Order.Status.COMPLETED, Order.Status.PENDING)
ENGAGEMENT_DAYS = 30
EMAIL_OPENED = "Email Opened"
# Small enough for SQLite's parameter limit with room for each query's own parameters.
CHUNK = 500
TRAIT_FIELDS = [
    field.name
    for field in CustomerTraits._meta.concrete_fields
    if not field.primary_key and field.name != "customer"
]


def nps_category(score: int | None) -> str:
    """Promoter (9 or 10), passive (7 or 8) or detractor (0 to 6), as the Net Promoter System
    has it."""
    if score is None:
        return ""
    if score >= 9:
        return CustomerTraits.NpsCategory.PROMOTER
    if score >= 7:
        return CustomerTraits.NpsCategory.PASSIVE
    return CustomerTraits.NpsCategory.DETRACTOR


def refresh(customer_ids: Iterable[int | None]) -> None:
    """Recompute the traits of these customers from their activity, in a few queries per 500."""
    ids = sorted({pk for pk in customer_ids if pk is not None})
    now = timezone.now()
    for chunk in _chunks(ids):
        # A customer deleted meanwhile gets no traits row: the foreign key would refuse it.
        present = list(Customer.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        if present:
            _store(_compute(present, now))


def refresh_all(batch: int = CHUNK) -> int:
    """Recompute every current customer's traits; returns how many were computed."""
    done = 0
    last = 0
    current = Customer.objects.filter(merged_into=None).order_by("pk")
    while ids := list(current.filter(pk__gt=last).values_list("pk", flat=True)[:batch]):
        refresh(ids)
        done += len(ids)
        last = ids[-1]
    return done


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _compute(ids: Sequence[int], now: datetime.datetime) -> list[CustomerTraits]:
    traits = {pk: CustomerTraits(customer_id=pk, computed_at=now) for pk in ids}
    _orders(traits)
    _favourite_categories(traits)
    _last_contacts(traits)
    _counts(traits, now)
    _latest_nps(traits)
    _engagement(traits, now)
    return list(traits.values())


def _orders(traits: dict[int, CustomerTraits]) -> None:
    rows = (
        Order.objects.filter(customer_id__in=traits, status__in=SPENDING)
        .values("customer_id")
        .annotate(
            count=Count("id"),
            spend=Sum("total"),
            first=Min("ordered_at"),
            last=Max("ordered_at"),
        )
    )
    for row in rows:
        trait = traits[row["customer_id"]]
        trait.order_count = row["count"]
        trait.total_spend = row["spend"] or Decimal(0)
        trait.average_spend = (trait.total_spend / row["count"]).quantize(Decimal("0.01"))
        trait.first_order_at = row["first"]
        trait.last_order_at = row["last"]


def _favourite_categories(traits: dict[int, CustomerTraits]) -> None:
    """The category with the most items bought; ties go to the alphabetically first."""
    rows = (
        OrderItem.objects.filter(order__customer_id__in=traits, order__status__in=SPENDING)
        .exclude(product__category="")
        .values("order__customer_id", "product__category")
        .annotate(items=Sum("quantity"))
    )
    best: dict[int, tuple[int, str]] = {}
    for row in rows:
        key = (-row["items"], row["product__category"])
        pk = row["order__customer_id"]
        if pk not in best or key < best[pk]:
            best[pk] = key
    for pk, (_items, category) in best.items():
        traits[pk].favourite_category = category


def _last_contacts(traits: dict[int, CustomerTraits]) -> None:
    latest = (
        Interaction.objects.filter(customer_id__in=traits)
        .values("customer_id")
        .annotate(last=Max("occurred_at"))
    )
    wanted = Q()
    for row in latest:
        wanted |= Q(customer_id=row["customer_id"], occurred_at=row["last"])
    if not wanted:
        return
    # Several interactions at the same moment: the last one written wins.
    rows = Interaction.objects.filter(wanted).order_by("customer_id", "occurred_at", "id")
    for interaction in rows.only("customer_id", "occurred_at", "channel", "kind", "staff_id"):
        trait = traits[interaction.customer_id]
        trait.last_contact_at = interaction.occurred_at
        trait.last_contact_channel = interaction.channel or interaction.kind
        trait.last_contact_by_id = interaction.staff_id


def _counts(traits: dict[int, CustomerTraits], now: datetime.datetime) -> None:
    tickets = (
        Ticket.objects.filter(customer_id__in=traits, status__in=Ticket.OPEN_STATUSES)
        .values("customer_id")
        .annotate(count=Count("id"))
    )
    for row in tickets:
        traits[row["customer_id"]].open_tickets = row["count"]
    today = timezone.localdate(now)
    overdue = (
        Subscription.objects.filter(
            customer_id__in=traits, status=Subscription.Status.ACTIVE, next_due__lt=today
        )
        .values("customer_id")
        .annotate(count=Count("id"))
    )
    for row in overdue:
        traits[row["customer_id"]].overdue_services = row["count"]


def _latest_nps(traits: dict[int, CustomerTraits]) -> None:
    answers = Feedback.objects.filter(
        customer_id__in=traits, kind=Feedback.Kind.NPS, score__isnull=False
    )
    seen: set[int] = set()
    for pk, score in answers.order_by("customer_id", "-given_at", "-id").values_list(
        "customer_id", "score"
    ):
        if pk not in seen:
            seen.add(pk)
            traits[pk].latest_nps = score
            traits[pk].nps_category = nps_category(score)


def _engagement(traits: dict[int, CustomerTraits], now: datetime.datetime) -> None:
    """Visits are the days with a page or screen view; opens are "Email Opened" events."""
    recent = Event.objects.filter(
        customer_id__in=traits, occurred_at__gte=now - datetime.timedelta(days=ENGAGEMENT_DAYS)
    )
    visits = (
        recent.filter(kind__in=(Event.Kind.PAGE, Event.Kind.SCREEN))
        .annotate(day=TruncDate("occurred_at"))
        .values("customer_id")
        .annotate(days=Count("day", distinct=True))
    )
    for row in visits:
        traits[row["customer_id"]].visits_30d = row["days"]
    opens = (
        recent.filter(kind=Event.Kind.TRACK, name=EMAIL_OPENED)
        .values("customer_id")
        .annotate(count=Count("id"))
    )
    for opened in opens:
        traits[opened["customer_id"]].opens_30d = opened["count"]


def _store(rows: list[CustomerTraits]) -> None:
    CustomerTraits.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=TRAIT_FIELDS,
    )


def as_dict(traits: CustomerTraits | None) -> dict[str, Any]:
    """The traits as plain values (empty ones for a customer with no activity yet)."""
    source = traits or CustomerTraits()
    values: dict[str, Any] = {name: getattr(source, name) for name in TRAIT_FIELDS}
    values["last_contact_by"] = str(source.last_contact_by) if source.last_contact_by_id else ""
    return values


def days_since(
    moment: datetime.datetime | None, now: datetime.datetime | None = None
) -> int | None:
    """Whole days from ``moment`` to now, or None when there is no moment."""
    if moment is None:
        return None
    return ((now or timezone.now()) - moment).days
