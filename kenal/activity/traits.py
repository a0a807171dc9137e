"""Computed traits: the figures staff and segments read about a customer, kept current.

Every service that writes an activity calls :func:`refresh` for the customers it touched,
so traits are right the moment a write commits. Time windows move on without writes: the
worker runs :func:`refresh_moved_windows` every night (see :mod:`kenal.activity.tasks`), and
``kenal traits refresh`` recomputes everyone's.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

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
from kenal.customers.normalise import InvalidValue

__all__ = [
    "ENGAGEMENT_DAYS",
    "SPENDING",
    "as_dict",
    "days_since",
    "filter_customers",
    "filter_labels",
    "nps_category",
    "refresh",
    "refresh_all",
    "refresh_moved_windows",
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


def refresh_moved_windows(today: datetime.date | None = None) -> int:
    """Recompute the traits a new day can change without any write: engagement counted over
    the last 30 days, and services that have just become overdue. Returns how many."""
    today = today or timezone.localdate()
    engaged = CustomerTraits.objects.filter(Q(visits_30d__gt=0) | Q(opens_30d__gt=0))
    # Two days back: a day the refresh did not run (the server was down) is caught up.
    just_due = Subscription.objects.filter(
        status=Subscription.Status.ACTIVE,
        next_due__lt=today,
        next_due__gte=today - datetime.timedelta(days=2),
    )
    ids = set(engaged.values_list("customer_id", flat=True))
    ids.update(just_due.values_list("customer_id", flat=True))
    refresh(ids)
    return len(ids)


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
    by = source.last_contact_by
    values["last_contact_by"] = by.get_username() if by is not None else ""
    return values


def days_since(
    moment: datetime.datetime | None, now: datetime.datetime | None = None
) -> int | None:
    """Whole days from ``moment`` to now, or None when there is no moment."""
    if moment is None:
        return None
    return ((now or timezone.now()) - moment).days


# --- filtering customers by their traits ------------------------------------------------------

# Traits a list can be filtered on, by kind of value: counts and amounts compare as numbers
# (no traits yet counts as 0), "days since" compares with the moment stored.
NUMBER_TRAITS = (
    "order_count",
    "total_spend",
    "average_spend",
    "open_tickets",
    "overdue_services",
    "visits_30d",
    "opens_30d",
)
DAYS_SINCE_TRAITS = {
    "days_since_last_order": "last_order_at",
    "days_since_contact": "last_contact_at",
}
TEXT_TRAITS = ("favourite_category", "nps_category")
FILTERABLE = (*NUMBER_TRAITS, "latest_nps", *DAYS_SINCE_TRAITS, *TEXT_TRAITS)
COMPARISONS = {"eq": "exact", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte"}


def _zero_satisfies(operator: str, value: Decimal) -> bool:
    """Whether a customer with no traits yet (every count 0) meets the comparison."""
    return {"eq": value == 0, "lt": value > 0, "lte": value >= 0, "gt": False, "gte": value <= 0}[
        operator
    ]


def filter_customers(
    customers: QuerySet[Customer], name: str, operator: str, raw: str
) -> QuerySet[Customer]:
    """Customers whose trait ``name`` compares with ``raw`` by ``operator`` (eq, lt, lte, gt,
    gte); raises :class:`InvalidValue` naming what is wrong."""
    path = f"trait.{name}"
    if name not in FILTERABLE:
        raise InvalidValue(path, name, _("one of: %(names)s") % {"names": ", ".join(FILTERABLE)})
    if operator not in COMPARISONS:
        raise InvalidValue(path, operator, _("one of eq, lt, lte, gt, gte"))
    if name in TEXT_TRAITS:
        if operator != "eq":
            raise InvalidValue(path, operator, _("eq for this trait"))
        return customers.filter(**{f"traits__{name}__iexact": raw.strip()})
    value = _number(path, raw, whole=name not in ("total_spend", "average_spend"))
    if name in DAYS_SINCE_TRAITS:
        return _days_since(customers, DAYS_SINCE_TRAITS[name], operator, value)
    condition = Q(**{f"traits__{name}__{COMPARISONS[operator]}": value})
    if name != "latest_nps" and _zero_satisfies(operator, value):
        condition |= Q(traits__isnull=True)
    return customers.filter(condition)


def _number(path: str, raw: str, *, whole: bool) -> Decimal:
    try:
        value = Decimal(raw.strip().replace(",", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or (whole and value != value.to_integral_value()):
        expected = _("a whole number") if whole else _("a number")
        raise InvalidValue(path, raw, expected)
    return value


def _days_since(
    customers: QuerySet[Customer], moment: str, operator: str, days: Decimal
) -> QuerySet[Customer]:
    """Days are counted like :func:`days_since`: whole days, so "eq 3" is a 24-hour span."""
    now = timezone.now()
    start = now - datetime.timedelta(days=int(days) + 1)
    end = now - datetime.timedelta(days=int(days))
    field = f"traits__{moment}"
    bounds = {
        "eq": Q(**{f"{field}__gt": start, f"{field}__lte": end}),
        "gt": Q(**{f"{field}__lte": start}),
        "gte": Q(**{f"{field}__lte": end}),
        "lt": Q(**{f"{field}__gt": end}),
        "lte": Q(**{f"{field}__gt": start}),
    }
    return customers.filter(bounds[operator])


def filter_labels() -> dict[str, str]:
    """The filterable traits with the names a list offers them under."""
    return {
        "order_count": _("Orders"),
        "total_spend": _("Total spend"),
        "average_spend": _("Average order"),
        "days_since_last_order": _("Days since last order"),
        "days_since_contact": _("Days since last contact"),
        "favourite_category": _("Favourite category"),
        "open_tickets": _("Open tickets"),
        "overdue_services": _("Overdue services"),
        "latest_nps": _("Latest NPS"),
        "nps_category": _("NPS category"),
        "visits_30d": _("Visits (30 days)"),
        "opens_30d": _("Email opens (30 days)"),
    }
