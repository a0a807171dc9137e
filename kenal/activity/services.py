"""The rules every way in (imports, the tracking API, the UI, the REST API) shares for what
customers do: orders and products, interactions, support tickets, services and feedback.

Every write here refreshes the customer's computed traits (:mod:`kenal.activity.traits`)
before it returns, so a page or filter read right after sees them.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.activity import traits
from kenal.activity.models import (
    Feedback,
    Interaction,
    Order,
    Product,
    Subscription,
    Ticket,
)
from kenal.customers import normalise
from kenal.customers.models import Customer
from kenal.customers.normalise import InvalidValue

__all__ = [
    "DERIVED_SKU_PREFIX",
    "ActivityInvalid",
    "ProductInfo",
    "add_subscription",
    "change_ticket",
    "delete_activity",
    "item_quantity",
    "log_interaction",
    "money_amount",
    "name_sku",
    "open_ticket",
    "order_status",
    "products_by_sku",
    "record_feedback",
    "service_done",
    "set_ticket_status",
]

Status = Order.Status

# Whole phrases first: the words marketplaces (Shopee, Tokopedia, Lazada, TikTok Shop) and
# POS systems print, in English and Indonesian, compared as lower-case words.
STATUS_PHRASES: dict[str, str] = {
    "belum bayar": Status.PENDING,
    "perlu dikirim": Status.PENDING,
    "to ship": Status.PENDING,
    "ready to ship": Status.PENDING,
    "in transit": Status.PENDING,
    "on hold": Status.PENDING,
    "sampai di tujuan": Status.COMPLETED,
}

# Then single words. A status phrase often mixes words ("Selesai - Dikembalikan",
# "Dibatalkan setelah dikirim"), so the later state in an order's life wins: see STATUS_RANK.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "selesai",
            "completed",
            "complete",
            "delivered",
            "terkirim",
            "diterima",
            "done",
            "paid",
            "lunas",
            "sukses",
            "success",
            "berhasil",
            "fulfilled",
        ),
        Status.COMPLETED,
    ),
    **dict.fromkeys(
        (
            "dibatalkan",
            "batal",
            "pembatalan",
            "cancelled",
            "canceled",
            "cancel",
            "cancellation",
            "void",
            "voided",
            "gagal",
            "failed",
        ),
        Status.CANCELLED,
    ),
    **dict.fromkeys(
        (
            "dikembalikan",
            "pengembalian",
            "retur",
            "return",
            "returned",
            "refund",
            "refunded",
        ),
        Status.RETURNED,
    ),
    **dict.fromkeys(
        (
            "menunggu",
            "diproses",
            "dikirim",
            "dikemas",
            "belum",
            "baru",
            "pending",
            "processing",
            "shipped",
            "shipping",
            "unpaid",
            "awaiting",
            "new",
        ),
        Status.PENDING,
    ),
}

# Returned beats cancelled beats completed beats pending: each is a later step.
STATUS_RANK: dict[str, int] = {
    Status.RETURNED: 0,
    Status.CANCELLED: 1,
    Status.COMPLETED: 2,
    Status.PENDING: 3,
}

CENT = Decimal("0.01")
# Order.total and the item prices hold 16 digits, 2 of them after the mark.
AMOUNT_LIMIT = Decimal(10) ** 14
# Services repeat at most once a century: longer is a typing error, and overflows dates.
MAX_INTERVAL_DAYS = 36_500
# A product without a SKU in the file gets one from its name, marked so it is told apart.
DERIVED_SKU_PREFIX = "name:"
SKU_MAX_LENGTH = 64


def order_status(value: str, *, field: str = "status") -> str:
    """An :class:`Order.Status` from a status word or phrase (English or Indonesian)."""
    words = re.sub(r"[^0-9a-z]+", " ", value.casefold()).split()
    phrase = " ".join(words)
    if phrase in Status.values:
        return phrase
    if phrase in STATUS_PHRASES:
        return STATUS_PHRASES[phrase]
    found = {STATUS_WORDS[word] for word in words if word in STATUS_WORDS}
    if found:
        return min(found, key=STATUS_RANK.__getitem__)
    raise InvalidValue(field, value, _status_expected())


def _status_expected() -> str:
    return _(
        "an order status: completed (selesai, delivered, terkirim), cancelled (dibatalkan, "
        "batal, canceled), returned (dikembalikan, pengembalian, refunded) or pending "
        "(menunggu, diproses, dikirim, shipped)"
    )


def money_amount(amount: Decimal, *, field: str, value: object) -> Decimal:
    """An order's total or a price, read from ``value``: zero or more, below what the columns
    hold, to the cent."""
    if amount < 0:
        raise InvalidValue(field, value, _("an amount of 0 or more"))
    if amount >= AMOUNT_LIMIT:
        raise InvalidValue(field, value, _("an amount below 100,000,000,000,000"))
    return amount.quantize(CENT)


def item_quantity(value: object, *, field: str) -> int:
    """How many of a product an order or cart holds: a whole number of at least 1."""
    quantity = normalise.parse_integer(value, field=field)
    if quantity < 1:
        raise InvalidValue(field, value, _("a whole number of at least 1"))
    return quantity


def name_sku(name: str) -> str:
    """A stable SKU for a product known only by name: the same name, any case, gives the same.

    Long names or names with no Latin letters get a short hash, so two different names never
    share a SKU after being cut to the column's length.
    """
    slug = slugify(name)
    sku = DERIVED_SKU_PREFIX + slug
    if slug and len(sku) <= SKU_MAX_LENGTH:
        return sku
    digest = hashlib.sha256(" ".join(name.casefold().split()).encode()).hexdigest()[:12]
    room = SKU_MAX_LENGTH - len(DERIVED_SKU_PREFIX) - len(digest) - 1
    readable = f"{slug[:room]}-" if slug else ""
    return f"{DERIVED_SKU_PREFIX}{readable}{digest}"


@dataclass(frozen=True)
class ProductInfo:
    """A product as a file or event names it."""

    sku: str
    name: str
    category: str = ""


def products_by_sku(wanted: Iterable[ProductInfo]) -> dict[str, Product]:
    """The product for each SKU, created when missing; three queries for any number.

    A product that exists keeps its name and category: an export's shortened or
    differently-worded name never overwrites the catalogue's.
    """
    first: dict[str, ProductInfo] = {}
    for info in wanted:
        first.setdefault(info.sku, info)
    if not first:
        return {}
    found = {product.sku: product for product in Product.objects.filter(sku__in=first)}
    missing = [
        Product(sku=sku, name=info.name or sku, category=info.category)
        for sku, info in first.items()
        if sku not in found
    ]
    if missing:
        # Another import may create the same SKU meanwhile: its row wins, and is read back.
        Product.objects.bulk_create(missing, batch_size=1000, ignore_conflicts=True)
        created = Product.objects.filter(sku__in=[product.sku for product in missing])
        found.update((product.sku, product) for product in created)
    return found


# --- interactions, tickets, services, feedback --------------------------------------------


class ActivityInvalid(ValueError):
    """An activity that cannot be written; ``errors`` name each field, value and expectation."""

    def __init__(self, errors: Sequence[InvalidValue]):
        self.errors = list(errors)
        super().__init__("; ".join(str(error) for error in self.errors))


def _choice(field: str, value: str, choices: type[models.TextChoices]) -> str:
    if value in choices.values:
        return value
    expected = _("one of: %(values)s") % {"values": ", ".join(choices.values)}
    raise InvalidValue(field, value, expected)


def _text(field: str, value: str, model: type[models.Model], *, required: bool = False) -> str:
    text = value.strip()
    limit = getattr(model._meta.get_field(field), "max_length", None)
    if required and not text:
        raise InvalidValue(field, value, _("a non-empty text"))
    if limit and len(text) > limit:
        raise InvalidValue(field, value, _("at most %(limit)d characters") % {"limit": limit})
    return text


def _moment(field: str, value: datetime.datetime | None) -> datetime.datetime:
    """When something happened: now when not given; never in the future, which no timeline has."""
    if value is None:
        return timezone.now()
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + datetime.timedelta(minutes=5):
        raise InvalidValue(field, value.isoformat(), _("a moment that is not in the future"))
    return value


def _staff(field: str, user: User | None) -> User | None:
    """Only a current staff member can be recorded as having done something."""
    if user is not None and not user.is_active:
        raise InvalidValue(field, user.username, _("an active staff member"))
    return user


def _checked(*checks: object) -> None:
    """Raise every :class:`InvalidValue` the checks collected at once."""
    errors = [check for check in checks if isinstance(check, InvalidValue)]
    if errors:
        raise ActivityInvalid(errors)


def _attempt(check: object, *args: object, **kwargs: object) -> object:
    try:
        return check(*args, **kwargs)  # type: ignore[operator]
    except InvalidValue as error:
        return error


@transaction.atomic
def log_interaction(
    customer: Customer,
    *,
    kind: str,
    direction: str,
    staff: User | None,
    channel: str = "",
    outcome: str = "",
    summary: str = "",
    occurred_at: datetime.datetime | None = None,
) -> Interaction:
    """Record a call, chat, email, store visit or meeting with ``customer``."""
    values = {
        "kind": _attempt(_choice, "kind", kind, Interaction.Kind),
        "direction": _attempt(_choice, "direction", direction, Interaction.Direction),
        "outcome": _attempt(_choice, "outcome", outcome, Interaction.Outcome) if outcome else "",
        "channel": _attempt(_text, "channel", channel, Interaction),
        "occurred_at": _attempt(_moment, "occurred_at", occurred_at),
        "staff": _attempt(_staff, "staff", staff),
    }
    _checked(*values.values())
    interaction = Interaction.objects.create(customer=customer, summary=summary.strip(), **values)
    traits.refresh([customer.pk])
    return interaction


@transaction.atomic
def open_ticket(
    customer: Customer,
    *,
    subject: str,
    description: str = "",
    priority: str = Ticket.Priority.NORMAL,
    assignee: User | None = None,
    opened_at: datetime.datetime | None = None,
) -> Ticket:
    values = {
        "subject": _attempt(_text, "subject", subject, Ticket, required=True),
        "priority": _attempt(_choice, "priority", priority, Ticket.Priority),
        "opened_at": _attempt(_moment, "opened_at", opened_at),
        "assignee": _attempt(_staff, "assignee", assignee),
    }
    _checked(*values.values())
    ticket = Ticket.objects.create(customer=customer, description=description.strip(), **values)
    traits.refresh([customer.pk])
    return ticket


@transaction.atomic
def set_ticket_status(
    ticket: Ticket, status: str, *, at: datetime.datetime | None = None
) -> Ticket:
    """Move a ticket on; resolving or closing it stamps when, reopening clears that. Setting
    the status it already has changes nothing (a resolved ticket keeps when it was resolved)."""
    checked = _attempt(_choice, "status", status, Ticket.Status)
    moment = _attempt(_moment, "closed_at", at)
    if isinstance(moment, datetime.datetime) and moment < ticket.opened_at:
        moment = InvalidValue(
            "closed_at", moment.isoformat(), _("a moment on or after the ticket was opened")
        )
    _checked(checked, moment)
    if status == ticket.status:
        return ticket
    ticket.status = status
    ticket.closed_at = None if status in Ticket.OPEN_STATUSES else moment  # type: ignore[assignment]
    ticket.save(update_fields=["status", "closed_at"])
    traits.refresh([ticket.customer_id])
    return ticket


@transaction.atomic
def change_ticket(ticket: Ticket, *, priority: str, assignee: User | None) -> Ticket:
    """Reprioritise or reassign a ticket (its status moves with :func:`set_ticket_status`)."""
    values = {
        "priority": _attempt(_choice, "priority", priority, Ticket.Priority),
        "assignee": _attempt(_staff, "assignee", assignee),
    }
    _checked(*values.values())
    ticket.priority, ticket.assignee = priority, assignee
    ticket.save(update_fields=["priority", "assignee"])
    return ticket


@transaction.atomic
def add_subscription(
    customer: Customer,
    *,
    name: str,
    started_on: datetime.date,
    interval_days: int | None = None,
    next_due: datetime.date | None = None,
    product: Product | None = None,
) -> Subscription:
    """A service the customer has; due first on ``next_due``, else one interval after the start."""
    errors: list[object] = [
        _attempt(_text, "name", name, Subscription, required=True),
        _attempt(_interval, interval_days),
        _attempt(_not_after_today, "started_on", started_on),
    ]
    if next_due is not None and next_due < started_on:
        errors.append(
            InvalidValue("next_due", next_due.isoformat(), _("a date on or after the start"))
        )
    _checked(*errors)
    if next_due is None and interval_days:
        next_due = started_on + datetime.timedelta(days=interval_days)
    subscription = Subscription.objects.create(
        customer=customer,
        name=name.strip(),
        started_on=started_on,
        interval_days=interval_days,
        next_due=next_due,
        product=product,
    )
    traits.refresh([customer.pk])
    return subscription


def _interval(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= MAX_INTERVAL_DAYS:
        expected = _("a number of days from 1 to %(most)d") % {"most": MAX_INTERVAL_DAYS}
        raise InvalidValue("interval_days", str(days), expected)
    return days


def _not_after_today(field: str, day: datetime.date) -> datetime.date:
    if day > timezone.localdate():
        raise InvalidValue(field, day.isoformat(), _("a day that is not in the future"))
    return day


@transaction.atomic
def service_done(subscription: Subscription, on: datetime.date) -> Subscription:
    """The service was carried out ``on`` a day: it is next due one interval later."""
    done = _attempt(_not_after_today, "on", on)
    if on < subscription.started_on:
        done = InvalidValue("on", on.isoformat(), _("a day on or after the service started"))
    _checked(done)
    if subscription.interval_days:
        subscription.next_due = on + datetime.timedelta(days=subscription.interval_days)
    else:
        subscription.next_due = None
    subscription.save(update_fields=["next_due"])
    traits.refresh([subscription.customer_id])
    return subscription


@transaction.atomic
def record_feedback(
    customer: Customer,
    *,
    kind: str,
    score: int | None = None,
    comment: str = "",
    channel: str = "",
    order: Order | None = None,
    given_at: datetime.datetime | None = None,
) -> Feedback:
    """A rating (1 to 5), NPS (0 to 10) or CSAT (1 to 5) answer, with an optional comment;
    or a comment alone."""
    moment = _attempt(_moment, "given_at", given_at)
    errors: list[object] = [
        _attempt(_choice, "kind", kind, Feedback.Kind),
        _attempt(_text, "channel", channel, Feedback),
        moment,
    ]
    scale = Feedback.SCALES.get(kind)
    if scale and (score is None or not scale[0] <= score <= scale[1]):
        errors.append(
            InvalidValue(
                "score",
                "" if score is None else str(score),
                _("a whole number from %(low)d to %(high)d") % {"low": scale[0], "high": scale[1]},
            )
        )
    if kind == Feedback.Kind.COMMENT and not comment.strip():
        errors.append(InvalidValue("comment", comment, _("a non-empty text")))
    if kind == Feedback.Kind.COMMENT and score is not None:
        errors.append(InvalidValue("score", str(score), _("no score for a comment")))
    if order is not None and order.customer_id != customer.pk:
        errors.append(InvalidValue("order", order.order_number, _("one of the customer's orders")))
    _checked(*errors)
    assert isinstance(moment, datetime.datetime)  # _checked raised otherwise
    feedback = Feedback.objects.create(
        customer=customer,
        kind=kind,
        score=score if scale else None,
        comment=comment.strip(),
        channel=channel.strip(),
        order=order,
        given_at=moment,
    )
    traits.refresh([customer.pk])
    return feedback


@transaction.atomic
def delete_activity(item: Interaction | Ticket | Subscription | Feedback | Order) -> None:
    """Remove one activity; the customer's traits no longer count it."""
    customer_id = item.customer_id
    item.delete()
    traits.refresh([customer_id])
