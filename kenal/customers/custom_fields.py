"""Custom fields: definitions an administrator manages, and their typed values.

Every write path reaches values through :func:`clean_values` and :func:`write_values`,
so the same validation holds for the web form, imports and the API.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kenal.customers import normalise
from kenal.customers.models import Customer, CustomField, CustomFieldValue, FieldType
from kenal.customers.normalise import InvalidValue

TEXT_MAX = 255
LONG_TEXT_MAX = 20_000
DECIMAL_PLACES = 6
DECIMAL_DIGITS = 24
DEFAULT_CURRENCY = "IDR"
CHOICE_TYPES = frozenset({FieldType.CHOICE, FieldType.MULTIPLE_CHOICE})
# A unique index over these would be meaningless (yes/no) or too wide (long text).
NOT_UNIQUE_TYPES = frozenset({FieldType.LONG_TEXT, FieldType.BOOLEAN, FieldType.MULTIPLE_CHOICE})
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
RESERVED_KEYS = frozenset(field.name for field in Customer._meta.get_fields()) | {
    "emails",
    "phones",
    "addresses",
    "custom",
    "tags",
    "notes",
    # The singular names imports and forms use for the built-in contact fields.
    "email",
    "phone",
    "address",
    "name",
}

# The column each type is stored (and indexed) in.
COLUMN: dict[str, str] = {
    FieldType.TEXT: "text",
    FieldType.LONG_TEXT: "long_text",
    FieldType.INTEGER: "integer",
    FieldType.DECIMAL: "decimal",
    FieldType.MONEY: "decimal",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.BOOLEAN: "boolean",
    FieldType.CHOICE: "text",
    FieldType.MULTIPLE_CHOICE: "text",
    FieldType.EMAIL: "text",
    FieldType.PHONE: "text",
    FieldType.URL: "text",
}


class FieldDefinitionError(ValueError):
    """A custom field definition was refused; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class FieldConversionError(ValueError):
    """A type change was refused: ``failures`` lists (customer id, value, reason)."""

    def __init__(self, field: CustomField, failures: list[tuple[int, str, str]]) -> None:
        super().__init__(
            _("%(count)d value(s) of %(field)s cannot be converted")
            % {"count": len(failures), "field": field.label}
        )
        self.field = field
        self.failures = failures


@dataclass(frozen=True)
class TypedValue:
    """One cleaned value, ready for its column (money also carries its currency)."""

    value: Any
    currency: str = ""

    def display(self) -> str:
        if isinstance(self.value, bool):
            return _("Yes") if self.value else _("No")
        if isinstance(self.value, dt.datetime):
            return timezone.localtime(self.value).strftime("%Y-%m-%d %H:%M")
        if isinstance(self.value, Decimal):
            text = format(self.value.normalize(), "f")
            return f"{self.currency} {text}".strip()
        return str(self.value)


# --- definitions ----------------------------------------------------------------------------


def active_fields() -> QuerySet[CustomField]:
    return CustomField.objects.filter(archived_at__isnull=True)


@transaction.atomic
def define_field(
    *,
    key: str,
    label: str,
    field_type: str,
    required: bool = False,
    unique: bool = False,
    choices: Sequence[str] = (),
    currency: str = "",
    help_text: str = "",
) -> CustomField:
    """Create a custom field; every problem with the definition is reported at once."""
    field = CustomField(
        key=key.strip(),
        label=label.strip(),
        field_type=field_type,
        required=required,
        unique=unique,
        choices=_clean_choices(choices),
        currency=currency.strip().upper(),
        help_text=help_text.strip(),
        position=(CustomField.objects.count() + 1) * 10,
    )
    problems = _definition_problems(field)
    if CustomField.objects.filter(key=field.key).exists():
        problems.append(_("key: %(key)r is already used by another field") % {"key": field.key})
    if problems:
        raise FieldDefinitionError(problems)
    field.save()
    return field


@transaction.atomic
def update_field(
    field: CustomField,
    *,
    key: str | None = None,
    label: str | None = None,
    required: bool | None = None,
    unique: bool | None = None,
    choices: Sequence[str] | None = None,
    currency: str | None = None,
    help_text: str | None = None,
) -> CustomField:
    """Rename or reconfigure a field; values are kept (they belong to the field, not its name).

    Refused, with the offending values listed, when existing values would break the new
    rules: making a field unique while values repeat, or removing a choice still in use.
    """
    problems: list[str] = []
    if key is not None and key.strip() != field.key:
        if CustomField.objects.filter(key=key.strip()).exclude(pk=field.pk).exists():
            problems.append(_("key: %(key)r is already used by another field") % {"key": key})
        field.key = key.strip()
    if label is not None:
        field.label = label.strip()
    if required is not None:
        field.required = required
    if help_text is not None:
        field.help_text = help_text.strip()
    if currency is not None:
        field.currency = currency.strip().upper()
    if choices is not None:
        new_choices = _clean_choices(choices)
        removed = set(field.choices) - set(new_choices)
        in_use = _values(field).filter(text__in=removed).values_list("text", flat=True).distinct()
        for choice in sorted(str(value) for value in in_use):
            problems.append(
                _("choices: %(choice)r is still chosen by some customers") % {"choice": choice}
            )
        field.choices = new_choices
    unique_changed = unique is not None and unique != field.unique
    if unique is not None and unique_changed:
        field.unique = unique
        if unique:
            problems.extend(_duplicate_problems(field))
    problems.extend(_definition_problems(field))
    if problems:
        raise FieldDefinitionError(problems)
    field.save()
    if unique_changed:  # rewriting every value's key is costly: only when it changes
        _refresh_unique_keys(field)
    return field


def archive_field(field: CustomField) -> None:
    """Hide a field from forms and lists; its values stay, ready for :func:`restore_field`."""
    field.archived_at = timezone.now()
    field.save(update_fields=["archived_at", "updated_at"])


def restore_field(field: CustomField) -> None:
    field.archived_at = None
    field.save(update_fields=["archived_at", "updated_at"])


@transaction.atomic
def change_field_type(
    field: CustomField, new_type: str, *, choices: Sequence[str] | None = None
) -> int:
    """Convert every value of ``field`` to ``new_type`` and return how many were converted.

    All or nothing: when any value would not convert, nothing changes and
    :class:`FieldConversionError` lists every such value with its customer.
    """
    if new_type not in FieldType.values:
        raise FieldDefinitionError([_unknown_type(new_type)])
    target = CustomField(
        pk=field.pk,
        key=field.key,
        label=field.label,
        field_type=new_type,
        required=field.required,
        unique=field.unique and new_type not in NOT_UNIQUE_TYPES,
        choices=_clean_choices(choices) if choices is not None else field.choices,
        currency=field.currency,
    )
    problems = _definition_problems(target)
    if problems:
        raise FieldDefinitionError(problems)
    converted: dict[int, list[TypedValue]] = {}
    failures: list[tuple[int, str, str]] = []
    owners: dict[str, int] = {}  # canonical value -> customer, when the field is unique
    for customer_id, old_values in _values_by_customer(field):
        raw: Any = [value.display() for value in old_values]
        if new_type != FieldType.MULTIPLE_CHOICE:
            if len(raw) > 1:
                failures.append(
                    (customer_id, ", ".join(raw), _("several choices cannot become one value"))
                )
                continue
            raw = _conversion_input(old_values[0], new_type)
        try:
            values = clean_value(target, raw, path=field.key)
        except InvalidValue as exc:
            failures.append((customer_id, str(exc.value), exc.expected))
            continue
        if target.unique and values:
            # Values distinct before may meet after ("7" and "007" as numbers): the unique
            # index would refuse the second, so it is reported like any other failure.
            owner = owners.setdefault(_canonical(values[0]), customer_id)
            if owner != customer_id:
                failures.append(
                    (
                        customer_id,
                        ", ".join(value.display() for value in old_values),
                        _("a value no other customer has (customer #%(id)d has it)")
                        % {"id": owner},
                    )
                )
                continue
        converted[customer_id] = values
    if failures:
        raise FieldConversionError(field, failures)
    field.field_type = target.field_type
    field.choices = target.choices
    field.unique = target.unique
    field.save()
    _values(field).delete()
    CustomFieldValue.objects.bulk_create(
        row
        for customer_id, values in converted.items()
        for row in value_rows(field, customer_id, values)
    )
    return len(converted)


def _conversion_input(old: TypedValue, new_type: str) -> Any:
    """What a stored value is offered to its new type as: typed where the types agree."""
    if isinstance(old.value, Decimal) and new_type == FieldType.MONEY:
        return {"amount": old.value, "currency": old.currency}
    if old.currency and new_type in (FieldType.TEXT, FieldType.LONG_TEXT):
        return old.display()  # "IDR 150000": the currency is part of a money value
    if isinstance(old.value, Decimal | int | dt.date) and not isinstance(old.value, bool):
        return old.value if new_type != FieldType.TEXT else _plain(old.value)
    return old.value if isinstance(old.value, bool) else old.display()


def _plain(value: Any) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def _definition_problems(field: CustomField) -> list[str]:
    problems = []
    if not KEY_PATTERN.match(field.key):
        problems.append(
            _("key: %(key)r is not valid; expected lower-case letters, digits and _ ")
            % {"key": field.key}
            + _("starting with a letter")
        )
    elif field.key in RESERVED_KEYS:
        problems.append(
            _("key: %(key)r is a built-in customer field; choose another key") % {"key": field.key}
        )
    if not field.label:
        problems.append(_("label: must not be empty"))
    if field.field_type not in FieldType.values:
        problems.append(_unknown_type(field.field_type))
    if field.field_type in CHOICE_TYPES and not field.choices:
        problems.append(_("choices: a choice field needs at least one choice"))
    if field.unique and field.field_type in NOT_UNIQUE_TYPES:
        problems.append(
            _("unique: a %(type)s field cannot be unique")
            % {"type": FieldType(field.field_type).label}
        )
    if field.currency:
        try:
            normalise.currency(field.currency, field="currency")
        except InvalidValue as exc:
            problems.append(str(exc))
    return problems


def _unknown_type(value: str) -> str:
    return _("type: %(type)r is not a field type; expected one of %(types)s") % {
        "type": value,
        "types": ", ".join(FieldType.values),
    }


def _clean_choices(choices: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for choice in choices:
        text = str(choice).strip()
        if text and text not in cleaned:
            cleaned.append(text)
    return cleaned


def _duplicate_problems(field: CustomField) -> list[str]:
    seen: dict[str, int] = {}
    problems = []
    for customer_id, values in _values_by_customer(field):
        canonical = _canonical(values[0])
        if canonical in seen:
            problems.append(
                _("unique: %(value)r is used by customers #%(first)d and #%(second)d")
                % {"value": values[0].display(), "first": seen[canonical], "second": customer_id}
            )
        else:
            seen[canonical] = customer_id
    return problems


def _refresh_unique_keys(field: CustomField) -> None:
    rows = list(_values(field))
    for row in rows:
        row.unique_key = unique_key(field, _typed(field, row)) if field.unique else None
    CustomFieldValue.objects.bulk_update(rows, ["unique_key"], batch_size=1000)


# --- values ---------------------------------------------------------------------------------


def clean_values(
    raw: Mapping[str, Any],
    *,
    customer: Customer | None = None,
    fields: Mapping[str, CustomField] | None = None,
    check_unique: bool = True,
) -> tuple[dict[CustomField, list[TypedValue]], list[InvalidValue]]:
    """Clean raw custom values keyed by field key; returns the values and every problem.

    An empty value clears the field. Required fields must be given when a customer is
    created (``customer`` is None); an update leaves fields it does not mention alone.
    Without ``check_unique`` a unique value another customer holds is not a problem:
    matching uses it to find that customer.
    """
    if fields is None:
        fields = definitions()
    cleaned: dict[CustomField, list[TypedValue]] = {}
    errors: list[InvalidValue] = []
    for key, value in raw.items():
        path = f"custom.{key}"
        field = fields.get(key)
        if field is None:
            errors.append(InvalidValue(path, value, _("the key of an existing custom field")))
            continue
        if field.is_archived:
            errors.append(InvalidValue(path, value, _("no value: this field is archived")))
            continue
        try:
            cleaned[field] = clean_value(field, value, path=path)
        except InvalidValue as exc:
            errors.append(exc)
    for field in fields.values():
        if not field.required or field.is_archived:
            continue
        given = field.key in raw
        if customer is not None and not given:
            continue  # an update leaves the fields it does not mention alone
        if given and field not in cleaned:
            continue  # the value given was refused above, with its reason
        if not cleaned.get(field):
            errors.append(
                InvalidValue(f"custom.{field.key}", raw.get(field.key, ""), _("a value (required)"))
            )
    if check_unique:
        errors.extend(_unique_conflicts(cleaned, customer))
    return cleaned, errors


def definitions() -> dict[str, CustomField]:
    """Every custom field (archived ones too), by key."""
    return {field.key: field for field in CustomField.objects.all()}


def clean_value(field: CustomField, raw: Any, *, path: str) -> list[TypedValue]:
    """The typed values of one field from a raw value (several only for multiple choice)."""
    if _is_empty(raw):
        return []
    if field.field_type == FieldType.MULTIPLE_CHOICE:
        items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        chosen: list[TypedValue] = []
        for item in items:
            if _is_empty(item):
                continue
            value = TypedValue(_choice(field, item, path))
            if value not in chosen:
                chosen.append(value)
        return chosen
    return [CLEANERS[field.field_type](field, raw, path)]


def _is_empty(raw: Any) -> bool:
    return (
        raw is None or (isinstance(raw, str | list | tuple) and not raw) or str(raw).strip() == ""
    )


def _choice(field: CustomField, raw: Any, path: str) -> str:
    wanted = str(raw).strip().casefold()
    for choice in field.choices:
        if choice.casefold() == wanted:
            return str(choice)
    raise InvalidValue(path, raw, _("one of: %(choices)s") % {"choices": ", ".join(field.choices)})


def _money(field: CustomField, raw: Any, path: str) -> TypedValue:
    currency = field.currency or DEFAULT_CURRENCY
    amount: Any = raw
    if isinstance(raw, Mapping):
        amount = raw.get("amount")
        currency = normalise.currency(
            str(raw.get("currency") or currency), field=f"{path}.currency"
        )
    elif isinstance(raw, str):
        match = re.match(r"^\s*([A-Za-z]{3})\s+(.+)$|^(.+?)\s+([A-Za-z]{3})\s*$", raw)
        if match:
            code = match.group(1) or match.group(4)
            amount = match.group(2) or match.group(3)
            currency = normalise.currency(code, field=f"{path}.currency")
    return TypedValue(_decimal(normalise.parse_decimal(amount, field=path), raw, path), currency)


def _decimal(value: Decimal, raw: Any, path: str) -> Decimal:
    """Refuse what the column cannot hold instead of rounding it away silently."""
    try:
        quantized = value.quantize(Decimal(1).scaleb(-DECIMAL_PLACES))
    except InvalidOperation:
        quantized = None
    if quantized is None or quantized != value or len(quantized.as_tuple().digits) > DECIMAL_DIGITS:
        raise InvalidValue(
            path,
            raw,
            _("a number with at most %(places)d decimal places and %(digits)d digits")
            % {"places": DECIMAL_PLACES, "digits": DECIMAL_DIGITS},
        )
    return value


def _integer(field: CustomField, raw: Any, path: str) -> TypedValue:
    value = normalise.parse_integer(raw, field=path)
    if not -(2**63) <= value < 2**63:
        raise InvalidValue(path, raw, _("a whole number between -2^63 and 2^63"))
    return TypedValue(value)


Cleaner = Callable[[CustomField, Any, str], TypedValue]
CLEANERS: dict[str, Cleaner] = {
    FieldType.TEXT: lambda f, raw, path: TypedValue(
        normalise.text(raw, field=path, max_length=TEXT_MAX)
    ),
    FieldType.LONG_TEXT: lambda f, raw, path: TypedValue(
        normalise.text(raw, field=path, max_length=LONG_TEXT_MAX)
    ),
    FieldType.INTEGER: _integer,
    FieldType.DECIMAL: lambda f, raw, path: TypedValue(
        _decimal(normalise.parse_decimal(raw, field=path), raw, path)
    ),
    FieldType.MONEY: _money,
    FieldType.DATE: lambda f, raw, path: TypedValue(normalise.parse_date(raw, field=path)),
    FieldType.DATETIME: lambda f, raw, path: TypedValue(normalise.parse_datetime(raw, field=path)),
    FieldType.BOOLEAN: lambda f, raw, path: TypedValue(normalise.parse_boolean(raw, field=path)),
    FieldType.CHOICE: lambda f, raw, path: TypedValue(_choice(f, raw, path)),
    FieldType.EMAIL: lambda f, raw, path: TypedValue(normalise.email(str(raw), field=path)),
    FieldType.PHONE: lambda f, raw, path: TypedValue(normalise.phone(str(raw), field=path)),
    FieldType.URL: lambda f, raw, path: TypedValue(normalise.url(str(raw), field=path)),
}


def _canonical(value: TypedValue) -> str:
    """The form a value is compared in for uniqueness (case-insensitive for text)."""
    if isinstance(value.value, str):
        return value.value.casefold()
    if isinstance(value.value, Decimal):
        return f"{value.currency}{_plain(value.value)}"
    if isinstance(value.value, dt.datetime):
        return value.value.astimezone(dt.UTC).isoformat()
    return str(value.value)


def unique_owners(keys: Iterable[str]) -> dict[str, int]:
    """The customer holding each unique value (keys as :func:`unique_key` makes them)."""
    wanted = sorted(set(keys))
    owners: dict[str, int] = {}
    for start in range(0, len(wanted), 5_000):
        rows = CustomFieldValue.objects.filter(unique_key__in=wanted[start : start + 5_000])
        for key, customer_id in rows.values_list("unique_key", "customer_id"):
            if key:
                owners[key] = customer_id
    return owners


def unique_key(field: CustomField, value: TypedValue) -> str:
    """The value as the database keeps unique values: what identifies one customer."""
    return f"{field.pk}:{_canonical(value)}"[:300]


def _unique_conflicts(
    cleaned: Mapping[CustomField, list[TypedValue]], customer: Customer | None
) -> list[InvalidValue]:
    errors = []
    for field, values in cleaned.items():
        if not field.unique or not values:
            continue
        taken = CustomFieldValue.objects.filter(unique_key=unique_key(field, values[0]))
        if customer is not None:
            taken = taken.exclude(customer=customer)
        owner = taken.values_list("customer_id", flat=True).first()
        if owner is not None:
            errors.append(
                InvalidValue(
                    f"custom.{field.key}",
                    values[0].display(),
                    _("a value no other customer has (customer #%(id)d has it)") % {"id": owner},
                )
            )
    return errors


def write_values(customer: Customer, cleaned: Mapping[CustomField, list[TypedValue]]) -> None:
    """Replace the stored values of each field in ``cleaned`` (others are left alone)."""
    if not cleaned:
        return
    CustomFieldValue.objects.filter(customer=customer, field__in=list(cleaned)).delete()
    CustomFieldValue.objects.bulk_create(
        row for field, values in cleaned.items() for row in value_rows(field, customer.pk, values)
    )


def value_rows(
    field: CustomField, customer_id: int, values: list[TypedValue]
) -> list[CustomFieldValue]:
    """Unsaved rows holding ``values`` of ``field`` for a customer (bulk writers save them)."""
    column = COLUMN[field.field_type]
    return [
        CustomFieldValue(
            customer_id=customer_id,
            field=field,
            ordinal=ordinal,
            currency=value.currency,
            unique_key=unique_key(field, value) if field.unique else None,
            **{column: value.value},
        )
        for ordinal, value in enumerate(values)
    ]


def _typed(field: CustomField, row: CustomFieldValue) -> TypedValue:
    return TypedValue(getattr(row, COLUMN[field.field_type]), row.currency)


def _values(field: CustomField) -> QuerySet[CustomFieldValue]:
    return CustomFieldValue.objects.filter(field=field)


def _values_by_customer(field: CustomField) -> Iterable[tuple[int, list[TypedValue]]]:
    """Each customer's values of ``field`` in order, streamed (fields can hold millions)."""
    rows = _values(field).order_by("customer_id", "ordinal").iterator(chunk_size=2000)
    current: int | None = None
    batch: list[TypedValue] = []
    for row in rows:
        if row.customer_id != current and batch:
            yield current, batch  # type: ignore[misc]
            batch = []
        current = row.customer_id
        batch.append(_typed(field, row))
    if batch and current is not None:
        yield current, batch


def values_for(
    customer: Customer, *, include_archived: bool = False
) -> list[tuple[CustomField, list[TypedValue]]]:
    """Every (active) field with this customer's values, in field order."""
    fields = CustomField.objects.all() if include_archived else active_fields()
    rows: dict[int, list[TypedValue]] = {}
    for row in customer.custom_values.select_related("field").order_by("field_id", "ordinal"):
        rows.setdefault(row.field_id, []).append(_typed(row.field, row))
    return [(field, rows.get(field.pk, [])) for field in fields]


def typed_values(
    rows: Iterable[CustomFieldValue], fields: Mapping[int, CustomField]
) -> dict[CustomField, list[TypedValue]]:
    """Stored rows (e.g. prefetched) as typed values per field, in ordinal order."""
    found: dict[CustomField, list[TypedValue]] = {}
    for row in sorted(rows, key=lambda row: (row.field_id, row.ordinal)):
        field = fields[row.field_id]
        found.setdefault(field, []).append(_typed(field, row))
    return found


def form_value(field: CustomField, values: list[TypedValue]) -> str:
    """The text an edit form shows for stored values (it cleans back to the same values)."""
    if field.field_type == FieldType.MONEY and values:
        return f"{values[0].currency} {_plain(values[0].value)}"
    if field.field_type == FieldType.BOOLEAN and values:
        return "yes" if values[0].value else "no"
    if field.field_type in (FieldType.DECIMAL,) and values:
        return _plain(values[0].value)
    return ", ".join(value.display() for value in values)


# --- filters --------------------------------------------------------------------------------

LOOKUPS = {
    "eq": "exact",
    "lt": "lt",
    "lte": "lte",
    "gt": "gt",
    "gte": "gte",
    "contains": "icontains",
}
RANGE_TYPES = frozenset(
    {FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY, FieldType.DATE, FieldType.DATETIME}
)


def filter_customers(
    customers: QuerySet[Customer], field: CustomField, operator: str, raw: Any
) -> QuerySet[Customer]:
    """Customers whose ``field`` value matches; uses the (field, column) index.

    Operators: eq, lt, lte, gt, gte (ranges on numbers, money and dates), contains (text),
    set and empty (whether the customer has any value).
    """
    values = CustomFieldValue.objects.filter(customer=OuterRef("pk"), field=field)
    if operator in ("set", "empty"):
        has_value = Exists(values)
        return customers.filter(has_value if operator == "set" else ~has_value)
    path = f"filter.{field.key}"
    if operator not in LOOKUPS:
        raise InvalidValue(path, operator, _("one of eq, lt, lte, gt, gte, contains, set, empty"))
    if operator in ("lt", "lte", "gt", "gte") and field.field_type not in RANGE_TYPES:
        raise InvalidValue(path, operator, _("eq or contains for this field type"))
    column = COLUMN[field.field_type]
    if operator == "contains":
        if column != "text":
            raise InvalidValue(path, operator, _("a comparison such as eq for this field type"))
        condition = Q(text__icontains=str(raw).strip())
    else:
        probe = CustomField(
            pk=field.pk, field_type=field.field_type, choices=field.choices, currency=field.currency
        )
        if field.field_type == FieldType.MULTIPLE_CHOICE:
            probe.field_type = FieldType.CHOICE
        typed = clean_value(probe, raw, path=path)
        if not typed:
            raise InvalidValue(path, raw, _("a value to compare with"))
        condition = Q(**{f"{column}__{LOOKUPS[operator]}": typed[0].value})
        if field.field_type == FieldType.MONEY:
            condition &= Q(currency=typed[0].currency)
    return customers.filter(Exists(values.filter(condition)))
