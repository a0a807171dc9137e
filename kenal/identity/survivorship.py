"""The golden record: which value each customer field keeps when sources disagree, and why.

Every value reaches a customer in a :class:`SourceRecord`, kept exactly as received. This
module reads the values back out of those records (an import's columns through the import's
own mapping), lists them per field with the records that supplied them and when (lineage),
and picks one per field by the field's :class:`SurvivorshipRule`.

Emails and phone numbers are all kept (secondary ones included), so for them lineage tells
where each came from and no rule picks one. The owner is left out: it is a staff assignment,
not something a source says about the customer. A blank value is never a candidate: a
source that leaves a field out or empty says nothing about it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import models, transaction
from django.utils import formats
from django.utils.translation import gettext as _

from kenal.customers import normalise
from kenal.customers.models import (
    Customer,
    CustomerEmail,
    CustomerPhone,
    SourceRecord,
)
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import (
    CHOICE_FIELDS,
    NAME_FIELDS,
    TEXT_FIELDS,
    CleanCustomer,
    CustomerInvalid,
    clean_customer,
    index_name,
)
from kenal.identity import keys
from kenal.identity.models import SurvivorshipRule
from kenal.ingest.mapping import customer_raw, split_name
from kenal.ingest.models import Import, ImportKind

__all__ = [
    "CONTACT_FIELDS",
    "LINEAGE_FIELDS",
    "SCALAR_FIELDS",
    "FieldLineage",
    "RuleRow",
    "RulesInvalid",
    "ValueHistory",
    "ValueOrigin",
    "apply_rules",
    "choose",
    "field_label",
    "golden_values",
    "known_sources",
    "lineage",
    "lineage_table",
    "rule_rows",
    "rules",
    "save_rules",
    "set_rule",
    "values_from",
]

# The single-valued customer fields a rule decides, in the order the customer page shows them.
SCALAR_FIELDS: tuple[str, ...] = (
    *NAME_FIELDS,
    "gender",
    "birth_date",
    *TEXT_FIELDS,
    *CHOICE_FIELDS,
)
CONTACT_FIELDS: tuple[str, ...] = ("emails", "phones")
LINEAGE_FIELDS: tuple[str, ...] = (*SCALAR_FIELDS, *CONTACT_FIELDS)
Rule = SurvivorshipRule.Rule
DEFAULT_RULE = Rule.MOST_RECENT
SOURCE_MAX_LENGTH = 100  # SourceRecord.source
# The records listed one by one under a value on the lineage card (the first one too).
ORIGINS_SHOWN = 5
# Every row of an import is kept under the batch "import-<id>" with its row number; the
# customer an order import creates gets a record in the same batch without one.
IMPORT_BATCH = re.compile(r"import-(\d+)")


class RulesInvalid(ValueError):
    """Rules were refused; ``errors`` holds the problem of each field, by field name."""

    def __init__(self, errors: Mapping[str, InvalidValue]) -> None:
        super().__init__("; ".join(str(error) for error in errors.values()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class ValueOrigin:
    """One value one source record supplied for one field."""

    value: Any  # cleaned value (str, date, …); for emails and phones the normalised value
    source: str
    source_record_id: int
    received_at: datetime.datetime
    chosen: bool  # this is the value the golden record shows

    @property
    def recency(self) -> tuple[datetime.datetime, int]:
        # Rows of one import share one time: the later row (higher id) is the later word,
        # as it was when the import applied them.
        return (self.received_at, self.source_record_id)


# --- reading source records -----------------------------------------------------------------


def values_from(record: SourceRecord) -> dict[str, Any]:
    """The cleaned field values one applied source record supplied.

    An import's row goes through the import's mapping (a full name alone is split into
    given and family name, as the import did); other records are keyed by field name.
    Emails and phones come as lists of normalised values. Invalid and blank values are
    skipped; a rejected record, an order row and a row of a reverted import supply nothing.
    """
    return _values(record, _imports_of([record]))


def _imports_of(records: Iterable[SourceRecord]) -> dict[str, Import]:
    """The imports whose rows are among ``records``, by batch id (one query)."""
    ids = {
        int(match.group(1))
        for record in records
        if record.row_number is not None and (match := IMPORT_BATCH.fullmatch(record.batch_id))
    }
    if not ids:
        return {}
    return {run.batch_id: run for run in Import.objects.filter(pk__in=ids)}


def _values(record: SourceRecord, imports: Mapping[str, Import]) -> dict[str, Any]:
    if record.status != SourceRecord.Status.APPLIED or not isinstance(record.data, Mapping):
        return {}
    is_row = record.row_number is not None and IMPORT_BATCH.fullmatch(record.batch_id)
    if not is_row:
        raw: Mapping[str, Any] = record.data
    else:
        run = imports.get(record.batch_id)
        # An order row only links its order to the customer (a customer it creates has its
        # own record); a reverted import's values were taken back.
        if run is None or run.kind != ImportKind.CUSTOMERS or run.status == Import.Status.REVERTED:
            return {}
        raw = customer_raw(record.data, run.mapping)
    values = _cleaned({key: raw[key] for key in LINEAGE_FIELDS if key in raw})
    named = values.get("given_name") or values.get("family_name")
    if is_row and values.get("full_name") and not named:
        given, family = split_name(values["full_name"])
        values["given_name"] = given
        if family:
            values["family_name"] = family
    return values


def _cleaned(raw: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return _supplied(_clean(raw))
    except CustomerInvalid:
        # A value accepted then may fail a check made stricter since: the others still count.
        return _cleaned_apart(raw)


def _clean(raw: Mapping[str, Any]) -> CleanCustomer:
    # Any customer turns off the check that a new customer has a name, an email or a phone:
    # nobody is created here. No custom field is read, so none is looked up.
    return clean_customer(raw, customer=Customer(), fields={})


def _cleaned_apart(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Each value cleaned on its own (each email and phone too), the invalid ones skipped."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        parts = value if key in CONTACT_FIELDS and isinstance(value, list) else [value]
        for part in parts:
            try:
                found = _supplied(_clean({key: part}))
            except CustomerInvalid:
                continue
            if key in CONTACT_FIELDS:
                values[key] = list(dict.fromkeys([*values.get(key, []), *found.get(key, [])]))
            elif key in found:
                values[key] = found[key]
    return {key: value for key, value in values.items() if value}


def _supplied(clean: CleanCustomer) -> dict[str, Any]:
    values = {name: value for name, value in clean.scalars.items() if not _is_blank(value)}
    if clean.emails:
        values["emails"] = [row.email for row in clean.emails]
    if clean.phones:
        values["phones"] = [row.number for row in clean.phones]
    return values


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _records(customer_ids: Sequence[int]) -> list[SourceRecord]:
    return list(
        SourceRecord.objects.filter(
            customer_id__in=customer_ids, status=SourceRecord.Status.APPLIED
        )
        .order_by("-received_at", "-id")
        .only("id", "source", "batch_id", "row_number", "received_at", "data", "status")
    )


def _origins(customer_ids: Sequence[int]) -> dict[str, list[ValueOrigin]]:
    """Every value the customers' applied records supplied, per field, newest first."""
    records = _records(customer_ids)
    imports = _imports_of(records)
    origins: dict[str, list[ValueOrigin]] = {name: [] for name in LINEAGE_FIELDS}
    for record in records:
        for name, value in _values(record, imports).items():
            for item in value if name in CONTACT_FIELDS else [value]:
                origins[name].append(
                    ValueOrigin(item, record.source, record.pk, record.received_at, chosen=False)
                )
    return origins


def _key(field: str, value: Any) -> Any:
    """What makes two values the same value: emails compare without case, as matching does."""
    return value.lower() if field == "emails" and isinstance(value, str) else value


def _grouped(field: str, origins: Iterable[ValueOrigin]) -> list[list[ValueOrigin]]:
    """Origins grouped by value, each group newest first, the newest group first."""
    groups: dict[Any, list[ValueOrigin]] = {}
    for origin in sorted(origins, key=lambda item: item.recency, reverse=True):
        groups.setdefault(_key(field, origin.value), []).append(origin)
    return list(groups.values())


# --- lineage --------------------------------------------------------------------------------


def lineage(customer: Customer) -> dict[str, list[ValueOrigin]]:
    """Per field, every distinct value the customer's applied source records supplied.

    Values come newest first (by the last record that supplied them), each followed by
    all the records that supplied it, newest first: its first origin is where it was last
    seen, its last origin where it was first seen. The value the customer has now is marked
    chosen (for emails and phones, every one the customer still has).
    """
    return _lineage(_origins([customer.pk]), _current(customer))


def _lineage(
    origins: Mapping[str, list[ValueOrigin]], current: Mapping[str, list[Any]]
) -> dict[str, list[ValueOrigin]]:
    keys = {name: {_key(name, value) for value in values} for name, values in current.items()}
    return {
        name: [
            replace(origin, chosen=_key(name, group[0].value) in keys[name])
            for group in _grouped(name, found)
            for origin in group
        ]
        for name, found in origins.items()
    }


def _current(customer: Customer) -> dict[str, list[Any]]:
    """The customer's values now, per field: none or one, or every email and phone."""
    values: dict[str, list[Any]] = {
        name: [] if _is_blank(value := getattr(customer, name)) else [value]
        for name in SCALAR_FIELDS
    }
    emails = CustomerEmail.objects.filter(customer=customer).values_list("email", flat=True)
    phones = CustomerPhone.objects.filter(customer=customer).values_list("number", flat=True)
    values["emails"] = list(emails)
    values["phones"] = list(phones)
    return values


# --- choosing -------------------------------------------------------------------------------


def choose(
    field: str, candidates: Sequence[ValueOrigin], rule: SurvivorshipRule | None = None
) -> ValueOrigin | None:
    """The value ``field`` keeps among ``candidates`` by ``rule`` (default: most recent).

    - most recent: the value supplied last;
    - most complete: the longest value (whitespace runs count as one space);
    - most frequent: the value supplied by the most records;
    - most trusted source: a value from the first source in the rule's source priority that
      supplied one (its latest), else the most recent value.

    Ties go to the value from the more trusted source (a value supplied by several sources
    ranks as its most trusted one), then to the value supplied last. Returns the origin that
    decided (the latest record of the value, or of the trusted source), marked chosen.
    """
    if not candidates:
        return None
    kind = rule.rule if rule is not None else DEFAULT_RULE
    priority = list(rule.source_priority) if rule is not None else []
    unlisted = len(priority)

    def rank(source: str) -> int:
        return priority.index(source) if source in priority else unlisted

    groups = _grouped(field, candidates)
    if kind == Rule.TRUSTED_SOURCE:
        best = min(rank(origin.source) for origin in candidates)
        if best < unlisted:
            trusted = (origin for origin in candidates if rank(origin.source) == best)
            return replace(max(trusted, key=lambda origin: origin.recency), chosen=True)
        kind = Rule.MOST_RECENT

    def trust(group: list[ValueOrigin]) -> int:
        return -min(rank(origin.source) for origin in group)

    def measure(group: list[ValueOrigin]) -> Any:
        latest = group[0]
        if kind == Rule.MOST_COMPLETE:
            return (_completeness(latest.value), trust(group), latest.recency)
        if kind == Rule.MOST_FREQUENT:
            records = len({origin.source_record_id for origin in group})
            return (records, trust(group), latest.recency)
        return (latest.received_at, trust(group), latest.source_record_id)

    return replace(max(groups, key=measure)[0], chosen=True)


def _completeness(value: Any) -> int:
    """How much a value says: a text's length; any other value (a date) is whole or absent."""
    if isinstance(value, str):
        return len(" ".join(value.split()))
    return 0 if value is None else 1


def rules() -> dict[str, SurvivorshipRule]:
    """The stored rules by field; a field without one follows the most recent value."""
    return {rule.field: rule for rule in SurvivorshipRule.objects.all()}


def golden_values(customers: Sequence[Customer]) -> dict[str, Any]:
    """The value each single-valued field keeps when ``customers`` become one customer.

    The rules decide over all their applied source records together; a field no record
    supplied keeps the first non-blank value among ``customers`` (in the order given), else
    the first customer's. Emails and phones are not decided: a merge keeps them all.
    """
    if not customers:
        return {}
    origins = _origins([customer.pk for customer in customers])
    stored = rules()
    values: dict[str, Any] = {}
    for name in SCALAR_FIELDS:
        chosen = choose(name, origins[name], stored.get(name))
        if chosen is not None:
            values[name] = chosen.value
            continue
        present = (getattr(customer, name) for customer in customers)
        values[name] = next(
            (value for value in present if not _is_blank(value)), getattr(customers[0], name)
        )
    return values


def apply_rules(customer: Customer) -> list[str]:
    """Recompute the customer's single-valued fields from its source records by the rules.

    Saves and returns the fields that changed. A field no applied record supplied (set by
    staff without a record, or never given) is left as it is.
    """
    origins = _origins([customer.pk])
    stored = rules()
    changed: list[str] = []
    for name in SCALAR_FIELDS:
        chosen = choose(name, origins[name], stored.get(name))
        if chosen is not None and chosen.value != getattr(customer, name):
            setattr(customer, name, chosen.value)
            changed.append(name)
    if not changed:
        return changed
    with transaction.atomic():
        customer.sort_name = normalise.sort_key(customer.full_name)
        customer.save(update_fields=[*changed, "sort_name", "updated_at"])
        if "full_name" in changed:
            index_name(customer)  # the name search reads these words
        keys.refresh([customer.pk])
    return changed


# --- rules ----------------------------------------------------------------------------------


def set_rule(field: str, rule: str, source_priority: Sequence[str]) -> SurvivorshipRule:
    """Store the rule of one field; raises :class:`InvalidValue` naming what is wrong."""
    name, kind, priority = _checked(field, rule, source_priority)
    saved, _created = SurvivorshipRule.objects.update_or_create(
        field=name, defaults={"rule": kind, "source_priority": priority}
    )
    return saved


def save_rules(wanted: Mapping[str, tuple[str, Sequence[str]]]) -> list[SurvivorshipRule]:
    """Store several fields' rules (field → (rule, source priority)), all or none.

    Returns the rules that changed; raises :class:`RulesInvalid` with every field's problem.
    """
    errors: dict[str, InvalidValue] = {}
    saved: list[SurvivorshipRule] = []
    with transaction.atomic():
        stored = rules()
        for field, (rule, source_priority) in wanted.items():
            try:
                name, kind, priority = _checked(field, rule, source_priority)
            except InvalidValue as exc:
                errors[field] = exc
                continue
            existing = stored.get(name)
            before = (existing.rule, existing.source_priority) if existing else (DEFAULT_RULE, [])
            if before != (kind, priority):
                saved.append(set_rule(name, kind, priority))
        if errors:
            raise RulesInvalid(errors)  # leaves the atomic block: nothing is kept
    return saved


def _checked(field: str, rule: str, source_priority: Sequence[str]) -> tuple[str, str, list[str]]:
    if field not in SCALAR_FIELDS:
        expected = _("a single-valued customer field: %(fields)s") % {
            "fields": ", ".join(SCALAR_FIELDS)
        }
        raise InvalidValue("field", field, expected)
    if rule not in Rule.values:
        expected = _("one of: %(rules)s") % {"rules": ", ".join(Rule.values)}
        raise InvalidValue(f"{field}.rule", rule, expected)
    if isinstance(source_priority, str):
        raise InvalidValue(f"{field}.source_priority", source_priority, _("a list of source names"))
    priority: list[str] = []
    for item in source_priority:
        source = item.strip() if isinstance(item, str) else ""
        if isinstance(item, str) and not source:
            continue  # "web, , toko": an empty entry between commas names nothing
        if not source or len(source) > SOURCE_MAX_LENGTH:
            expected = _("a source name of 1 to %(count)d characters") % {
                "count": SOURCE_MAX_LENGTH
            }
            raise InvalidValue(f"{field}.source_priority", item, expected)
        if source not in priority:
            priority.append(source)
    if rule == Rule.TRUSTED_SOURCE and not priority:
        raise InvalidValue(
            f"{field}.source_priority",
            "",
            _("at least one source, most trusted first, for the most trusted source rule"),
        )
    return field, rule, priority


def known_sources() -> list[str]:
    """Every source name records arrived from, for suggestions when ordering sources.

    Read from the (source, external_id) index: a scan of the index, not of the records.
    """
    return list(SourceRecord.objects.order_by("source").values_list("source", flat=True).distinct())


# --- what the pages show --------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRow:
    """One field on the rules page."""

    field: str
    label: str
    rule: str
    source_priority: list[str]


def rule_rows() -> list[RuleRow]:
    stored = rules()
    rows = []
    for name in SCALAR_FIELDS:
        rule = stored.get(name)
        rows.append(
            RuleRow(
                field=name,
                label=field_label(name),
                rule=rule.rule if rule else DEFAULT_RULE,
                source_priority=list(rule.source_priority) if rule else [],
            )
        )
    return rows


@dataclass(frozen=True)
class ValueHistory:
    """One distinct value of a field with the records that supplied it, newest first."""

    value: Any
    display: str
    origins: tuple[ValueOrigin, ...]
    chosen: bool

    @property
    def recent_origins(self) -> tuple[ValueOrigin, ...]:
        return self.origins[:ORIGINS_SHOWN]

    @property
    def hidden_count(self) -> int:
        """Records between the recent ones and the first one, not listed one by one."""
        return max(0, len(self.origins) - ORIGINS_SHOWN - 1)

    @property
    def first_seen(self) -> ValueOrigin | None:
        """The record that first supplied the value, when the recent ones leave it out."""
        return self.origins[-1] if len(self.origins) > ORIGINS_SHOWN else None


@dataclass(frozen=True)
class FieldLineage:
    """A field of the golden record: its value now, and every value sources gave it."""

    field: str
    label: str
    multiple: bool
    rule_label: str
    current: list[str]  # the value(s) the customer has now, for display
    values: tuple[ValueHistory, ...]
    # What the rules would choose, when it is not the value the customer has now.
    proposed: ValueHistory | None

    @property
    def chosen_values(self) -> list[ValueHistory]:
        return [history for history in self.values if history.chosen]

    @property
    def other_values(self) -> list[ValueHistory]:
        return [history for history in self.values if not history.chosen]


def lineage_table(customer: Customer) -> list[FieldLineage]:
    """The customer's lineage as the customer page shows it, field by field."""
    stored = rules()
    origins = _origins([customer.pk])
    current = _current(customer)
    found = _lineage(origins, current)
    table = []
    for name in LINEAGE_FIELDS:
        histories = tuple(
            ValueHistory(
                group[0].value, _display(name, group[0].value), tuple(group), group[0].chosen
            )
            for group in _grouped(name, found[name])
        )
        proposed = None
        if name in CONTACT_FIELDS:
            rule_label = _("All kept")
        else:
            rule = stored.get(name)
            rule_label = str(Rule(rule.rule if rule else DEFAULT_RULE).label)
            pick = choose(name, origins[name], rule)
            proposed = next(
                (
                    history
                    for history in histories
                    if pick is not None and history.value == pick.value and not history.chosen
                ),
                None,
            )
        table.append(
            FieldLineage(
                field=name,
                label=field_label(name),
                multiple=name in CONTACT_FIELDS,
                rule_label=rule_label,
                current=[_display(name, value) for value in current[name]],
                values=histories,
                proposed=proposed,
            )
        )
    return table


def field_label(name: str) -> str:
    if name == "emails":
        return str(CustomerEmail._meta.verbose_name_plural)
    if name == "phones":
        return str(CustomerPhone._meta.verbose_name_plural)
    return str(_model_field(name).verbose_name)


def _display(name: str, value: Any) -> str:
    if isinstance(value, datetime.date):
        return formats.date_format(value, "DATE_FORMAT")
    if name in CHOICE_FIELDS or name == "gender":
        return str(dict(_model_field(name).flatchoices).get(value, value))
    return str(value)


def _model_field(name: str) -> models.Field[Any, Any]:
    found = Customer._meta.get_field(name)
    assert isinstance(found, models.Field)  # every scalar field is a column of its own
    return found
