"""Web and app events: written in bulk, tied to the customer they belong to, and turned into
orders, carts and product views.

:mod:`kenal.ingest.tracking` reads the Segment / RudderStack wire format into :class:`Call`
values and hands them to :func:`record`; nothing here knows about HTTP.

**Who did it.** An event belongs to the customer its ``userId`` names in the source (the
source's own id, as identity matching keeps it in source records) or, failing that, to the
customer its ``anonymousId`` was tied to by an earlier identify or alias. An event whose
person is not known yet keeps the id it came with in ``Event.anonymous_id``: its anonymousId,
or ``user:<userId>`` for a userId the source has not identified yet (its anonymousId then goes
to the ``$anonymousId`` property). **Stitching**: an identify or alias that ties these ids to a
customer links every event and cart kept under them to that customer, and turns the visitor's
waiting "Order Completed" events into orders (an order always has a customer).

**E-commerce** (Segment's e-commerce spec, v2): "Product Viewed" and "Product Clicked" name
their product on the event; "Product Added" / "Product Removed" change the cart, "Cart
Viewed" and "Checkout Started" list its whole content; "Order Completed" becomes an order with
its items (once per source and order id) and completes the cart; "Order Cancelled" and "Order
Refunded" change the order's status. A value these events carry that cannot be read (a price
that is not a number) leaves the order or cart unchanged and is reported; the event is kept.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _

from kenal.activity import traits
from kenal.activity.models import Cart, CartItem, Event, Order, OrderItem, Product
from kenal.activity.services import (
    ProductInfo,
    item_quantity,
    money_amount,
    name_sku,
    products_by_sku,
)
from kenal.customers import normalise
from kenal.customers.models import Customer, CustomField, SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import (
    CustomerInvalid,
    Origin,
    clean_customer,
    create_customer,
    update_customer,
)
from kenal.identity import services as identity
from kenal.identity.merging import MergeError, merge_customers
from kenal.ingest import bulk

__all__ = [
    "USER_KEY",
    "Call",
    "Problem",
    "Recorded",
    "customer_values",
    "record",
    "user_key",
]

Kind = Event.Kind
USER_KEY = "user:"
USER_ID_LENGTH = Event._meta.get_field("user_id").max_length or 100
ANONYMOUS_PROPERTY = "$anonymousId"
ORDER_COMPLETED = "Order Completed"
PRODUCT_EVENTS = frozenset(
    {"Product Viewed", "Product Clicked", "Product Added", "Product Removed"}
)
CART_EVENTS = frozenset({"Product Added", "Product Removed", "Cart Viewed", "Checkout Started"})
ORDER_CHANGES = {
    "Order Cancelled": Order.Status.CANCELLED,
    "Order Refunded": Order.Status.RETURNED,
}
SKU_LENGTH = Product._meta.get_field("sku").max_length or 64
ANONYMOUS_LENGTH = Event._meta.get_field("anonymous_id").max_length or 100
ORDER_NUMBER_LENGTH = Order._meta.get_field("order_number").max_length or 100
CART_ID_LENGTH = Cart._meta.get_field("cart_id").max_length or 100
CHUNK = 500


@dataclass(frozen=True)
class Call:
    """One tracking call, its shape already checked (:mod:`kenal.ingest.tracking`)."""

    kind: str  # an Event.Kind value
    message_id: str
    occurred_at: datetime.datetime
    user_id: str = ""
    anonymous_id: str = ""
    name: str = ""  # the track event's name, the page's or screen's name
    properties: Mapping[str, Any] = field(default_factory=dict)  # what the event keeps
    traits: Mapping[str, Any] = field(default_factory=dict)  # identify: the person's traits
    previous_id: str = ""  # alias: the id the person had before ``user_id``
    index: int = 0  # the call's place in its request, for reports


@dataclass
class Problem:
    """Something a stored call carried that could not be applied (or a refused call)."""

    index: int
    message_id: str
    errors: list[InvalidValue]
    source_record: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "messageId": self.message_id,
            "errors": [error.as_dict() for error in self.errors],
            "sourceRecord": self.source_record,
        }


@dataclass
class Recorded:
    """What :func:`record` did with a request's calls."""

    stored: int = 0
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)
    customers: set[int] = field(default_factory=set)


def user_key(user_id: str) -> str:
    """The id an event of a not-yet-identified userId is kept under."""
    return (USER_KEY + user_id)[:ANONYMOUS_LENGTH]


# --- recording ------------------------------------------------------------------------------


@transaction.atomic
def record(source: str, calls: Sequence[Call]) -> Recorded:
    """Store the calls of one request (a few queries for any number of track, page and screen
    calls), apply their identify, alias and e-commerce meaning, refresh traits once."""
    result = Recorded()
    fresh = _not_seen(source, calls, result)
    people = _People(source)
    people.load(fresh)
    for call in fresh:
        if call.kind == Kind.IDENTIFY:
            _identify(call, people, result)
        elif call.kind == Kind.ALIAS:
            _alias(call, people, result)
    products = _products(fresh, result)
    visited_today = _visited_today(fresh, people)
    written = _insert(source, fresh, people, products)
    result.customers |= _engagement_changed(written, visited_today)
    result.stored = len(fresh)
    stitched = people.stitch()
    _commerce(source, fresh, people, products, result)
    _orders_of_stitched(source, stitched, result)
    result.customers |= people.touched
    traits.refresh(result.customers)
    return result


def _not_seen(source: str, calls: Sequence[Call], result: Recorded) -> list[Call]:
    """The calls not stored before (a redelivered message is acknowledged, stored once)."""
    ids = list({call.message_id for call in calls})
    seen: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        seen.update(
            Event.objects.filter(source=source, message_id__in=chunk).values_list(
                "message_id", flat=True
            )
        )
    fresh = []
    for call in calls:
        if call.message_id in seen:
            result.duplicates += 1
        else:
            seen.add(call.message_id)
            fresh.append(call)
    return fresh


EVENT_COLUMNS = (
    "customer",
    "anonymous_id",
    "source",
    "message_id",
    "kind",
    "name",
    "product",
    "properties",
    "occurred_at",
    "received_at",
    "user_id",
)


def _insert(
    source: str, calls: Sequence[Call], people: _People, products: Mapping[str, Product]
) -> list[tuple[int, str, str, datetime.datetime]]:
    """The events as plain rows in one executemany (COPY on PostgreSQL): at thousands of events
    a second, building a model instance per event would cost more than writing it. Returns the
    customers, kinds, names and moments of the events that have a customer."""
    as_json = bulk.preparer(Event, "properties")
    as_moment = bulk.preparer(Event, "occurred_at")
    now = as_moment(timezone.now())
    rows: list[tuple[Any, ...]] = []
    for call in calls:
        customer, anonymous_id, properties = _who(call, people)
        product = products.get(call.message_id)
        rows.append(
            (
                customer,
                anonymous_id,
                source,
                call.message_id,
                call.kind,
                call.name,
                product.pk if product else None,
                as_json(properties),
                as_moment(call.occurred_at),
                now,
                call.user_id[:USER_ID_LENGTH],
            )
        )
    bulk.insert(Event, EVENT_COLUMNS, rows)
    return [
        (customer, kind, name, call.occurred_at)
        for (customer, _a, _s, _m, kind, name, *_rest), call in zip(rows, calls, strict=True)
        if customer is not None
    ]


VISITS = (Kind.PAGE, Kind.SCREEN)


def _visited_today(calls: Sequence[Call], people: _People) -> set[int]:
    """The customers of the calls' page and screen views who already have a view today."""
    customers = {
        customer
        for call in calls
        if call.kind in VISITS and (customer := people.customer_of(call)) is not None
    }
    if not customers:
        return set()
    views = Event.objects.filter(
        customer_id__in=customers, kind__in=VISITS, occurred_at__gte=_start_of_today()
    )
    return set(views.order_by().values_list("customer_id", flat=True).distinct())


def _start_of_today() -> datetime.datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _engagement_changed(
    written: Sequence[tuple[int, str, str, datetime.datetime]], visited_today: set[int]
) -> set[int]:
    """The customers whose computed traits the written events change: an email opened, or a
    page or screen view on a day not yet counted as a visit (a visit is a day with a view).

    Refreshing traits costs milliseconds per customer; most views are a customer's second or
    hundredth of the day, which changes nothing.
    """
    today = _start_of_today()
    changed: set[int] = set()
    for customer, kind, name, occurred_at in written:
        opened = kind == Kind.TRACK and name == traits.EMAIL_OPENED
        new_visit = kind in VISITS and (occurred_at < today or customer not in visited_today)
        if opened or new_visit:
            changed.add(customer)
    return changed


def _who(call: Call, people: _People) -> tuple[int | None, str, Mapping[str, Any]]:
    """The event's customer, the id it is kept under, and its properties."""
    customer = people.customer_of(call)
    if customer is not None or not call.user_id:
        return customer, call.anonymous_id, call.properties
    # Kept under the userId until it is identified; its anonymousId stays readable.
    properties = dict(call.properties)
    if call.anonymous_id:
        properties[ANONYMOUS_PROPERTY] = call.anonymous_id
    return None, user_key(call.user_id), properties


# --- who: userIds, anonymous ids, stitching -------------------------------------------------


class _People:
    """The customers a request's ids belong to, and the ids identify and alias tied to one."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.by_user: dict[str, int] = {}
        self.by_anonymous: dict[str, int] = {}
        self.to_stitch: dict[str, int] = {}  # anonymous key -> customer
        self.touched: set[int] = set()

    def load(self, calls: Sequence[Call]) -> None:
        users = {call.user_id for call in calls if call.user_id}
        users |= {call.previous_id for call in calls if call.previous_id}
        self.by_user = _customers_of_users(self.source, users)
        anonymous = {call.anonymous_id for call in calls if call.anonymous_id}
        anonymous |= {call.previous_id for call in calls if call.previous_id}
        self.by_anonymous = _customers_of_anonymous(anonymous)

    def user(self, user_id: str) -> int | None:
        return self.by_user.get(user_id) if user_id else None

    def anonymous(self, anonymous_id: str) -> int | None:
        return self.by_anonymous.get(anonymous_id) if anonymous_id else None

    def customer_of(self, call: Call) -> int | None:
        return self.user(call.user_id) or self.anonymous(call.anonymous_id)

    def tie(self, customer: int, user_ids: Iterable[str], anonymous_ids: Iterable[str]) -> None:
        """From now on these ids are ``customer``; what was kept under them is stitched."""
        for user_id in user_ids:
            if user_id:
                self.by_user[user_id] = customer
                self.to_stitch[user_key(user_id)] = customer
        for anonymous_id in anonymous_ids:
            if anonymous_id:
                self.by_anonymous[anonymous_id] = customer
                self.to_stitch[anonymous_id] = customer
        self.touched.add(customer)

    def stitch(self) -> dict[int, set[str]]:
        """Link the unlinked events and carts of every tied id; the keys stitched per customer."""
        keys: dict[int, set[str]] = {}
        for key, customer in self.to_stitch.items():
            keys.setdefault(customer, set()).add(key)
        for customer, customer_keys in keys.items():
            customer_keys |= _anonymous_ids_seen_with(customer_keys)
            unlinked = Q(anonymous_id__in=customer_keys, customer=None)
            Event.objects.filter(unlinked).update(customer_id=customer)
            Cart.objects.filter(unlinked).update(customer_id=customer)
        return keys


def _customers_of_users(source: str, user_ids: set[str]) -> dict[str, int]:
    """The customer each userId is in the source: as identity matching finds it by the
    source's own id (the latest source record wins; a merged customer leads to its survivor).

    Read directly rather than through :func:`identity.resolve_batch`, which also builds every
    record's person for fuzzy matching: a userId is all a track call has.
    """
    found: dict[str, int] = {}
    latest: dict[str, int] = {}
    ordered = sorted(user_ids)
    for start in range(0, len(ordered), CHUNK):
        rows = (
            SourceRecord.objects.filter(
                source=source, external_id__in=ordered[start : start + CHUNK]
            )
            .exclude(customer=None)
            .order_by()
            .values_list("id", "external_id", "customer_id")
        )
        for record_id, user_id, customer in rows:
            if customer is not None and record_id > latest.get(user_id, 0):
                latest[user_id], found[user_id] = record_id, customer
    final = identity.survivors(set(found.values()))
    return {user_id: final[customer] for user_id, customer in found.items()}


def _customers_of_anonymous(anonymous_ids: set[str]) -> dict[str, int]:
    """The customer each anonymous id was last tied to (its latest linked event says)."""
    if not anonymous_ids:
        return {}
    latest = (
        Event.objects.filter(anonymous_id__in=anonymous_ids, customer__isnull=False)
        .values("anonymous_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    rows = Event.objects.filter(id__in=list(latest)).values_list("anonymous_id", "customer_id")
    found = {anonymous_id: customer for anonymous_id, customer in rows if customer is not None}
    final = identity.survivors(set(found.values()))
    return {anonymous_id: final[customer] for anonymous_id, customer in found.items()}


def _anonymous_ids_seen_with(keys: set[str]) -> set[str]:
    """The anonymous ids events kept under ``user:<userId>`` keys carried."""
    user_keys = [key for key in keys if key.startswith(USER_KEY)]
    if not user_keys:
        return set()
    rows = (
        Event.objects.filter(anonymous_id__in=user_keys, customer=None)
        .annotate(seen=KT(f"properties__{ANONYMOUS_PROPERTY}"))
        .values_list("seen", flat=True)
        .distinct()
    )
    return {str(value) for value in rows if value}


def _identify(call: Call, people: _People, result: Recorded) -> None:
    """Tie the call's ids to the customer its userId and traits name (created when new)."""
    raw = customer_values(call.traits, _custom_keys())
    origin = Origin(
        source=people.source,
        batch_id=f"message:{call.message_id}"[:100],
        external_id=call.user_id,
    )
    known = people.user(call.user_id) or (
        None if call.user_id else people.anonymous(call.anonymous_id)
    )
    customer: int | None = known
    try:
        if known is not None and raw:
            update_customer(Customer.objects.get(pk=known), _with_stored(known, raw), origin)
        elif known is None and raw:
            customer = _resolve_new(raw, origin)
    except CustomerInvalid as exc:
        record_id = exc.source_record.pk if exc.source_record else None
        result.problems.append(Problem(call.index, call.message_id, exc.errors, record_id))
    if customer is not None:
        people.tie(customer, [call.user_id], [call.anonymous_id])


def _resolve_new(raw: Mapping[str, Any], origin: Origin) -> int:
    """The customer the values belong to by identity matching (updated), else a new one."""
    try:
        clean = clean_customer(raw, check_unique=False)
    except CustomerInvalid:
        create_customer(raw, origin)  # refuses again, keeping what was received
        raise
    keys = identity.MatchKeys.from_clean(
        clean, source=origin.source, external_id=origin.external_id
    )
    resolution = identity.resolve_batch([keys])[0]
    if resolution.match is not None:
        pk = resolution.match.customer_id
        update_customer(Customer.objects.get(pk=pk), _with_stored(pk, raw), origin)
        return pk
    customer = create_customer(raw, origin)
    identity.record_outcomes([(customer.pk, resolution)])
    return customer.pk


def _with_stored(customer_id: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with the customer's stored emails, phones and addresses kept beside the new ones:
    an identify adds contact points, it does not replace them."""
    values = dict(raw)
    customer = Customer.objects.get(pk=customer_id)
    if "emails" in values:
        emails = customer.emails.values("email", "is_primary", "is_verified")
        values["emails"] = [*emails, *values["emails"]]
    if "phones" in values:
        phones = customer.phones.values("number", "is_primary", "is_verified")
        values["phones"] = [*phones, *values["phones"]]
    if "addresses" in values:
        parts = ("street", "village", "district", "city", "province", "postcode", "country")
        stored_rows = list(customer.addresses.values(*parts, "label", "is_primary"))
        known = {tuple(str(row[name]).casefold() for name in parts) for row in stored_rows}
        new = [
            row
            for row in values["addresses"]
            if tuple(str(row.get(name) or "").casefold() for name in parts) not in known
        ]
        values["addresses"] = [*stored_rows, *new]
    return values


def _alias(call: Call, people: _People, result: Recorded) -> None:
    """``previous_id`` is ``user_id`` from now on: one customer, whichever was known."""
    current = people.user(call.user_id)
    previous = people.user(call.previous_id)
    customer = current or previous or people.anonymous(call.previous_id)
    if customer is None:
        customer = people.anonymous(call.anonymous_id)
    if customer is None:
        return
    if previous is not None and previous != customer:
        try:
            merge_customers(
                Customer.objects.get(pk=customer),
                Customer.objects.get(pk=previous),
                actor=None,
                reason=_("Alias in tracking source %(source)s: %(previous)s is %(user)s")
                % {"source": people.source, "previous": call.previous_id, "user": call.user_id},
            )
        except MergeError as exc:
            error = InvalidValue("previousId", call.previous_id, str(exc))
            result.problems.append(Problem(call.index, call.message_id, [error]))
        result.customers.add(previous)
    if current is None:
        _remember_user_id(people.source, call, customer)
    people.tie(customer, [call.user_id, call.previous_id], [call.previous_id, call.anonymous_id])


def _remember_user_id(source: str, call: Call, customer: int) -> None:
    """A source record that makes the new userId find the customer, as identity matching does."""
    SourceRecord.objects.create(
        customer_id=customer,
        source=source,
        batch_id=f"message:{call.message_id}"[:100],
        external_id=call.user_id,
        data={"previousId": call.previous_id, "userId": call.user_id},
        status=SourceRecord.Status.APPLIED,
        action=SourceRecord.Action.UNCHANGED,
    )


# --- traits -> customer values --------------------------------------------------------------

# Segment's reserved traits (https://segment.com/docs/connections/spec/identify/#traits), and
# their snake_case spelling, as the customer fields they fill.
NAME_TRAITS = {
    "name": "full_name",
    "firstName": "given_name",
    "first_name": "given_name",
    "lastName": "family_name",
    "last_name": "family_name",
    "birthday": "birth_date",
    "gender": "gender",
    "title": "job_title",
}


def _custom_keys() -> frozenset[str]:
    return frozenset(CustomField.objects.filter(archived_at=None).values_list("key", flat=True))


def customer_values(traits: Mapping[str, Any], custom_keys: frozenset[str]) -> dict[str, Any]:
    """The customer values an identify's traits carry, as every write path takes them.

    Traits that are no customer field (a plan, a login count) stay on the identify event only.
    """
    raw: dict[str, Any] = {}
    for trait, name in NAME_TRAITS.items():
        if trait in traits and traits[trait] not in (None, ""):
            raw[name] = traits[trait]
    if traits.get("email") not in (None, ""):
        raw["emails"] = [{"email": str(traits["email"])}]
    if traits.get("phone") not in (None, ""):
        raw["phones"] = [{"number": str(traits["phone"])}]
    company = traits.get("company")
    if isinstance(company, Mapping):
        company = company.get("name")
    if company not in (None, ""):
        raw["company"] = company
    address = traits.get("address")
    if isinstance(address, Mapping) and any(address.values()):
        raw["addresses"] = [_address(address)]
    elif address not in (None, ""):
        raw["addresses"] = [address]  # refused by the cleaning, which names it
    custom = {key: traits[key] for key in custom_keys if key in traits}
    if custom:
        raw["custom"] = custom
    return raw


def _address(address: Mapping[str, Any]) -> dict[str, Any]:
    parts = {
        "street": address.get("street"),
        "city": address.get("city"),
        "province": address.get("state") or address.get("region"),
        "postcode": address.get("postalCode") or address.get("postal_code"),
        "country": address.get("country"),
    }
    return {name: value for name, value in parts.items() if value not in (None, "")}


# --- e-commerce -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    product: ProductInfo
    quantity: int
    price: Decimal | None


def _products(calls: Sequence[Call], result: Recorded) -> dict[str, Product]:
    """The product each product event names (created when new), by message id."""
    wanted: dict[str, ProductInfo] = {}
    for call in calls:
        if call.kind == Kind.TRACK and call.name in PRODUCT_EVENTS:
            try:
                wanted[call.message_id] = _product_info(call.properties, "properties")
            except InvalidValue as error:
                result.problems.append(Problem(call.index, call.message_id, [error]))
    found = products_by_sku(wanted.values())
    return {message_id: found[info.sku] for message_id, info in wanted.items()}


def _product_info(values: Mapping[str, Any], path: str) -> ProductInfo:
    sku = values.get("sku") or values.get("product_id") or values.get("id")
    name = values.get("name")
    if isinstance(sku, bool) or not isinstance(sku, str | int | type(None)):
        raise InvalidValue(f"{path}.sku", sku, _("a SKU or product id as text"))
    name_text = str(name).strip() if isinstance(name, str | int) else ""
    sku_text = str(sku).strip() if sku is not None else ""
    if not sku_text and not name_text:
        raise InvalidValue(f"{path}.sku", "", _("a sku, product_id or name for the product"))
    if len(sku_text) > SKU_LENGTH:
        raise InvalidValue(
            f"{path}.sku", sku_text, _("at most %(limit)d characters") % {"limit": SKU_LENGTH}
        )
    category = values.get("category")
    return ProductInfo(
        sku=sku_text or name_sku(name_text),
        name=name_text[:200] or sku_text,
        category=str(category).strip()[:100] if isinstance(category, str) else "",
    )


def _lines(values: Mapping[str, Any], path: str) -> list[_Line]:
    """A product list (``products``) as order or cart lines; raises with every problem."""
    products = values.get("products")
    if products is None:
        return []
    if not isinstance(products, list):
        raise _Invalid([InvalidValue(f"{path}.products", products, _("a list of products"))])
    lines: list[_Line] = []
    errors: list[InvalidValue] = []
    for index, item in enumerate(products):
        item_path = f"{path}.products[{index}]"
        if not isinstance(item, Mapping):
            errors.append(InvalidValue(item_path, item, _("a product object")))
            continue
        try:
            lines.append(_line(item, item_path))
        except _Invalid as exc:
            errors.extend(exc.errors)
    if errors:
        raise _Invalid(errors)
    return lines


class _Invalid(ValueError):
    def __init__(self, errors: list[InvalidValue]) -> None:
        super().__init__(errors)
        self.errors = errors


def _line(values: Mapping[str, Any], path: str) -> _Line:
    errors: list[InvalidValue] = []
    info = quantity = price = None
    try:
        info = _product_info(values, path)
    except InvalidValue as error:
        errors.append(error)
    try:
        quantity = _quantity(values.get("quantity"), f"{path}.quantity")
    except InvalidValue as error:
        errors.append(error)
    try:
        price = _amount(values.get("price"), f"{path}.price")
    except InvalidValue as error:
        errors.append(error)
    if errors or info is None or quantity is None:
        raise _Invalid(errors)
    return _Line(info, quantity, price)


def _quantity(value: Any, path: str) -> int:
    if value is None or value == "":
        return 1
    return item_quantity(value, field=path)


def _amount(value: Any, path: str) -> Decimal | None:
    if value is None or value == "":
        return None
    return money_amount(normalise.parse_decimal(value, field=path), field=path, value=value)


def _commerce(
    source: str,
    calls: Sequence[Call],
    people: _People,
    products: Mapping[str, Product],
    result: Recorded,
) -> None:
    for call in calls:
        if call.kind != Kind.TRACK:
            continue
        try:
            if call.name in CART_EVENTS:
                _cart_event(source, call, people, products.get(call.message_id))
            elif call.name == ORDER_COMPLETED:
                # Read even for a visitor not known yet, so problems are reported now.
                order = _order_values(call.properties)
                customer = people.customer_of(call)
                if customer is not None and _order(source, call, customer, order):
                    result.customers.add(customer)
            elif call.name in ORDER_CHANGES:
                _order_change(source, call)
        except _Invalid as exc:
            result.problems.append(Problem(call.index, call.message_id, exc.errors))
        except InvalidValue as error:
            result.problems.append(Problem(call.index, call.message_id, [error]))


def _cart_event(source: str, call: Call, people: _People, product: Product | None) -> None:
    if call.name in ("Product Added", "Product Removed"):
        if product is None:
            return  # its product could not be read: reported with the product
        quantity = _quantity(call.properties.get("quantity"), "properties.quantity")
        price = _amount(call.properties.get("price"), "properties.price")
        cart = _cart(source, call, people)
        if call.name == "Product Added":
            _add(cart, product, quantity, price)
        else:
            _remove(cart, product, quantity)
        return
    lines = _lines(call.properties, "properties")
    cart = _cart(source, call, people)
    found = products_by_sku(line.product for line in lines)
    cart.items.all().delete()
    for line in lines:
        _add(cart, found[line.product.sku], line.quantity, line.price)


def _cart(source: str, call: Call, people: _People) -> Cart:
    """The cart the call names by ``cart_id``, else the person's open cart, else a new one."""
    customer = people.customer_of(call)
    anonymous_id = call.anonymous_id or (user_key(call.user_id) if call.user_id else "")
    cart_id = _text_id(call.properties.get("cart_id"), "properties.cart_id", CART_ID_LENGTH)
    cart: Cart | None = None
    if cart_id:
        cart = Cart.objects.filter(source=source, cart_id=cart_id).first()
    else:
        cart = _open_cart(source, customer, anonymous_id)
        cart_id = f"auto:{uuid.uuid4().hex}"
    if cart is None:
        return Cart.objects.create(
            source=source,
            cart_id=cart_id,
            customer_id=customer,
            anonymous_id=anonymous_id,
            created_at=call.occurred_at,
            updated_at=call.occurred_at,
        )
    cart.updated_at = max(cart.updated_at, call.occurred_at)
    if cart.customer_id is None and customer is not None:
        cart.customer_id = customer
    cart.save(update_fields=["updated_at", "customer"])
    return cart


def _open_cart(source: str, customer: int | None, anonymous_id: str) -> Cart | None:
    whose = Q(customer_id=customer) if customer is not None else Q(anonymous_id=anonymous_id)
    if customer is None and not anonymous_id:
        return None
    carts = Cart.objects.filter(whose, source=source, status=Cart.Status.OPEN)
    return carts.order_by("-updated_at", "-id").first()


def _add(cart: Cart, product: Product, quantity: int, price: Decimal | None) -> None:
    item = CartItem.objects.filter(cart=cart, product=product).first()
    if item is None:
        CartItem.objects.create(cart=cart, product=product, quantity=quantity, unit_price=price)
        return
    item.quantity += quantity
    if price is not None:
        item.unit_price = price
    item.save(update_fields=["quantity", "unit_price"])


def _remove(cart: Cart, product: Product, quantity: int) -> None:
    item = CartItem.objects.filter(cart=cart, product=product).first()
    if item is None:
        return
    if item.quantity <= quantity:
        item.delete()
    else:
        item.quantity -= quantity
        item.save(update_fields=["quantity"])


def _text_id(value: Any, path: str, limit: int) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidValue(path, value, _("an id as text"))
    text = str(value).strip()
    if len(text) > limit:
        raise InvalidValue(path, text, _("at most %(limit)d characters") % {"limit": limit})
    return text


@dataclass(frozen=True)
class _OrderValues:
    order_id: str
    lines: list[_Line]
    total: Decimal
    currency: str


def _order_values(values: Mapping[str, Any]) -> _OrderValues:
    """An "Order Completed"'s order, read; raises with every problem."""
    path = "properties"
    errors: list[InvalidValue] = []
    order_id = ""
    try:
        order_id = _text_id(values.get("order_id"), f"{path}.order_id", ORDER_NUMBER_LENGTH)
        if not order_id:
            errors.append(InvalidValue(f"{path}.order_id", "", _("the order's id")))
    except InvalidValue as error:
        errors.append(error)
    lines: list[_Line] = []
    try:
        lines = _lines(values, path)
    except _Invalid as exc:
        errors.extend(exc.errors)
    total, currency = _total(values, lines, path, errors)
    if errors:
        raise _Invalid(errors)
    return _OrderValues(order_id, lines, total, currency)


def _order(source: str, call: Call, customer: int, order: _OrderValues) -> bool:
    """The order as an order with its items, once per source and order id; whether written."""
    if Order.objects.filter(source=source, order_number=order.order_id).exists():
        return False
    written = Order.objects.create(
        customer_id=customer,
        source=source,
        order_number=order.order_id,
        ordered_at=call.occurred_at,
        status=Order.Status.COMPLETED,
        currency=order.currency,
        total=order.total,
    )
    found = products_by_sku(line.product for line in order.lines)
    OrderItem.objects.bulk_create(
        OrderItem(
            order=written,
            product=found[line.product.sku],
            quantity=line.quantity,
            unit_price=line.price or Decimal(0),
        )
        for line in order.lines
    )
    _complete_cart(source, call, customer, written)
    return True


def _total(
    values: Mapping[str, Any], lines: Sequence[_Line], path: str, errors: list[InvalidValue]
) -> tuple[Decimal, str]:
    """The order's total (``total``, else ``revenue``, else its items) and its currency."""
    total: Decimal | None = None
    for name in ("total", "revenue", "value"):
        if values.get(name) not in (None, ""):
            try:
                total = _amount(values[name], f"{path}.{name}")
            except InvalidValue as error:
                errors.append(error)
            break
    if total is None:
        total = sum(((line.price or Decimal(0)) * line.quantity for line in lines), Decimal(0))
    currency = str(Order._meta.get_field("currency").get_default())
    if values.get("currency") not in (None, ""):
        try:
            currency = normalise.currency(str(values["currency"]), field=f"{path}.currency")
        except InvalidValue as error:
            errors.append(error)
    return total, currency


def _complete_cart(source: str, call: Call, customer: int, order: Order) -> None:
    cart_id = _text_id(call.properties.get("cart_id"), "properties.cart_id", CART_ID_LENGTH)
    if cart_id:
        carts = Cart.objects.filter(source=source, cart_id=cart_id)
    else:
        anonymous_id = call.anonymous_id or user_key(call.user_id)
        carts = Cart.objects.filter(
            Q(customer_id=customer) | Q(anonymous_id=anonymous_id),
            source=source,
            status=Cart.Status.OPEN,
        )
    carts.update(status=Cart.Status.ORDERED, order=order, updated_at=call.occurred_at)


def _order_change(source: str, call: Call) -> None:
    order_id = _text_id(call.properties.get("order_id"), "properties.order_id", ORDER_NUMBER_LENGTH)
    if order_id:
        Order.objects.filter(source=source, order_number=order_id).update(
            status=ORDER_CHANGES[call.name]
        )


def _orders_of_stitched(source: str, stitched: Mapping[int, set[str]], result: Recorded) -> None:
    """The "Order Completed" events a visitor sent before being known, now as orders."""
    for customer, keys in stitched.items():
        waiting = Event.objects.filter(
            source=source,
            customer_id=customer,
            anonymous_id__in=keys,
            kind=Kind.TRACK,
            name=ORDER_COMPLETED,
        )
        for event in waiting.order_by("occurred_at", "id"):
            call = Call(
                kind=event.kind,
                message_id=event.message_id,
                occurred_at=event.occurred_at,
                anonymous_id=event.anonymous_id,
                name=event.name,
                properties=event.properties,
            )
            try:
                order = _order_values(call.properties)
            except _Invalid:
                continue  # reported when the event was received
            if _order(source, call, customer, order):
                result.customers.add(customer)
