"""Writing a batch of order rows: clean, find or create the customer, fold lines into orders.

Marketplace and POS exports usually hold one row per order line, the order id repeated on each
line; some hold one row per order without product columns. Orders are unique on (source, order
id), so importing a file again changes nothing, and a newer export of the same orders only
updates what changed (a status that became cancelled or returned).

One batch costs a fixed number of queries whatever its size — the order, product and customer
lookups, one bulk insert per table, one update for changed orders — plus a few for each
customer the batch creates (through the customer services, like any other new customer).
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.activity import traits
from kenal.activity.models import Order, OrderItem
from kenal.activity.services import (
    CENT,
    ProductInfo,
    item_quantity,
    money_amount,
    name_sku,
    order_status,
    products_by_sku,
)
from kenal.customers import normalise
from kenal.customers.models import SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import CustomerInvalid, Origin, create_customer
from kenal.identity import keys as blocking
from kenal.identity.services import MatchKeys, find_matches
from kenal.ingest.customer_rows import Counts
from kenal.ingest.mapping import PHONE_SEPARATORS, split_name
from kenal.ingest.models import Import
from kenal.ingest.readers import Row
from kenal.ingest.received import ConsentLedger, keep_rows
from kenal.privacy.services import ConsentDeclaration

__all__ = ["OrderRowWriter"]

Action = SourceRecord.Action
Line = tuple[int, int, Decimal]  # product id, quantity, unit price
DEFAULT_CURRENCY = "IDR"
# In rupiah "." only ever groups thousands (there are no cents in use), so "150.000" in an
# IDR file is 150000, not the ambiguous number it would be elsewhere.
RUPIAH_GROUPED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")
# Marketplaces hide buyers' contacts ("6281****890", "******@gmail.com"): not a usable key.
MASK = "*"


@dataclass
class OrderRow:
    """One row's cleaned values."""

    order_number: str
    ordered_at: datetime.datetime
    status: str
    channel: str
    currency: str
    total: Decimal | None
    product: ProductInfo | None
    quantity: int
    unit_price: Decimal
    customer_ref: str  # the customer's id in the source
    customer_name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    raw_customer: dict[str, Any]  # the customer's values as received, to create them

    @property
    def has_customer_key(self) -> bool:
        return bool(self.customer_ref or self.emails or self.phones)

    def match_keys(self) -> list[str]:
        """The row's customer keys as the writer remembers them within one import."""
        found = [f"i:{self.customer_ref}"] if self.customer_ref else []
        found += [f"e:{email.lower()}" for email in self.emails]
        found += [f"p:{phone}" for phone in self.phones]
        return found


@dataclass
class Entry:
    """One row on its way through the batch."""

    number: int
    data: Row
    external_id: str
    clean: OrderRow | None
    errors: list[InvalidValue] = field(default_factory=list)
    customer_id: int | None = None
    action: str = ""  # what the row did to its customer (a SourceRecord action)
    count: str = ""  # which of the import's counts it adds to


@dataclass
class OrderState:
    """An order this import touched; kept between batches, since an order's lines may span two."""

    order: Order
    created: bool  # by this import
    # The order's first row in the file: order-level values come from it. None for a stored
    # order until its first row is folded in.
    head: OrderRow | None
    stored: list[Line] = field(default_factory=list)  # its lines before this import
    written: list[Line] = field(default_factory=list)  # its lines in the database now
    lines: list[Line] = field(default_factory=list)  # its lines in this file so far
    totals: list[Decimal] = field(default_factory=list)  # the total column, row by row
    counted: bool = False  # already counted as created or updated

    def wanted_lines(self) -> list[Line]:
        # A re-import whose lines are all among the stored ones leaves them alone: a later
        # batch of the same file may still bring the order's remaining lines.
        if not self.created and Counter(self.lines) <= Counter(self.stored):
            return self.stored
        return self.lines

    def wanted_total(self, lines: Sequence[Line]) -> Decimal:
        if self.totals:
            # An order-level total repeats on each line; different values are line subtotals.
            total = self.totals[0] if len(set(self.totals)) == 1 else sum(self.totals, Decimal())
        else:
            total = sum((quantity * price for _product, quantity, price in lines), Decimal())
        return total.quantize(CENT)


class OrderRowWriter:
    """Writes the rows of one order import; keeps what it learnt between batches."""

    def __init__(
        self,
        run: Import,
        *,
        declaration: ConsentDeclaration,
        actor: User | None,
    ) -> None:
        self.run = run
        self.consent = ConsentLedger(run, declaration, actor)
        self.actor = actor
        self.orders: dict[str, OrderState] = {}
        self.created_customers: set[int] = set()
        self.customer_keys: dict[str, int] = {}  # keys of customers this import created

    def write(self, rows: Sequence[tuple[int, Row]]) -> Counts:
        entries = [entry for entry in map(self._entry, rows) if entry is not None]
        self._load_orders({e.clean.order_number for e in entries if e.clean is not None})
        self._find_customers([entry for entry in entries if not entry.errors])
        accepted = [entry for entry in entries if not entry.errors]
        products = products_by_sku(
            entry.clean.product for entry in accepted if entry.clean and entry.clean.product
        )
        touched = self._fold(accepted, {sku: product.pk for sku, product in products.items()})
        changed = self._save(touched)
        traits.refresh(state.order.customer_id for state in touched)
        self._count(accepted, changed)
        counts = Counts(empty=len(rows) - len(entries))
        for entry in entries:
            name = "rejected" if entry.errors else entry.count
            setattr(counts, name, getattr(counts, name) + 1)
        self.consent.record(entries, keep_rows(self.run, self.actor, entries))
        return counts

    # --- cleaning ---------------------------------------------------------------------------

    def _entry(self, item: tuple[int, Row]) -> Entry | None:
        number, data = item
        if not any((value or "").strip() for value in data.values()):
            return None
        values, emails, phones = self._values(data)
        external_id = values.get("order_id", "")[:200]
        errors: list[InvalidValue] = []
        clean = _clean_row(values, emails, phones, self.run.source, errors)
        if errors or clean is None:
            return Entry(number, data, external_id, None, errors)
        return Entry(number, data, clean.order_number, clean)

    def _values(self, data: Row) -> tuple[dict[str, str], list[str], list[str]]:
        """The row's non-blank cells by target; emails and phones may come from several."""
        values: dict[str, str] = {}
        emails: list[str] = []
        phones: list[str] = []
        for column, target in self.run.mapping.items():
            value = (data.get(column) or "").strip()
            if not target or not value:
                continue
            if target == "customer_email":
                emails += [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
            elif target == "customer_phone":
                phones += [part for part in PHONE_SEPARATORS.split(value) if part]
            else:
                values.setdefault(target, value)
        return values, emails, phones

    # --- orders -----------------------------------------------------------------------------

    def _load_orders(self, numbers: set[str]) -> None:
        """Orders of this source stored before this import, with their lines (two queries)."""
        wanted = sorted(numbers - self.orders.keys())
        if not wanted:
            return
        stored: dict[int, Order] = {
            order.pk: order
            for order in Order.objects.filter(source=self.run.source, order_number__in=wanted)
        }
        lines: dict[int, list[Line]] = {pk: [] for pk in stored}
        items = (
            OrderItem.objects.filter(order_id__in=stored)
            .order_by("id")
            .values_list("order_id", "product_id", "quantity", "unit_price")
        )
        for order_id, product_id, quantity, price in items:
            lines[order_id].append((product_id, quantity, price.quantize(CENT)))
        for pk, order in stored.items():
            self.orders[order.order_number] = OrderState(
                order, created=False, head=None, stored=lines[pk], written=list(lines[pk])
            )

    def _fold(self, entries: list[Entry], product_ids: Mapping[str, int]) -> list[OrderState]:
        """Add each row's line to its order (new orders are built here, saved in _save)."""
        touched: dict[str, OrderState] = {}
        for entry in entries:
            row = entry.clean
            assert row is not None
            assert entry.customer_id is not None
            state = self.orders.get(row.order_number)
            if state is None:
                state = OrderState(_new_order(row, entry.customer_id, self.run), True, row)
                self.orders[row.order_number] = state
            elif state.head is None:
                state.head = row
            if row.product is not None:
                state.lines.append((product_ids[row.product.sku], row.quantity, row.unit_price))
            if row.total is not None:
                state.totals.append(row.total)
            touched[row.order_number] = state
        return list(touched.values())

    def _save(self, states: list[OrderState]) -> set[str]:
        """Write new orders, new lines and changed values; returns the changed order numbers."""
        changed: set[str] = set()
        dirty: list[Order] = []
        for state in states:
            if state.order.pk is None:
                changed.add(state.order.order_number)  # new: counted as created
            if _apply_head(state):
                changed.add(state.order.order_number)
                dirty.append(state.order)
        Order.objects.bulk_create([state.order for state in states if state.order.pk is None])
        replaced: list[int] = []
        items: list[OrderItem] = []
        for state in states:
            wanted = state.wanted_lines()
            if wanted == state.written:
                continue
            changed.add(state.order.order_number)
            if wanted[: len(state.written)] == state.written:
                new_lines = wanted[len(state.written) :]  # more lines of the same order
            else:
                replaced.append(state.order.pk)
                new_lines = wanted
            items += [
                OrderItem(order=state.order, product_id=product, quantity=qty, unit_price=price)
                for product, qty, price in new_lines
            ]
            state.written = list(wanted)
        OrderItem.objects.filter(order_id__in=replaced).delete()
        OrderItem.objects.bulk_create(items, batch_size=1000)
        Order.objects.bulk_update(dirty, ORDER_FIELDS, batch_size=500)
        return changed

    def _count(self, entries: list[Entry], changed: set[str]) -> None:
        """Created / updated once per order, merged for its other rows, else unchanged."""
        for entry in entries:
            assert entry.clean is not None
            number = entry.clean.order_number
            state = self.orders[number]
            if number not in changed:
                entry.count = "merged" if state.created else "unchanged"
            elif state.counted:
                entry.count = "merged"
            else:
                entry.count = "created" if state.created else "updated"
                state.counted = True

    # --- customers --------------------------------------------------------------------------

    def _find_customers(self, entries: list[Entry]) -> None:
        """Give each row its order's customer: known, matched, or created from the row."""
        pending: dict[str, list[Entry]] = {}
        for entry in entries:
            assert entry.clean is not None
            state = self.orders.get(entry.clean.order_number)
            if state is not None:
                self._reach(entry, state.order.customer_id)
            else:
                pending.setdefault(entry.clean.order_number, []).append(entry)
        # The order's first row naming its customer decides who the customer is.
        heads = {
            number: next((e for e in group if e.clean and e.clean.has_customer_key), None)
            for number, group in pending.items()
        }
        keyed = [entry for entry in heads.values() if entry is not None]
        matches = find_matches([_match_keys(entry, self.run.source) for entry in keyed])
        matched = {
            id(entry): match.customer_id
            for entry, match in zip(keyed, matches, strict=True)
            if match is not None
        }
        for number, group in pending.items():
            head = heads[number]
            if head is None:
                error = InvalidValue("customer", "", _("a customer email, phone or id"))
                for entry in group:
                    entry.errors.append(error)
                continue
            customer_id = matched.get(id(head)) or self._known(head)
            created = customer_id is None
            if customer_id is None:
                customer_id = self._create_customer(head, group)
            if customer_id is None:
                continue
            for entry in group:
                self._reach(entry, customer_id)
            if created:
                head.action = Action.CREATED

    def _known(self, entry: Entry) -> int | None:
        """A customer this import created from an earlier row (not in the lookups yet)."""
        assert entry.clean is not None
        return next(
            (
                self.customer_keys[key]
                for key in entry.clean.match_keys()
                if key in self.customer_keys
            ),
            None,
        )

    def _reach(self, entry: Entry, customer_id: int) -> None:
        entry.customer_id = customer_id
        entry.action = Action.MERGED if customer_id in self.created_customers else Action.UNCHANGED

    def _create_customer(self, head: Entry, group: list[Entry]) -> int | None:
        """Create the customer from the row, as any new customer is; None (rows refused) if not."""
        row = head.clean
        assert row is not None
        if not (row.customer_name or row.emails or row.phones):
            error = InvalidValue(
                "customer_id",
                row.customer_ref,
                _(
                    "the id of a customer imported earlier from %(source)s, or the customer's "
                    "name, email or phone to create them"
                )
                % {"source": self.run.source},
            )
            for entry in group:
                entry.errors.append(error)
            return None
        origin = Origin(
            source=self.run.source,
            batch_id=self.run.batch_id,
            external_id=row.customer_ref,
            actor=self.actor,
        )
        try:
            customer = create_customer(row.raw_customer, origin)
        except CustomerInvalid as exc:
            # The row's own source record keeps these values with the errors; the customer
            # services' copy would show up as a second, row-less rejection in the report.
            if exc.source_record is not None and exc.source_record.pk is not None:
                exc.source_record.delete()
            for entry in group:
                entry.errors.extend(exc.errors)
            return None
        self.created_customers.add(customer.pk)
        blocking.refresh([customer.pk])
        for key in row.match_keys():
            self.customer_keys.setdefault(key, customer.pk)
        return customer.pk


# --- helpers ----------------------------------------------------------------------------------

ORDER_FIELDS = ["ordered_at", "status", "channel", "currency", "total"]


def _new_order(row: OrderRow, customer_id: int, run: Import) -> Order:
    return Order(
        customer_id=customer_id,
        source=run.source,
        order_number=row.order_number,
        import_batch=run.batch_id,
        total=Decimal(0),
    )


def _apply_head(state: OrderState) -> bool:
    """Set the order's values from the file; True when a stored order's values changed."""
    row, order = state.head, state.order
    assert row is not None
    wanted = {
        "ordered_at": row.ordered_at,
        "status": row.status,
        "channel": row.channel,
        "currency": row.currency,
        "total": state.wanted_total(state.wanted_lines()),
    }
    differs = any(getattr(order, name) != value for name, value in wanted.items())
    for name, value in wanted.items():
        setattr(order, name, value)
    return differs and order.pk is not None


def _match_keys(entry: Entry, source: str) -> MatchKeys:
    row = entry.clean
    assert row is not None
    return MatchKeys(
        source=source,
        external_id=row.customer_ref,
        emails=row.emails,
        phones=row.phones,
        full_name=row.customer_name,
    )


def _clean_row(
    values: Mapping[str, str],
    emails: Iterable[str],
    phones: Iterable[str],
    source: str,
    errors: list[InvalidValue],
) -> OrderRow | None:
    """The row's values checked and normalised; every problem goes to ``errors``."""

    def check(name: str, parse: Any, default: Any = None) -> Any:
        if name not in values:
            return default
        try:
            return parse(values[name])
        except InvalidValue as exc:
            errors.append(exc)
            return default

    order_number = check("order_id", lambda v: normalise.text(v, field="order_id", max_length=100))
    if "order_id" not in values:
        errors.append(InvalidValue("order_id", "", _("the order's id (number or invoice)")))
    ordered_at = check("ordered_at", lambda v: normalise.parse_datetime(v, field="ordered_at"))
    if "ordered_at" not in values:
        errors.append(InvalidValue("ordered_at", "", _("the date the order was placed")))
    currency = check("currency", normalise.currency, DEFAULT_CURRENCY)
    total = check("total", lambda v: _amount(v, "total", currency))
    product = _product(values, errors)
    quantity = check("quantity", lambda v: item_quantity(v, field="quantity"), 1)
    unit_price = check("unit_price", lambda v: _amount(v, "unit_price", currency))
    if product is None and total is None and "total" not in values:
        errors.append(
            InvalidValue("total", "", _("the order's total, or a product with its unit price"))
        )
    if product is not None and unit_price is None and "unit_price" not in values:
        if "total" not in values:
            errors.append(
                InvalidValue("unit_price", "", _("the product's unit price, or the order's total"))
            )
        unit_price = Decimal(0)  # unknown: the order keeps its total from the total column
    raw_customer = _customer_values(values, emails, phones)
    clean_emails = _contacts(emails, "customer_email", normalise.email, errors)
    clean_phones = _contacts(phones, "customer_phone", normalise.phone, errors)
    name = check("customer_name", lambda v: normalise.person_name(v, field="customer_name"), "")
    ref = check("customer_id", lambda v: normalise.text(v, field="customer_id", max_length=200))
    status = check("status", lambda v: order_status(v, field="status"), Order.Status.COMPLETED)
    channel = check("channel", lambda v: normalise.text(v, field="channel", max_length=100), source)
    if errors:
        return None
    return OrderRow(
        order_number=order_number,
        ordered_at=ordered_at,
        status=status,
        channel=channel,
        currency=currency,
        total=total,
        product=product,
        quantity=quantity,
        unit_price=unit_price,
        customer_ref=ref or "",
        customer_name=name,
        emails=clean_emails,
        phones=clean_phones,
        raw_customer=raw_customer,
    )


def _product(values: Mapping[str, str], errors: list[InvalidValue]) -> ProductInfo | None:
    found: dict[str, str] = {}
    for name, length in (("sku", 64), ("product_name", 200), ("category", 100)):
        if name in values:
            try:
                found[name] = normalise.text(values[name], field=name, max_length=length)
            except InvalidValue as exc:
                errors.append(exc)
    sku, name = found.get("sku", ""), found.get("product_name", "")
    if not (sku or name):
        return None
    return ProductInfo(
        sku=sku or name_sku(name), name=name or sku, category=found.get("category", "")
    )


def _amount(value: str, name: str, currency: str | None) -> Decimal:
    """A money amount of zero or more, to the cent."""
    try:
        amount = normalise.parse_decimal(value, field=name)
    except InvalidValue:
        if currency != DEFAULT_CURRENCY or not RUPIAH_GROUPED.fullmatch(value):
            raise
        amount = normalise.parse_decimal(f"Rp {value}", field=name)
    return money_amount(amount, field=name, value=value)


def _contacts(
    values: Iterable[str], name: str, parse: Any, errors: list[InvalidValue]
) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        if MASK in value:
            continue
        try:
            found.append(parse(value, field=name))
        except InvalidValue as exc:
            errors.append(exc)
    return tuple(dict.fromkeys(found))


def _customer_values(
    values: Mapping[str, str], emails: Iterable[str], phones: Iterable[str]
) -> dict[str, Any]:
    """What the customer services take to create the row's customer (masked contacts left out)."""
    raw: dict[str, Any] = {}
    if name := values.get("customer_name", ""):
        given, family = split_name(name)
        raw.update(full_name=name, given_name=given)
        if family:
            raw["family_name"] = family
    if usable := [email for email in emails if MASK not in email]:
        raw["emails"] = usable
    if usable := [phone for phone in phones if MASK not in phone]:
        raw["phones"] = usable
    return raw
