"""Values typed in by hand, checked against the customers already known before they are written.

The new-customer form asks matching first (:func:`create_new`): values that identify a
customer for sure (the deterministic keys: source id, a unique custom field, email, phone) or
probably (a score at or above the review threshold) are shown to the person typing as
:class:`Candidate` s, and nothing is written until that person chooses — the customer they
already have (:func:`add_details`, the typed values added as an import match adds them) or a
new customer anyway (the candidates then wait in the duplicate review queue).
:func:`possible_duplicates` answers the same question without writing, for a hint while typing.

Merged customers are never candidates: their survivor is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext as _

from kenal.customers import normalise
from kenal.customers.models import Customer, SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import (
    CustomerInvalid,
    Origin,
    clean_customer,
    create_customer,
    survivor_of,
    update_customer,
)
from kenal.identity.services import (
    Match,
    MatchKeys,
    Resolution,
    record_outcomes,
    resolve_batch,
    survivors,
)

__all__ = [
    "SURE_RULES",
    "Candidate",
    "NewCustomer",
    "add_details",
    "create_new",
    "possible_duplicates",
    "with_stored",
]

# Rules that identify a customer for sure: a key only that customer has.
SURE_RULES = frozenset({"source_id", "identifier", "email", "phone"})
ADDRESS_KEY_PARTS = (
    "street",
    "village",
    "district",
    "city",
    "province",
    "postcode",
    "country",
)


@dataclass(frozen=True)
class Candidate:
    """A known customer the typed values may belong to, and why."""

    customer: Customer  # emails and phones prefetched
    match: Match
    sure: bool  # found by a key only that customer has, not by a score

    @property
    def percent(self) -> int:
        return round(self.match.score * 100)

    @property
    def agreed(self) -> list[str]:
        """What speaks for the match, strongest first: the key that found the customer, then
        each field of the explanation that counted for it."""
        reasons: list[str] = []
        if self.sure and self.match.rule in ("source_id", "identifier"):
            reasons.append(_rule_label(self.match.rule, self.match.value))
        for item in self.match.explanation:
            label = str(item.get("label") or "")
            if _weight(item) > 0 and label and label not in reasons:
                reasons.append(label)
        return reasons


@dataclass(frozen=True)
class NewCustomer:
    """What :func:`create_new` did: created a customer, or found candidates and wrote nothing."""

    customer: Customer | None
    candidates: tuple[Candidate, ...] = ()


def possible_duplicates(
    raw: Mapping[str, Any], *, source: str = "web", exclude: int | None = None
) -> list[Candidate]:
    """The customers ``raw`` (values as the customer services take them) may belong to, surest
    and likeliest first. Nothing is written.

    ``exclude``: the customer being edited, never a duplicate of itself. Values that do not
    validate have no candidates (writing them refuses them, with the reasons).
    """
    try:
        resolution = _resolution(raw, Origin(source=source))
    except CustomerInvalid:
        return []
    return _candidates(resolution, exclude)


def create_new(raw: Mapping[str, Any], origin: Origin, *, anyway: bool = False) -> NewCustomer:
    """Create a customer typed in by hand, unless the values may belong to a known customer.

    With candidates, nothing is written and they are returned — unless ``anyway`` (a person
    confirmed this is someone else): the customer is then created and each candidate goes to
    the duplicate review queue. Households found are recorded either way, as on every write
    path. Raises :class:`CustomerInvalid` on bad values (a rejected source record keeps them).
    """
    try:
        resolution = _resolution(raw, origin)
    except CustomerInvalid:
        create_customer(raw, origin)  # refuses again, keeping what was received
        raise
    found = tuple(_candidates(resolution))
    if found and not anyway:
        return NewCustomer(None, found)
    with transaction.atomic():
        customer = create_customer(raw, origin)
        review = tuple(candidate.match for candidate in found)
        record_outcomes([(customer.pk, Resolution(None, review, resolution.related))])
    return NewCustomer(customer, found)


def add_details(customer: Customer, raw: Mapping[str, Any], origin: Origin) -> Customer:
    """Write values typed for a new customer to the known customer they belong to, as an
    import match does: each value given replaces the stored one, and the emails, phones,
    addresses and tags given are added to the stored ones (a new one is not made primary).

    A merged customer's survivor receives them. The values are kept as a source record of
    the customer; on bad values, as a rejected one (and :class:`CustomerInvalid` is raised,
    its errors naming the values as typed).
    """
    customer = survivor_of(customer)
    try:
        clean_customer(raw, customer=customer)
    except CustomerInvalid as exc:
        exc.source_record = SourceRecord.objects.create(
            customer=customer,
            source=origin.source,
            batch_id=origin.batch_id,
            external_id=origin.external_id,
            received_by=origin.actor,
            data=json.loads(json.dumps(dict(raw), cls=DjangoJSONEncoder, default=str)),
            status=SourceRecord.Status.REJECTED,
            action=SourceRecord.Action.UPDATED,
            errors=[error.as_dict() for error in exc.errors],
        )
        raise
    return update_customer(customer, with_stored(customer, raw), origin)


def with_stored(customer: Customer, raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with the customer's stored emails, phones, addresses and tags kept before the
    ones given (the services keep one of a value given twice)."""
    values = dict(raw)
    for kind, key in (("emails", "email"), ("phones", "number")):
        if kind not in values:
            continue
        stored = list(getattr(customer, kind).values(key, "is_primary", "is_verified"))
        by_key = {_contact_key(kind, row[key]): row for row in stored}
        given = []
        for entry in (_entry(item, key) for item in _as_list(values[kind])):
            twin = by_key.get(_contact_key(kind, entry.get(key)))
            if twin is not None:  # already theirs (in any case or format): flags are kept
                twin["is_verified"] = twin["is_verified"] or _flag(entry.get("is_verified"))
            else:
                given.append({**entry, "is_primary": False} if stored else entry)
        values[kind] = [*stored, *given]
    if "addresses" in values:
        stored_rows = list(customer.addresses.values(*ADDRESS_KEY_PARTS, "label", "is_primary"))
        known = {_address_key(row) for row in stored_rows}
        new = []
        for row in _as_list(values["addresses"]):
            if not isinstance(row, Mapping):
                new.append(row)  # refused by the services, by name
            elif _address_key(row) not in known:
                new.append({**row, "is_primary": False} if stored_rows else row)
                known.add(_address_key(row))
        values["addresses"] = [*stored_rows, *new]
    if "tags" in values:
        stored_tags = list(customer.tags.order_by("name").values_list("name", flat=True))
        values["tags"] = [*stored_tags, *_as_list(values["tags"])]
    return values


# --- helpers --------------------------------------------------------------------------------


def _resolution(raw: Mapping[str, Any], origin: Origin) -> Resolution:
    clean = clean_customer(raw, check_unique=False)
    keys = MatchKeys.from_clean(clean, source=origin.source, external_id=origin.external_id)
    return resolve_batch([keys])[0]


def _candidates(resolution: Resolution, exclude: int | None = None) -> list[Candidate]:
    matches: list[tuple[Match, bool]] = []
    if resolution.match is not None:
        matches.append((resolution.match, resolution.match.rule in SURE_RULES))
    matches += [(match, False) for match in resolution.review]
    # Matching already leads keys to survivors and leaves merged customers out of blocks;
    # a merge made meanwhile still must not show a merged customer.
    final = survivors({match.customer_id for match, _sure in matches})
    wanted: list[tuple[Match, bool]] = []
    seen: set[int] = set()
    for match, sure in matches:
        customer_id = final[match.customer_id]
        if customer_id == exclude or customer_id in seen:
            continue
        seen.add(customer_id)
        wanted.append((replace(match, customer_id=customer_id), sure))
    customers = Customer.objects.filter(pk__in=seen, merged_into=None).prefetch_related(
        "emails", "phones"
    )
    by_id = {customer.pk: customer for customer in customers}
    return [
        Candidate(by_id[match.customer_id], match, sure)
        for match, sure in wanted
        if match.customer_id in by_id
    ]


def _rule_label(rule: str, value: str) -> str:
    if rule == "source_id":
        return _("The same record id in this source (%(value)s)") % {"value": value}
    return _("The same identifying number (%(value)s)") % {"value": value}


def _weight(item: Mapping[str, Any]) -> float:
    try:
        return float(item.get("weight") or 0)
    except (TypeError, ValueError):
        return 0.0


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, Mapping):
        return [value]
    return list(value)


def _entry(item: Any, key: str) -> Any:
    return dict(item) if isinstance(item, Mapping) else {key: item}


def _flag(value: Any) -> bool:
    if isinstance(value, bool) or value in (None, ""):
        return bool(value)
    try:
        return normalise.parse_boolean(value, field="is_verified")
    except InvalidValue:
        return False  # the services refuse it, naming it


def _contact_key(kind: str, value: Any) -> str:
    """An email (without case) or a phone (E.164) as stored; a bad value stays as typed, to
    be refused by the services."""
    text = str(value or "")
    with suppress(InvalidValue):
        text = normalise.email(text) if kind == "emails" else normalise.phone(text)
    return text.casefold()


def _address_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    parts = [str(row.get(part) or "").strip().casefold() for part in ADDRESS_KEY_PARTS]
    if parts[-1]:
        with suppress(InvalidValue):  # "Indonesia" and "ID" are one country
            parts[-1] = normalise.country(parts[-1]).casefold()
    return tuple(parts)
