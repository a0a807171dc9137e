"""Writing a batch of customer rows: clean, match, fold duplicates, save in bulk.

One batch costs a fixed number of queries whatever its size: the matching lookups, one
bulk insert per table for new customers, and the stored customers it updates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.customers import custom_fields, normalise
from kenal.customers.models import (
    Address,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomField,
    CustomFieldValue,
    NameToken,
    SourceRecord,
    Tag,
)
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import (
    CHOICE_FIELDS,
    NAME_FIELDS,
    TEXT_FIELDS,
    CleanCustomer,
    CustomerInvalid,
    clean_customer,
)
from kenal.identity.services import Match, MatchKeys, find_matches
from kenal.ingest.mapping import customer_raw, split_name
from kenal.ingest.models import Import, ImportChange
from kenal.ingest.profiles import Profile, address_dict, as_json
from kenal.ingest.readers import Row
from kenal.privacy.models import ConsentRecord
from kenal.privacy.services import ConsentDeclaration, build_records

SCALARS = [*NAME_FIELDS, *TEXT_FIELDS, *CHOICE_FIELDS, "gender", "birth_date"]
# Which key a match was made on decides between two candidates: lower rank wins.
RULE_RANK = {"i": 0, "source_id": 0, "e": 1, "email": 1, "p": 2, "phone": 2}
Action = SourceRecord.Action


@dataclass
class Entry:
    """One row on its way through the batch."""

    number: int
    data: Row
    external_id: str
    clean: CleanCustomer | None
    errors: list[InvalidValue] = field(default_factory=list)
    action: str = ""
    target: Profile | int | None = None  # a new customer's profile, or a stored customer's id
    customer_id: int | None = None

    def match_keys(self) -> list[str]:
        """Identifying keys, strongest first: "i:<source id>", "e:<email>", "p:<phone>"."""
        found = [f"i:{self.external_id}"] if self.external_id else []
        if self.clean is not None:
            found += [f"e:{row.email.lower()}" for row in self.clean.emails or []]
            found += [f"p:{row.number}" for row in self.clean.phones or []]
        return found


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected: int = 0
    empty: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class CustomerRowWriter:
    """Writes the rows of one import; keeps what it learnt between batches."""

    def __init__(
        self,
        run: Import,
        *,
        declaration: ConsentDeclaration,
        actor: User | None,
    ) -> None:
        self.run = run
        self.declaration = declaration
        self.actor = actor
        self.fields: dict[str, CustomField] = custom_fields.definitions()
        self.created_ids: set[int] = set()
        self.consented_ids: set[int] = set()
        self.unique_owner: dict[str, object] = {}  # unique custom value → its customer
        self.tags: dict[str, Tag] = {}

    def write(self, rows: Sequence[tuple[int, Row]]) -> Counts:
        counts = Counts()
        entries = [entry for entry in map(self._entry, rows) if entry is not None]
        counts.empty = len(rows) - len(entries)
        self._route([entry for entry in entries if entry.clean is not None])
        new_profiles = _unique([e.target for e in entries if isinstance(e.target, Profile)])
        ids = self._create(new_profiles)
        profile_ids = {id(profile): pk for profile, pk in zip(new_profiles, ids, strict=True)}
        changed = self._update([entry for entry in entries if isinstance(entry.target, int)])
        for entry in entries:
            if isinstance(entry.target, Profile):
                entry.customer_id = profile_ids[id(entry.target)]
            elif isinstance(entry.target, int):
                entry.customer_id = entry.target
                if entry.action == Action.UPDATED and entry.target not in changed:
                    entry.action = Action.UNCHANGED
            name = "rejected" if entry.errors else _count_name(entry.action)
            setattr(counts, name, getattr(counts, name) + 1)
        records = self._source_records(entries)
        self._consent(entries, records)
        return counts

    # --- cleaning and routing ---------------------------------------------------------------

    def _entry(self, item: tuple[int, Row]) -> Entry | None:
        number, data = item
        if not any((value or "").strip() for value in data.values()):
            return None
        external_id = (data.get(self.run.id_column) or "").strip() if self.run.id_column else ""
        raw = customer_raw(data, self.run.mapping)
        try:
            clean = clean_customer(raw, fields=self.fields)
        except CustomerInvalid as exc:
            return Entry(number, data, external_id, None, exc.errors)
        names = clean.scalars
        if names.get("full_name") and not (names.get("given_name") or names.get("family_name")):
            names["given_name"], family = split_name(names["full_name"])
            if family:
                names["family_name"] = family
        return Entry(number, data, external_id, clean)

    def _route(self, entries: list[Entry]) -> None:
        """Send each row to a new customer, a customer from an earlier row, or a stored one."""
        matches = find_matches(
            [
                MatchKeys(
                    source=self.run.source,
                    external_id=entry.external_id,
                    emails=tuple(row.email for row in entry.clean.emails or []),
                    phones=tuple(row.number for row in entry.clean.phones or []),
                )
                for entry in entries
                if entry.clean is not None
            ]
        )
        # Rows earlier in this batch are not in the database yet: their keys are kept here.
        seen: dict[str, Profile | int] = {}
        for entry, match in zip(entries, matches, strict=True):
            target = self._target(entry, match, seen)
            if target is None:
                target = Profile()
                entry.action = Action.CREATED
            elif isinstance(target, Profile) or target in self.created_ids:
                entry.action = Action.MERGED
            else:
                entry.action = Action.UPDATED
            problem = self._unique_problem(entry, target)
            if problem is not None:
                entry.errors, entry.clean = [problem], None
                continue
            entry.target = target
            if isinstance(target, Profile):
                assert entry.clean is not None
                target.absorb(entry.clean)
            for key in entry.match_keys():
                seen.setdefault(key, target)

    @staticmethod
    def _target(
        entry: Entry, match: Match | None, seen: Mapping[str, Profile | int]
    ) -> Profile | int | None:
        earlier = next(((key, seen[key]) for key in entry.match_keys() if key in seen), None)
        if earlier and (match is None or RULE_RANK[earlier[0][0]] <= RULE_RANK[match.rule]):
            return earlier[1]
        return match.customer_id if match else None

    def _unique_problem(self, entry: Entry, target: Profile | int) -> InvalidValue | None:
        """Two rows of one file giving different customers the same unique value."""
        assert entry.clean is not None
        for custom_field, values in entry.clean.custom.items():
            if not custom_field.unique:
                continue
            for value in values:
                key = f"{custom_field.pk}:{value.value}"
                owner = self.unique_owner.setdefault(key, target)
                if owner is not target:
                    return InvalidValue(
                        f"custom.{custom_field.key}",
                        value.value,
                        _("a value no other customer in this file has"),
                    )
        return None

    # --- new customers ----------------------------------------------------------------------

    def _create(self, profiles: list[Profile]) -> list[int]:
        if not profiles:
            return []
        customers = [_new_customer(profile) for profile in profiles]
        Customer.objects.bulk_create(customers, batch_size=1000)
        ids = [customer.pk for customer in customers]
        self.created_ids.update(ids)
        emails: list[CustomerEmail] = []
        phones: list[CustomerPhone] = []
        addresses: list[Address] = []
        tokens: list[NameToken] = []
        values: list[CustomFieldValue] = []
        tag_links: list[Any] = []
        for customer, profile in zip(customers, profiles, strict=True):
            for rows, target in (
                (profile.emails, emails),
                (profile.phones, phones),
                (profile.addresses, addresses),
            ):
                for row in rows:
                    row.customer_id = customer.pk
                    target.append(row)
            tokens += [
                NameToken(customer_id=customer.pk, token=token)
                for token in normalise.name_tokens(customer.full_name)
            ]
            for custom_field, typed in profile.custom.items():
                values += custom_fields.value_rows(custom_field, customer.pk, typed)
            tag_links += [
                Customer.tags.through(customer_id=customer.pk, tag_id=self._tag(name).pk)
                for name in profile.tags
            ]
        tables: list[tuple[Any, list[Any]]] = [
            (CustomerEmail, emails),
            (CustomerPhone, phones),
            (Address, addresses),
            (NameToken, tokens),
            (CustomFieldValue, values),
            (Customer.tags.through, tag_links),
        ]
        for model, rows in tables:
            model.objects.bulk_create(rows, batch_size=1000)
        return ids

    def _tag(self, name: str) -> Tag:
        key = name.casefold()
        if key not in self.tags:
            self.tags[key] = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(
                name=name
            )
        return self.tags[key]

    # --- stored customers -------------------------------------------------------------------

    def _update(self, entries: list[Entry]) -> set[int]:
        """Apply rows to stored customers; returns the ids of those that changed."""
        if not entries:
            return set()
        by_customer: dict[int, list[Entry]] = {}
        for entry in entries:
            assert isinstance(entry.target, int)
            by_customer.setdefault(entry.target, []).append(entry)
        customers = Customer.objects.filter(pk__in=by_customer).prefetch_related(
            "emails", "phones", "addresses", "tags", Prefetch("custom_values")
        )
        changed: set[int] = set()
        changes: list[ImportChange] = []
        for customer in customers:
            profile = Profile.of(customer, SCALARS)
            for entry in by_customer[customer.pk]:
                assert entry.clean is not None
                profile.absorb(entry.clean)
            if not profile.is_changed:
                continue
            changed.add(customer.pk)
            self._save_changes(customer, profile)
            if customer.pk not in self.created_ids:
                changes += _change_records(self.run, customer, profile)
        ImportChange.objects.bulk_create(changes, batch_size=1000)
        return changed

    def _save_changes(self, customer: Customer, profile: Profile) -> None:
        for name, (_old, new) in profile.changed_scalars.items():
            setattr(customer, name, new)
        customer.sort_name = normalise.sort_key(customer.full_name)
        customer.save()
        if "full_name" in profile.changed_scalars:
            NameToken.objects.filter(customer=customer).delete()
            NameToken.objects.bulk_create(
                NameToken(customer=customer, token=token)
                for token in normalise.name_tokens(customer.full_name)
            )
        for rows in (profile.added_emails, profile.added_phones, profile.added_addresses):
            for row in rows:
                row.customer = customer
                row.save()
        if profile.added_tags:
            customer.tags.add(*(self._tag(name) for name in profile.added_tags))
        custom_fields.write_values(
            customer, {field: new for field, (_old, new) in profile.changed_custom.items()}
        )

    # --- what was received, and consent -----------------------------------------------------

    def _source_records(self, entries: list[Entry]) -> list[SourceRecord]:
        records = [
            SourceRecord(
                customer_id=entry.customer_id,
                source=self.run.source,
                batch_id=self.run.batch_id,
                external_id=entry.external_id,
                row_number=entry.number,
                received_by=self.actor,
                data=entry.data,
                status=SourceRecord.Status.REJECTED
                if entry.errors
                else SourceRecord.Status.APPLIED,
                action="" if entry.errors else entry.action,
                errors=[error.as_dict() for error in entry.errors],
            )
            for entry in entries
        ]
        return SourceRecord.objects.bulk_create(records, batch_size=1000)

    def _consent(self, entries: list[Entry], records: list[SourceRecord]) -> None:
        if self.declaration.is_empty:
            return
        ledger: list[ConsentRecord] = []
        for entry, record in zip(entries, records, strict=True):
            if entry.customer_id is None or entry.customer_id in self.consented_ids:
                continue
            self.consented_ids.add(entry.customer_id)
            for consent in build_records(
                [entry.customer_id],
                self.declaration,
                source=self.run.source,
                batch_id=self.run.batch_id,
            ):
                consent.source_record = record
                consent.recorded_by = self.actor
                ledger.append(consent)
        ConsentRecord.objects.bulk_create(ledger, batch_size=1000)


def _unique(profiles: list[Any]) -> list[Profile]:
    seen: dict[int, Profile] = {}
    for profile in profiles:
        seen.setdefault(id(profile), profile)
    return list(seen.values())


def _count_name(action: str) -> str:
    names: dict[str, str] = {
        Action.CREATED: "created",
        Action.UPDATED: "updated",
        Action.MERGED: "merged",
        Action.UNCHANGED: "unchanged",
    }
    return names[action]


def _new_customer(profile: Profile) -> Customer:
    customer = Customer(**profile.scalars)
    customer.sort_name = normalise.sort_key(customer.full_name)
    return customer


def _change_records(run: Import, customer: Customer, profile: Profile) -> list[ImportChange]:
    def change(name: str, old: Any, new: Any) -> ImportChange:
        return ImportChange(run=run, customer=customer, field=name, old=old, new=new)

    records = [
        change(name, as_json(old), as_json(new))
        for name, (old, new) in profile.changed_scalars.items()
    ]
    records += [change("emails", None, row.email) for row in profile.added_emails]
    records += [change("phones", None, row.number) for row in profile.added_phones]
    records += [change("addresses", None, address_dict(row)) for row in profile.added_addresses]
    records += [change("tags", None, name) for name in profile.added_tags]
    records += [
        change(
            f"custom.{custom_field.key}",
            custom_fields.form_value(custom_field, old),
            custom_fields.form_value(custom_field, new),
        )
        for custom_field, (old, new) in profile.changed_custom.items()
    ]
    return records
