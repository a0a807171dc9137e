"""The customer record: every write path (web, import, API) goes through here.

A write keeps what was received as a :class:`SourceRecord` first, whether or not it
passes validation, then applies the cleaned values to the customer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.activity import traits
from kenal.customers import custom_fields, normalise
from kenal.customers.custom_fields import TypedValue
from kenal.customers.models import (
    Address,
    Channel,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomField,
    Education,
    IncomeBand,
    LifecycleStage,
    MaritalStatus,
    NameToken,
    Note,
    SourceRecord,
    Tag,
)
from kenal.customers.normalise import InvalidValue
from kenal.customers.signals import customer_written

TEXT_FIELDS = {"company": 200, "job_title": 200}
CHOICE_FIELDS: dict[str, Sequence[tuple[str, Any]]] = {
    "income_band": IncomeBand.choices,
    "marital_status": MaritalStatus.choices,
    "education": Education.choices,
    "preferred_channel": Channel.choices,
    "lifecycle_stage": LifecycleStage.choices,
    "preferred_language": Customer._meta.get_field("preferred_language").choices or (),
}
NAME_FIELDS = ("full_name", "given_name", "family_name")
ADDRESS_PARTS = {
    "label": 50,
    "street": 255,
    "village": 100,
    "district": 100,
    "city": 100,
    "province": 100,
    "postcode": 16,
}
ADDRESS_KEYS = frozenset({*ADDRESS_PARTS, "country", "is_primary"})
LIST_FIELDS = ("emails", "phones", "addresses", "tags", "custom")
KNOWN_FIELDS = frozenset(
    {
        *NAME_FIELDS,
        *TEXT_FIELDS,
        *CHOICE_FIELDS,
        *LIST_FIELDS,
        "gender",
        "birth_date",
        "owner",
        "do_not_contact",
    }
)
# What a blank value clears a scalar to, when not "".
BLANK_SCALARS: dict[str, Any] = {"birth_date": None, "owner": None, "do_not_contact": False}
SORTS = {
    "name": ("sort_name", "id"),
    "-name": ("-sort_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


class CustomerInvalid(ValueError):
    """Values were refused; ``errors`` names every field, value and expectation."""

    def __init__(self, errors: Sequence[InvalidValue], source_record: SourceRecord | None = None):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = list(errors)
        self.source_record = source_record


# Cleaned contact and address rows are plain values, not model instances: building a model
# costs more than cleaning the value, and an import cleans millions of them in a worker
# process that never saves them itself. ``_apply`` turns them into rows of the customer.


@dataclass
class EmailRow:
    email: str
    is_primary: bool = False
    is_verified: bool = False


@dataclass
class PhoneRow:
    number: str
    is_primary: bool = False
    is_verified: bool = False


@dataclass
class AddressRow:
    """An address's parts, "" when not given (as an :class:`Address` defaults them)."""

    label: str = ""
    street: str = ""
    village: str = ""
    district: str = ""
    city: str = ""
    province: str = ""
    postcode: str = ""
    country: str = ""
    is_primary: bool = False


@dataclass
class CleanCustomer:
    """Validated values; only the keys present in the input are set on the customer."""

    scalars: dict[str, Any] = field(default_factory=dict)
    emails: list[EmailRow] | None = None
    phones: list[PhoneRow] | None = None
    addresses: list[AddressRow] | None = None
    tags: list[str] | None = None
    custom: dict[CustomField, list[TypedValue]] = field(default_factory=dict)


# --- cleaning -------------------------------------------------------------------------------


def clean_customer(
    raw: Mapping[str, Any],
    *,
    customer: Customer | None = None,
    fields: Mapping[str, CustomField] | None = None,
    check_unique: bool = True,
) -> CleanCustomer:
    """Validate and normalise raw values; raises :class:`CustomerInvalid` with all problems.

    ``fields`` (custom field definitions by key) spares bulk callers a query per record.
    ``check_unique=False`` is for matching: a unique value held by another customer then
    identifies that customer instead of being refused.
    """
    errors: list[InvalidValue] = []
    clean = CleanCustomer()
    for key in raw:
        if key not in KNOWN_FIELDS:
            errors.append(InvalidValue(key, raw[key], _("a customer field name")))
    _clean_names(raw, clean, errors)
    for name, cleaner in SCALAR_CLEANERS:
        _collect(errors, clean.scalars, name, raw, cleaner)
    if "owner" in raw:
        _collect(errors, clean.scalars, "owner", raw, _owner)
    if "emails" in raw:
        clean.emails = _contacts(raw["emails"], "emails", "email", _email_row, errors)
    if "phones" in raw:
        clean.phones = _contacts(raw["phones"], "phones", "number", _phone_row, errors)
    if "addresses" in raw:
        clean.addresses = _addresses(raw["addresses"], errors)
    if "tags" in raw:
        clean.tags = _tags(raw["tags"], errors)
    custom_raw = raw.get("custom") or {}
    if not isinstance(custom_raw, Mapping):
        errors.append(
            InvalidValue("custom", custom_raw, _("a mapping of custom field keys to values"))
        )
        custom_raw = {}
    clean.custom, custom_errors = custom_fields.clean_values(
        custom_raw, customer=customer, fields=fields, check_unique=check_unique
    )
    errors.extend(custom_errors)
    if customer is None and not errors and not _identifies(clean):
        errors.append(
            InvalidValue(
                "full_name", raw.get("full_name", ""), _("a name, an email or a phone number")
            )
        )
    if errors:
        raise CustomerInvalid(errors)
    return clean


def _is_blank(value: Any) -> bool:
    if isinstance(value, str):  # the usual case, without a copy through str()
        return not value or value.isspace()
    return value is None or str(value).strip() == ""


def _collect(
    errors: list[InvalidValue], into: dict[str, Any], key: str, raw: Mapping[str, Any], clean: Any
) -> None:
    """Clean ``raw[key]`` into ``into[key]``; blank clears the field, problems are collected."""
    if key not in raw:
        return
    if _is_blank(raw[key]):
        into[key] = BLANK_SCALARS.get(key, "")
        return
    try:
        into[key] = clean(raw[key])
    except InvalidValue as exc:
        errors.append(exc)


def _clean_names(raw: Mapping[str, Any], clean: CleanCustomer, errors: list[InvalidValue]) -> None:
    for name, cleaner in NAME_CLEANERS:
        _collect(errors, clean.scalars, name, raw, cleaner)
    names = clean.scalars
    if not names.get("full_name") and (names.get("given_name") or names.get("family_name")):
        # A record with only given/family names still gets a full name to show and sort by.
        parts = (names.get("given_name") or "", names.get("family_name") or "")
        names["full_name"] = " ".join(part for part in parts if part)


def _choice(name: str, value: Any, choices: Sequence[tuple[str, Any]]) -> str:
    wanted = str(value).strip().casefold()
    for code, label in choices:
        if wanted in (str(code).casefold(), str(label).casefold()):
            return str(code)
    expected = _("one of: %(choices)s") % {"choices": ", ".join(str(code) for code, _l in choices)}
    raise InvalidValue(name, value, expected)


Cleaner = Callable[[Any], Any]
NAME_CLEANERS: tuple[tuple[str, Cleaner], ...] = tuple(
    (name, partial(normalise.person_name, field=name)) for name in NAME_FIELDS
)


def _choice_cleaner(name: str, choices: Sequence[tuple[str, Any]]) -> Cleaner:
    return lambda value: _choice(name, value, choices)


# Every scalar but the names and the owner, in the order their problems are reported.
SCALAR_CLEANERS: tuple[tuple[str, Cleaner], ...] = (
    ("gender", partial(normalise.gender, field="gender")),
    ("birth_date", partial(normalise.parse_date, field="birth_date")),
    *(
        (name, partial(normalise.text, field=name, max_length=length))
        for name, length in TEXT_FIELDS.items()
    ),
    *((name, _choice_cleaner(name, choices)) for name, choices in CHOICE_FIELDS.items()),
    ("do_not_contact", partial(normalise.parse_boolean, field="do_not_contact")),
)


def _owner(value: Any) -> User:
    if isinstance(value, User):
        return value
    text = str(value).strip()
    staff = User.objects.filter(is_active=True)
    user = staff.filter(username=text).first() or (
        staff.filter(pk=int(text)).first() if text.isdigit() else None
    )
    if user is None:
        raise InvalidValue("owner", value, _("the username of an active staff member"))
    return user


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, Mapping):
        return [value]
    return list(value)


def _contacts(value: Any, path: str, key: str, make: Any, errors: list[InvalidValue]) -> list[Any]:
    """Email or phone rows: at most one primary, the first one when none is marked."""
    rows: list[Any] = []
    for index, item in enumerate(_as_list(value)):
        entry = item if isinstance(item, Mapping) else {key: item}
        if _is_blank(entry.get(key)):
            continue
        try:
            row = make(entry, f"{path}[{index}].{key}")
        except InvalidValue as exc:
            errors.append(exc)
            continue
        twin = next((r for r in rows if getattr(r, key) == getattr(row, key)), None)
        if twin is None:
            rows.append(row)
        else:  # the same value typed twice: keep one, with every flag either copy had
            twin.is_primary |= row.is_primary
            twin.is_verified |= row.is_verified
    _one_primary(rows, path, errors)
    return rows


def _one_primary(rows: Sequence[Any], path: str, errors: list[InvalidValue]) -> None:
    primaries = [row for row in rows if row.is_primary]
    if len(primaries) > 1:
        errors.append(InvalidValue(path, len(primaries), _("at most one primary entry")))
    elif rows and not primaries:
        rows[0].is_primary = True


def _flag(entry: Mapping[str, Any], name: str, path: str) -> bool:
    value = entry.get(name)
    if _is_blank(value):
        return False
    return normalise.parse_boolean(value, field=path.rsplit(".", 1)[0] + f".{name}")


def _email_row(entry: Mapping[str, Any], path: str) -> EmailRow:
    return EmailRow(
        email=normalise.email(str(entry["email"]), field=path),
        is_primary=_flag(entry, "is_primary", path),
        is_verified=_flag(entry, "is_verified", path),
    )


def _phone_row(entry: Mapping[str, Any], path: str) -> PhoneRow:
    return PhoneRow(
        number=normalise.phone(str(entry["number"]), field=path),
        is_primary=_flag(entry, "is_primary", path),
        is_verified=_flag(entry, "is_verified", path),
    )


def _addresses(value: Any, errors: list[InvalidValue]) -> list[AddressRow]:
    rows = []
    for index, entry in enumerate(_as_list(value)):
        path = f"addresses[{index}]"
        if not isinstance(entry, Mapping):
            errors.append(InvalidValue(path, entry, _("an address with street, city, … parts")))
            continue
        if not ADDRESS_KEYS.issuperset(entry):
            for name in sorted(set(entry) - ADDRESS_KEYS):
                errors.append(
                    InvalidValue(f"{path}.{name}", entry[name], _("an address part name"))
                )
        if all(_is_blank(entry.get(name)) for name in (*ADDRESS_PARTS, "country")):
            continue
        parts: dict[str, Any] = {}
        before = len(errors)
        for name, length in ADDRESS_PARTS.items():
            if not _is_blank(entry.get(name)):
                try:
                    text = normalise.text(entry[name], field=f"{path}.{name}", max_length=length)
                    parts[name] = " ".join(text.split())
                except InvalidValue as exc:
                    errors.append(exc)
        if not _is_blank(entry.get("country")):
            try:
                parts["country"] = normalise.country(str(entry["country"]), field=f"{path}.country")
            except InvalidValue as exc:
                errors.append(exc)
        try:
            parts["is_primary"] = _flag(entry, "is_primary", f"{path}.is_primary")
        except InvalidValue as exc:
            errors.append(exc)
        if len(errors) == before:
            rows.append(AddressRow(**parts))
    _one_primary(rows, "addresses", errors)
    return rows


def _tags(value: Any, errors: list[InvalidValue]) -> list[str]:
    tags: list[str] = []
    for index, item in enumerate(_as_list(value)):
        try:
            tag = normalise.text(item, field=f"tags[{index}]", max_length=64)
        except InvalidValue as exc:
            errors.append(exc)
            continue
        if tag.casefold() not in (existing.casefold() for existing in tags):
            tags.append(tag)
    return tags


def _identifies(clean: CleanCustomer) -> bool:
    """A name, an email, a phone, or a unique custom field's value (a national id)."""
    unique_values = any(field.unique and values for field, values in clean.custom.items())
    return bool(clean.scalars.get("full_name") or clean.emails or clean.phones or unique_values)


# --- writing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where values come from: the channel or app, its batch and its own record id."""

    source: str
    batch_id: str = ""
    external_id: str = ""
    actor: User | None = None


def create_customer(raw: Mapping[str, Any], origin: Origin) -> Customer:
    """Create a customer from raw values, keeping them as a source record."""
    return _write(None, raw, origin)


def update_customer(customer: Customer, raw: Mapping[str, Any], origin: Origin) -> Customer:
    """Change the fields present in ``raw`` (lists such as emails are replaced whole)."""
    return _write(customer, raw, origin)


def _write(customer: Customer | None, raw: Mapping[str, Any], origin: Origin) -> Customer:
    record = SourceRecord(
        customer=customer,
        source=origin.source,
        batch_id=origin.batch_id,
        external_id=origin.external_id,
        received_by=origin.actor,
        data=_as_received(raw),
        status=SourceRecord.Status.APPLIED,
        action=SourceRecord.Action.CREATED if customer is None else SourceRecord.Action.UPDATED,
    )
    try:
        clean = clean_customer(raw, customer=customer)
    except CustomerInvalid as exc:
        # Refused values are kept too: nothing received is lost, and they can be corrected.
        record.status = SourceRecord.Status.REJECTED
        record.errors = [error.as_dict() for error in exc.errors]
        record.save()
        exc.source_record = record
        raise
    with transaction.atomic():
        customer = _apply(customer or Customer(), clean)
        record.customer = customer
        record.save()
        customer_written.send(sender=Customer, customer_id=customer.pk)
    return customer


def _as_received(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The raw values as JSON (dates and decimals as text), exactly as they arrived."""
    loaded: dict[str, Any] = json.loads(json.dumps(dict(raw), cls=DjangoJSONEncoder, default=str))
    return loaded


def _apply(customer: Customer, clean: CleanCustomer) -> Customer:
    for name, value in clean.scalars.items():
        setattr(customer, name, value)
    customer.sort_name = normalise.sort_key(customer.full_name)
    customer.save()
    if "full_name" in clean.scalars:
        index_name(customer)
    _replace(customer, CustomerEmail, clean.emails)
    _replace(customer, CustomerPhone, clean.phones)
    _replace(customer, Address, clean.addresses)
    if clean.tags is not None:
        customer.tags.set([Tag.objects.get_or_create(name=name)[0] for name in clean.tags])
    custom_fields.write_values(customer, clean.custom)
    return customer


def _replace(
    customer: Customer, model: Any, rows: Sequence[EmailRow | PhoneRow | AddressRow] | None
) -> None:
    if rows is None:
        return
    model.objects.filter(customer=customer).delete()
    model.objects.bulk_create([model(customer=customer, **asdict(row)) for row in rows])


def index_name(customer: Customer) -> None:
    """Rewrite the customer's search words from its full name."""
    NameToken.objects.filter(customer=customer).delete()
    NameToken.objects.bulk_create(
        NameToken(customer=customer, token=token)
        for token in normalise.name_tokens(customer.full_name)
    )


def add_note(customer: Customer, body: str, author: User | None) -> Note:
    text = body.strip()
    if not text:
        raise InvalidValue("note", body, _("some text"))
    return Note.objects.create(customer=customer, body=text, author=author)


def editable_values(customer: Customer) -> dict[str, Any]:
    """The customer's values in the raw shape :func:`update_customer` accepts."""
    values: dict[str, Any] = {
        name: getattr(customer, name) or ""
        for name in (*NAME_FIELDS, *TEXT_FIELDS, *CHOICE_FIELDS, "gender")
    }
    values["birth_date"] = customer.birth_date.isoformat() if customer.birth_date else ""
    values["owner"] = customer.owner.username if customer.owner else ""
    values["do_not_contact"] = customer.do_not_contact
    values["tags"] = ", ".join(tag.name for tag in customer.tags.all())
    values["emails"] = [
        {"email": row.email, "is_primary": row.is_primary, "is_verified": row.is_verified}
        for row in customer.emails.all()
    ]
    values["phones"] = [
        {"number": row.number, "is_primary": row.is_primary, "is_verified": row.is_verified}
        for row in customer.phones.all()
    ]
    values["addresses"] = [
        {name: getattr(row, name) for name in (*ADDRESS_PARTS, "country", "is_primary")}
        for row in customer.addresses.all()
    ]
    values["custom"] = {
        cf.key: custom_fields.form_value(cf, typed)
        for cf, typed in custom_fields.values_for(customer)
    }
    return values


# --- finding --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerQuery:
    """What the customer list asks for; the page and the API build the same query."""

    text: str = ""
    sort: str = "name"
    lifecycle_stage: str = ""
    tag: str = ""
    custom_filters: tuple[tuple[str, str, str], ...] = ()  # (field key, operator, value)
    trait_filters: tuple[tuple[str, str, str], ...] = ()  # (trait, operator, value)


def find_customers(query: CustomerQuery) -> QuerySet[Customer]:
    """Customers matching ``query``, sorted; each condition uses an index.

    Text is read as an email, a phone number (any format) or the start of name words.
    Customers merged into another are left out: their survivor stands for them.
    Raises :class:`InvalidValue` for an unknown sort, field or operator.
    """
    customers = Customer.objects.filter(merged_into__isnull=True)
    if query.text.strip():
        customers = customers.filter(pk__in=_text_matches(query.text))
    if query.lifecycle_stage:
        customers = customers.filter(
            lifecycle_stage=_choice(
                "lifecycle_stage", query.lifecycle_stage, LifecycleStage.choices
            )
        )
    if query.tag:
        customers = customers.filter(tags__name=query.tag)
    for key, operator, value in query.custom_filters:
        field_def = CustomField.objects.filter(key=key).first()
        if field_def is None:
            raise InvalidValue(f"filter.{key}", key, _("the key of an existing custom field"))
        customers = custom_fields.filter_customers(customers, field_def, operator, value)
    for name, operator, value in query.trait_filters:
        customers = traits.filter_customers(customers, name, operator, value)
    if query.sort not in SORTS:
        raise InvalidValue("sort", query.sort, _("one of: %(sorts)s") % {"sorts": ", ".join(SORTS)})
    return (
        customers.order_by(*SORTS[query.sort])
        .select_related("owner")
        .prefetch_related(Prefetch("emails"), Prefetch("phones"), Prefetch("addresses"))
    )


def _text_matches(text: str) -> QuerySet[Any]:
    text = text.strip()
    if "@" in text:
        try:
            email = normalise.email(text)
        except InvalidValue:
            email = text
        return emails_matching([email]).values("customer_id")
    if sum(char.isdigit() for char in text) >= 6:
        try:
            number = normalise.phone(text)
        except InvalidValue:
            number = ""
        if number:
            return CustomerPhone.objects.filter(number=number).values("customer_id")
    tokens = normalise.name_tokens(text)
    if not tokens:
        return Customer.objects.none().values("pk")
    # Every word typed must start a word of the name: "bud sant" finds "Budi Santoso".
    matches = NameToken.objects.filter(name_prefix(tokens[0])).values("customer_id")
    for token in tokens[1:]:
        matches = matches.filter(
            customer_id__in=NameToken.objects.filter(name_prefix(token)).values("customer_id")
        )
    return matches


def emails_matching(emails: Iterable[str]) -> QuerySet[CustomerEmail]:
    """Email rows whose address equals one of ``emails`` ignoring case (on an index)."""
    keys = {email.lower() for email in emails}
    return CustomerEmail.objects.alias(key=Lower("email")).filter(key__in=keys)


def name_prefix(token: str) -> Q:
    """A prefix match written as a range, so a plain b-tree index serves it on both databases.

    The upper bound is the next string after every word starting with ``token``
    ("bud" → "bue"), which sorts the same way under SQLite's and PostgreSQL's collations.
    """
    return Q(token__gte=token, token__lt=token[:-1] + chr(ord(token[-1]) + 1))


@dataclass(frozen=True)
class Page:
    """One page of results; ``has_next`` comes from fetching one row more, never a COUNT."""

    items: list[Customer]
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.items) - 1 if self.items else 0


def page_of(customers: QuerySet[Customer], number: int, per_page: int = 25) -> Page:
    number = max(1, number)
    offset = (number - 1) * per_page
    rows = list(customers[offset : offset + per_page + 1])
    return Page(rows[:per_page], number, per_page, has_next=len(rows) > per_page)


def tag_counts() -> Iterable[Tag]:
    current = Q(customers__merged_into__isnull=True)
    return Tag.objects.annotate(customer_count=Count("customers", filter=current)).order_by("name")


def survivor_of(customer: Customer) -> Customer:
    """The customer that stands for ``customer``: itself, or the one it was merged into."""
    while customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer
