"""One timeline of everything a customer did and everything done with them.

Orders (with their items), interactions, support tickets (opened and closed), services
(started, due and overdue), feedback, web and app activity (one entry per day, counted, so
hundreds of page views do not drown the rest), open carts (abandoned when idle for a day),
notes and consent changes — newest first, filtered by kind, a page at a time.

Each source is read with one bounded query (at most a page and one more row, newest first,
on the customer's index), the sources are merged here, and "show older" continues from a
cursor: the time, source and id of the last entry shown. No source ever reads a customer's
whole history.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Model,
    Prefetch,
    Q,
    QuerySet,
)
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from kenal.activity.models import (
    Cart,
    CartItem,
    CustomerTraits,
    Event,
    Feedback,
    Interaction,
    Order,
    OrderItem,
    Subscription,
    Ticket,
)
from kenal.activity.traits import nps_category
from kenal.customers.models import Customer, Note
from kenal.privacy.models import ConsentRecord

__all__ = [
    "ABANDONED_AFTER",
    "KINDS",
    "PAGE",
    "Entry",
    "Line",
    "TimelinePage",
    "kind_labels",
    "parse_kinds",
    "timeline",
]

PAGE = 20
# An open cart nobody touched for this long was abandoned.
ABANDONED_AFTER = datetime.timedelta(hours=24)
# Web and app events read per page at most; a busier day is counted, not read.
EVENT_SCAN = 1000
VISIBLE_EVENTS = (Event.Kind.PAGE, Event.Kind.SCREEN, Event.Kind.TRACK)
TOP_NAMES = 3
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

KINDS = (
    "order",
    "interaction",
    "ticket",
    "service",
    "feedback",
    "event",
    "cart",
    "note",
    "consent",
)


def kind_labels() -> dict[str, str]:
    """Each kind of entry as the filter chips name it."""
    return {
        "order": _("Orders"),
        "interaction": _("Calls and messages"),
        "ticket": _("Tickets"),
        "service": _("Services"),
        "feedback": _("Feedback"),
        "event": _("Web and app"),
        "cart": _("Carts"),
        "note": _("Notes"),
        "consent": _("Consent"),
    }


def _entry_labels() -> dict[str, str]:
    """Each kind as one entry of it is labelled."""
    return {
        "order": _("Order"),
        "interaction": _("Interaction"),
        "ticket": _("Ticket"),
        "service": _("Service"),
        "feedback": _("Feedback"),
        "event": _("Web and app"),
        "cart": _("Cart"),
        "note": _("Note"),
        "consent": _("Consent"),
    }


def parse_kinds(values: Iterable[str]) -> tuple[str, ...]:
    """The known kinds among ``values`` (each may be comma-separated), in the usual order."""
    wanted = {part.strip() for value in values for part in value.split(",")}
    return tuple(kind for kind in KINDS if kind in wanted)


@dataclass(frozen=True)
class Line:
    """One line of an order or a cart."""

    name: str
    sku: str
    quantity: int
    unit_price: Decimal | None
    total: Decimal | None


@dataclass(frozen=True)
class Entry:
    """One thing on the timeline.

    ``status`` names its state for the eye (cancelled, returned, overdue, abandoned…);
    ``all_day`` entries have a date but no time of day.
    """

    kind: str
    when: datetime.datetime
    title: str
    detail: str = ""
    who: str = ""
    link: str = ""
    status: str = ""
    status_label: str = ""
    all_day: bool = False
    lines: tuple[Line, ...] = ()
    # Where the entry sorts: its source's rank and its row's id break ties in time.
    rank: int = 0
    row: int = 0

    @property
    def sort_key(self) -> tuple[datetime.datetime, int, int]:
        return (self.when, self.rank, self.row)

    @property
    def kind_label(self) -> str:
        return _entry_labels()[self.kind]


@dataclass(frozen=True)
class Cursor:
    """Where "show older" continues: just after the entry at (when, rank, row)."""

    when: datetime.datetime
    rank: int
    row: int

    def encode(self) -> str:
        micros = (self.when - EPOCH) // datetime.timedelta(microseconds=1)
        return f"{micros}.{self.rank}.{self.row}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor in ``text``, or None for an empty or mangled one (the first page)."""
        parts = (text or "").strip().split(".")
        if len(parts) != 3 or not all(part.lstrip("-").isdigit() for part in parts):
            return None
        micros, rank, row = (int(part) for part in parts)
        try:
            when = EPOCH + datetime.timedelta(microseconds=micros)
        except OverflowError:
            return None
        return cls(when, rank, row)


@dataclass(frozen=True)
class TimelinePage:
    entries: list[Entry]
    kinds: tuple[str, ...]
    next_cursor: str | None = None


@dataclass(frozen=True)
class Batch:
    """What one source found: ``complete`` when it has nothing older than these."""

    entries: list[Entry]
    complete: bool


@dataclass(frozen=True)
class Source:
    """Where entries come from: ``read(customer_id, cursor, rank, limit)``."""

    kind: str
    rank: int
    read: Callable[[int, Cursor | None, int, int], Batch]


def timeline(
    customer: Customer,
    *,
    kinds: Sequence[str] = (),
    before: str | None = None,
    limit: int = PAGE,
) -> TimelinePage:
    """A page of ``customer``'s timeline, newest first, older than the ``before`` cursor.

    ``kinds`` keeps only those kinds of entry (all when empty).
    """
    chosen = parse_kinds(kinds)
    cursor = Cursor.decode(before)
    entries: list[Entry] = []
    complete = True
    for source in SOURCES:
        if chosen and source.kind not in chosen:
            continue
        batch = source.read(customer.pk, cursor, source.rank, limit)
        entries.extend(batch.entries)
        complete = complete and batch.complete
    entries.sort(key=lambda entry: entry.sort_key, reverse=True)
    shown = entries[:limit]
    more = shown and (len(entries) > limit or not complete)
    next_cursor = Cursor(*shown[-1].sort_key).encode() if more else None
    return TimelinePage(entries=shown, kinds=chosen, next_cursor=next_cursor)


# --- keyset paging over a time column -------------------------------------------------------


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _older(column: str, moment: datetime.datetime, *, dates: bool) -> Q:
    """Rows whose time in ``column`` is before ``moment`` (a date column: its local midnight)."""
    if not dates:
        return Q(**{f"{column}__lt": moment})
    day = timezone.localdate(moment)
    lookup = "lt" if moment == _local_midnight(day) else "lte"
    return Q(**{f"{column}__{lookup}": day})


def _same(column: str, moment: datetime.datetime, *, dates: bool) -> Q:
    if not dates:
        return Q(**{column: moment})
    day = timezone.localdate(moment)
    return Q(**{column: day}) if moment == _local_midnight(day) else Q(pk__in=[])


def _before(column: str, cursor: Cursor | None, rank: int, *, dates: bool = False) -> Q:
    """Rows that sort after the cursor, newest first by (time, source rank, id)."""
    if cursor is None:
        return Q()
    older = _older(column, cursor.when, dates=dates)
    same = _same(column, cursor.when, dates=dates)
    if rank < cursor.rank:
        return older | same
    if rank > cursor.rank:
        return older
    return older | (same & Q(pk__lt=cursor.row))


def _page(
    rows: QuerySet[Any],
    column: str,
    cursor: Cursor | None,
    rank: int,
    limit: int,
    *,
    dates: bool = False,
) -> tuple[list[Any], bool]:
    """At most ``limit`` + 1 rows after the cursor, newest first; and whether that was all."""
    after = rows.filter(_before(column, cursor, rank, dates=dates))
    found = list(after.order_by(f"-{column}", "-pk")[: limit + 1])
    return found, len(found) <= limit


def _admin_link(item: Model) -> str:
    """The row's back-office page, when the back office has one for its model."""
    meta = item._meta
    try:
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[item.pk])
    except NoReverseMatch:
        return ""


def _person(user: object) -> str:
    return str(user) if user is not None else ""


def _joined(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _money(currency: str, amount: Decimal) -> str:
    return f"{currency} {amount:,.2f}"


# --- orders ---------------------------------------------------------------------------------


def _orders(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    line_total = ExpressionWrapper(
        F("quantity") * F("unit_price"), output_field=DecimalField(max_digits=24, decimal_places=2)
    )
    items = OrderItem.objects.select_related("product").annotate(line_total=line_total)
    rows = Order.objects.filter(customer_id=customer_id).prefetch_related(
        Prefetch("items", queryset=items.order_by("id"))
    )
    found, complete = _page(rows, "ordered_at", cursor, rank, limit)
    return Batch([_order_entry(order, rank) for order in found], complete)


def _order_entry(order: Order, rank: int) -> Entry:
    lines = tuple(
        Line(
            name=item.product.name,
            sku=item.product.sku,
            quantity=item.quantity,
            unit_price=item.unit_price,
            total=item.line_total,  # type: ignore[attr-defined]
        )
        for item in order.items.all()
    )
    count = sum(line.quantity for line in lines)
    items = ngettext("%(count)d item", "%(count)d items", count) % {"count": count}
    return Entry(
        kind="order",
        when=order.ordered_at,
        title=_("Order %(number)s") % {"number": order.order_number},
        detail=_joined(
            _money(order.currency, order.total), items if lines else "", order.source, order.channel
        ),
        link=_admin_link(order),
        status=order.status,
        status_label=str(order.get_status_display()),
        lines=lines,
        rank=rank,
        row=order.pk,
    )


# --- interactions ---------------------------------------------------------------------------


def _interactions(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    rows = Interaction.objects.filter(customer_id=customer_id).select_related("staff")
    found, complete = _page(rows, "occurred_at", cursor, rank, limit)
    return Batch([_interaction_entry(item, rank) for item in found], complete)


def _interaction_titles() -> dict[tuple[str, str], str]:
    """Whole titles, so each language words them its own way ("Telepon keluar")."""
    inbound, outbound = Interaction.Direction.INBOUND, Interaction.Direction.OUTBOUND
    kinds = Interaction.Kind
    return {
        (inbound, kinds.CALL): _("Inbound call"),
        (outbound, kinds.CALL): _("Outbound call"),
        (inbound, kinds.CHAT): _("Inbound chat"),
        (outbound, kinds.CHAT): _("Outbound chat"),
        (inbound, kinds.EMAIL): _("Inbound email"),
        (outbound, kinds.EMAIL): _("Outbound email"),
        (inbound, kinds.VISIT): _("Store visit"),
        (outbound, kinds.VISIT): _("Visit to the customer"),
        (inbound, kinds.MEETING): _("Meeting requested by the customer"),
        (outbound, kinds.MEETING): _("Meeting"),
    }


def _interaction_entry(item: Interaction, rank: int) -> Entry:
    title = _interaction_titles().get((item.direction, item.kind), item.get_kind_display())
    return Entry(
        kind="interaction",
        when=item.occurred_at,
        title=title,
        detail=_joined(item.channel, item.summary),
        who=_person(item.staff),
        link=_admin_link(item),
        status=item.outcome,
        status_label=str(item.get_outcome_display()) if item.outcome else "",
        rank=rank,
        row=item.pk,
    )


# --- tickets --------------------------------------------------------------------------------


def _tickets_opened(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    rows = Ticket.objects.filter(customer_id=customer_id).select_related("assignee")
    found, complete = _page(rows, "opened_at", cursor, rank, limit)
    entries = [
        Entry(
            kind="ticket",
            when=ticket.opened_at,
            title=_("Ticket opened: %(subject)s") % {"subject": ticket.subject},
            detail=_joined(
                _("Priority: %(priority)s") % {"priority": ticket.get_priority_display()},
                ticket.description,
            ),
            who=_person(ticket.assignee),
            link=_admin_link(ticket),
            status=ticket.status,
            status_label=str(ticket.get_status_display()),
            rank=rank,
            row=ticket.pk,
        )
        for ticket in found
    ]
    return Batch(entries, complete)


def _tickets_closed(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    rows = Ticket.objects.filter(customer_id=customer_id, closed_at__isnull=False)
    found, complete = _page(rows.select_related("assignee"), "closed_at", cursor, rank, limit)
    entries = []
    for ticket in found:
        assert ticket.closed_at is not None
        entries.append(
            Entry(
                kind="ticket",
                when=ticket.closed_at,
                title=(
                    _("Ticket resolved: %(subject)s")
                    if ticket.status == Ticket.Status.RESOLVED
                    else _("Ticket closed: %(subject)s")
                )
                % {"subject": ticket.subject},
                who=_person(ticket.assignee),
                link=_admin_link(ticket),
                status=ticket.status,
                status_label=str(ticket.get_status_display()),
                rank=rank,
                row=ticket.pk,
            )
        )
    return Batch(entries, complete)


# --- services -------------------------------------------------------------------------------


def _services_started(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    rows = Subscription.objects.filter(customer_id=customer_id)
    found, complete = _page(rows, "started_on", cursor, rank, limit, dates=True)
    entries = [
        Entry(
            kind="service",
            when=_local_midnight(service.started_on),
            title=_("Service started: %(name)s") % {"name": service.name},
            detail=_every(service),
            link=_admin_link(service),
            status=service.status if service.status != Subscription.Status.ACTIVE else "",
            status_label=(
                str(service.get_status_display())
                if service.status != Subscription.Status.ACTIVE
                else ""
            ),
            all_day=True,
            rank=rank,
            row=service.pk,
        )
        for service in found
    ]
    return Batch(entries, complete)


def _services_due(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    rows = Subscription.objects.filter(
        customer_id=customer_id, status=Subscription.Status.ACTIVE, next_due__isnull=False
    )
    found, complete = _page(rows, "next_due", cursor, rank, limit, dates=True)
    today = timezone.localdate()
    return Batch([_due_entry(service, today, rank) for service in found], complete)


def _due_entry(service: Subscription, today: datetime.date, rank: int) -> Entry:
    assert service.next_due is not None
    if service.next_due < today:
        status, label = "overdue", _("Overdue")
    elif service.next_due == today:
        status, label = "due", _("Due today")
    else:
        status, label = "upcoming", _("Upcoming")
    return Entry(
        kind="service",
        when=_local_midnight(service.next_due),
        title=_("Service due: %(name)s") % {"name": service.name},
        detail=_every(service),
        link=_admin_link(service),
        status=status,
        status_label=label,
        all_day=True,
        rank=rank,
        row=service.pk,
    )


def _every(service: Subscription) -> str:
    if not service.interval_days:
        return ""
    return ngettext("every %(days)d day", "every %(days)d days", service.interval_days) % {
        "days": service.interval_days
    }


# --- feedback -------------------------------------------------------------------------------


def _feedback(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    rows = Feedback.objects.filter(customer_id=customer_id).select_related("order")
    found, complete = _page(rows, "given_at", cursor, rank, limit)
    return Batch([_feedback_entry(item, rank) for item in found], complete)


def _feedback_entry(item: Feedback, rank: int) -> Entry:
    status = ""
    label = ""
    if item.kind == Feedback.Kind.NPS:
        title = _("NPS %(score)s") % {"score": item.score}
        status = nps_category(item.score)
        label = str(CustomerTraits.NpsCategory(status).label) if status else ""
    elif item.kind in Feedback.SCALES:
        _low, high = Feedback.SCALES[item.kind]
        title = _("%(kind)s %(score)s of %(high)s") % {
            "kind": _("Rating") if item.kind == Feedback.Kind.RATING else "CSAT",
            "score": item.score,
            "high": high,
        }
    else:
        title = _("Comment")
    order = _("on order %(number)s") % {"number": item.order.order_number} if item.order else ""
    return Entry(
        kind="feedback",
        when=item.given_at,
        title=title,
        detail=_joined(item.comment, item.channel, order),
        link=_admin_link(item),
        status=status,
        status_label=label,
        rank=rank,
        row=item.pk,
    )


# --- web and app events: one entry per day --------------------------------------------------


@dataclass
class _Day:
    day: datetime.date
    when: datetime.datetime
    row: int
    kinds: Counter[str] = field(default_factory=Counter)
    names: Counter[str] = field(default_factory=Counter)


def _events(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    """Page and screen views and tracked actions, one entry per day with their counts.

    At most ``EVENT_SCAN`` events are read; when a day has more, it is counted in the
    database instead.
    """
    rows = Event.objects.filter(customer_id=customer_id, kind__in=VISIBLE_EVENTS)
    bound = _event_bound(rows, cursor, rank)
    scan = list(
        rows.filter(bound)
        .order_by("-occurred_at", "-pk")
        .values_list("occurred_at", "pk", "kind", "name", "product__name")[:EVENT_SCAN]
    )
    days: list[_Day] = []
    for occurred_at, pk, kind, name, product in scan:
        day = timezone.localdate(occurred_at)
        if not days or days[-1].day != day:
            days.append(_Day(day=day, when=occurred_at, row=pk))
        days[-1].kinds[kind] += 1
        if kind == Event.Kind.TRACK:
            days[-1].names[_joined(name, product or "") or str(Event.Kind.TRACK.label)] += 1
        elif name:
            days[-1].names[name] += 1
    capped = len(scan) == EVENT_SCAN
    if capped and days:
        _count_whole_day(rows.filter(bound), days[-1])
    complete = not capped and len(days) <= limit
    return Batch([_day_entry(day, rank) for day in days[: limit + 1]], complete)


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    return _local_midnight(day), _local_midnight(day + datetime.timedelta(days=1))


def _event_bound(rows: QuerySet[Event], cursor: Cursor | None, rank: int) -> Q:
    """The events of days not shown yet.

    A day's entry sorts at its latest event; when the cursor's day already has an entry on
    an earlier page, the next page starts the day before.
    """
    if cursor is None:
        return Q()
    start, end = _day_bounds(timezone.localdate(cursor.when))
    that_day = rows.filter(occurred_at__gte=start, occurred_at__lt=end)
    if that_day.exclude(_before("occurred_at", cursor, rank)).exists():
        return Q(occurred_at__lt=start)
    return _before("occurred_at", cursor, rank)


def _count_whole_day(rows: QuerySet[Event], day: _Day) -> None:
    """Count a day the scan reached only part of, by kind, in the database."""
    start, _end = _day_bounds(day.day)
    counts = (
        rows.filter(occurred_at__gte=start).values("kind").order_by("kind").annotate(n=Count("pk"))
    )
    day.kinds = Counter({row["kind"]: row["n"] for row in counts})


def _day_entry(day: _Day, rank: int) -> Entry:
    views = day.kinds[Event.Kind.PAGE]
    screens = day.kinds[Event.Kind.SCREEN]
    actions = day.kinds[Event.Kind.TRACK]
    parts = []
    if views:
        parts.append(ngettext("%(n)d page view", "%(n)d page views", views) % {"n": views})
    if screens:
        parts.append(ngettext("%(n)d screen view", "%(n)d screen views", screens) % {"n": screens})
    if actions:
        parts.append(ngettext("%(n)d action", "%(n)d actions", actions) % {"n": actions})
    top = ", ".join(
        name if count == 1 else f"{name} × {count}"  # noqa: RUF001 - the multiplication sign
        for name, count in day.names.most_common(TOP_NAMES)
    )
    return Entry(
        kind="event",
        when=day.when,
        title=_("Website and app: %(counts)s") % {"counts": ", ".join(parts)},
        detail=top,
        rank=rank,
        row=day.row,
    )


# --- carts ----------------------------------------------------------------------------------


def _carts(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    items = CartItem.objects.select_related("product").order_by("id")
    rows = Cart.objects.filter(customer_id=customer_id, status=Cart.Status.OPEN).prefetch_related(
        Prefetch("items", queryset=items)
    )
    found, complete = _page(rows, "updated_at", cursor, rank, limit)
    idle_since = timezone.now() - ABANDONED_AFTER
    return Batch([_cart_entry(cart, idle_since, rank) for cart in found], complete)


def _cart_entry(cart: Cart, idle_since: datetime.datetime, rank: int) -> Entry:
    lines = tuple(
        Line(
            name=item.product.name,
            sku=item.product.sku,
            quantity=item.quantity,
            unit_price=item.unit_price,
            total=item.unit_price * item.quantity if item.unit_price is not None else None,
        )
        for item in cart.items.all()
    )
    abandoned = cart.updated_at < idle_since
    count = sum(line.quantity for line in lines)
    return Entry(
        kind="cart",
        when=cart.updated_at,
        title=_("Abandoned cart") if abandoned else _("Cart in progress"),
        detail=_joined(
            ngettext("%(count)d item", "%(count)d items", count) % {"count": count}, cart.source
        ),
        link=_admin_link(cart),
        status="abandoned" if abandoned else "open",
        status_label=_("Abandoned") if abandoned else pgettext("status", "Open"),
        lines=lines,
        rank=rank,
        row=cart.pk,
    )


# --- notes and consent ----------------------------------------------------------------------


def _notes(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    rows = Note.objects.filter(customer_id=customer_id).select_related("author")
    found, complete = _page(rows, "created_at", cursor, rank, limit)
    entries = [
        Entry(
            kind="note",
            when=note.created_at,
            title=_("Note"),
            detail=note.body,
            who=_person(note.author),
            rank=rank,
            row=note.pk,
        )
        for note in found
    ]
    return Batch(entries, complete)


def _consents(customer_id: int, cursor: Cursor | None, rank: int, limit: int) -> Batch:
    rows = ConsentRecord.objects.filter(customer_id=customer_id).select_related("recorded_by")
    found, complete = _page(rows, "recorded_at", cursor, rank, limit)
    entries = [
        Entry(
            kind="consent",
            when=record.recorded_at,
            title=_("%(purpose)s: %(status)s")
            % {"purpose": record.get_purpose_display(), "status": record.get_status_display()},
            detail=_joined(record.method, record.source),
            who=_person(record.recorded_by),
            status=record.status,
            status_label=str(record.get_status_display()),
            rank=rank,
            row=record.pk,
        )
        for record in found
    ]
    return Batch(entries, complete)


# Each source with its rank: at the same moment, a higher rank shows first.
SOURCES: tuple[Source, ...] = (
    Source("consent", 1, _consents),
    Source("service", 2, _services_started),
    Source("service", 3, _services_due),
    Source("event", 4, _events),
    Source("cart", 5, _carts),
    Source("order", 6, _orders),
    Source("ticket", 7, _tickets_opened),
    Source("ticket", 8, _tickets_closed),
    Source("feedback", 9, _feedback),
    Source("interaction", 10, _interactions),
    Source("note", 11, _notes),
)
