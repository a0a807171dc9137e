"""Writing a batch of customer rows: clean, match, fold duplicates, save in bulk.

One batch costs a fixed number of queries whatever its size: the matching lookups, one
bulk insert per table for new customers, and the stored customers it updates. Cleaning
(:class:`RowCleaner`) never touches the database, so a large import can run it in another
process while this one matches and writes the previous batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.customers import custom_fields, normalise
from kenal.customers.custom_fields import unique_key, unique_owners
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
    ADDRESS_PARTS,
    CHOICE_FIELDS,
    NAME_FIELDS,
    TEXT_FIELDS,
    AddressRow,
    CleanCustomer,
    CustomerInvalid,
    EmailRow,
    PhoneRow,
    clean_customer,
)
from kenal.identity import keys as blocking
from kenal.identity import weights
from kenal.identity.comparisons import compare
from kenal.identity.people import Person
from kenal.identity.rules import Verdict, accepts_key, verdict
from kenal.identity.services import (
    Match,
    MatchKeys,
    Resolution,
    persons_of,
    propose_among,
    record_outcomes,
    resolve_persons,
)
from kenal.ingest import bulk
from kenal.ingest.mapping import customer_raw, split_name
from kenal.ingest.models import Import, ImportChange
from kenal.ingest.profiles import Profile, address_dict, as_json, stored_profiles
from kenal.ingest.readers import Row
from kenal.ingest.received import ConsentLedger, keep_rows
from kenal.privacy.services import ConsentDeclaration

SCALARS = [*NAME_FIELDS, *TEXT_FIELDS, *CHOICE_FIELDS, "gender", "birth_date"]
CUSTOMER_COLUMNS = [*SCALARS, "owner"]
CUSTOMER_DEFAULTS = {
    name: model_field.get_default()
    for name in CUSTOMER_COLUMNS
    if isinstance(model_field := Customer._meta.get_field(name), models.Field)
}
ADDRESS_COLUMNS = [*ADDRESS_PARTS, "country"]
# Which key a match was made on decides between two candidates: lower rank wins.
RULE_RANK = {
    **{"i": 0, "source_id": 0, "u": 1, "identifier": 1, "e": 2, "email": 2},
    **{"p": 3, "phone": 3, "probabilistic": 4},
}
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
    resolution: Resolution | None = None  # what matching found in the database
    # Identifying keys, strongest first: "i:<source id>", "u:<unique custom value>",
    # "e:<email>", "p:<phone>".
    keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        found = [f"i:{self.external_id}"] if self.external_id else []
        if self.clean is not None:
            found += [
                f"u:{unique_key(custom_field, value)}"
                for custom_field, values in self.clean.custom.items()
                if custom_field.unique
                for value in values
            ]
            found += [f"e:{row.email.lower()}" for row in self.clean.emails or []]
            found += [f"p:{row.number}" for row in self.clean.phones or []]
        self.keys = found


@dataclass
class CleanBatch:
    """A batch of rows, cleaned: what the writer needs, and nothing tied to the database."""

    size: int  # rows read, blank ones included
    last_number: int
    entries: list[Entry]

    def __reduce__(self) -> tuple[Any, ...]:
        # It crosses from the cleaning process as tuples of plain values: pickling the
        # objects themselves costs the writer more than its own work on a row.
        return (_unpacked, (self.size, self.last_number, [_packed(e) for e in self.entries]))


def _packed(entry: Entry) -> tuple[Any, ...]:
    clean = entry.clean
    if clean is None:
        return (entry.number, entry.data, entry.external_id, None, entry.errors)
    return (
        entry.number,
        entry.data,
        entry.external_id,
        (
            clean.scalars,
            None if clean.emails is None else [_email_values(row) for row in clean.emails],
            None if clean.phones is None else [_phone_values(row) for row in clean.phones],
            None if clean.addresses is None else [_address_values(r) for r in clean.addresses],
            clean.tags,
            clean.custom,
        ),
        entry.errors,
    )


def _email_values(row: EmailRow) -> tuple[str, bool, bool]:
    return (row.email, row.is_primary, row.is_verified)


def _phone_values(row: PhoneRow) -> tuple[str, bool, bool]:
    return (row.number, row.is_primary, row.is_verified)


def _address_values(row: AddressRow) -> tuple[Any, ...]:
    return (*(getattr(row, part) for part in ADDRESS_COLUMNS), row.is_primary)


def _unpacked(size: int, last_number: int, packed: list[tuple[Any, ...]]) -> CleanBatch:
    entries = []
    for number, data, external_id, values, errors in packed:
        clean = None
        if values is not None:
            scalars, emails, phones, addresses, tags, custom = values
            clean = CleanCustomer(
                scalars,
                None if emails is None else [EmailRow(*row) for row in emails],
                None if phones is None else [PhoneRow(*row) for row in phones],
                None if addresses is None else [AddressRow(*row) for row in addresses],
                tags,
                custom,
            )
        entries.append(Entry(number, data, external_id, clean, errors))
    return CleanBatch(size, last_number, entries)


@dataclass(frozen=True)
class RowCleaner:
    """Cleans rows with the import's mapping and custom fields; uses no database connection."""

    mapping: Mapping[str, str]
    id_column: str
    fields: Mapping[str, CustomField]

    def __call__(self, rows: Sequence[tuple[int, Row]]) -> CleanBatch:
        entries = [entry for entry in map(self._entry, rows) if entry is not None]
        return CleanBatch(len(rows), rows[-1][0] if rows else 0, entries)

    def _entry(self, item: tuple[int, Row]) -> Entry | None:
        number, data = item
        if not any((value or "").strip() for value in data.values()):
            return None
        external_id = (data.get(self.id_column) or "").strip() if self.id_column else ""
        raw = customer_raw(data, self.mapping)
        try:
            clean = clean_customer(raw, fields=self.fields, check_unique=False)
        except CustomerInvalid as exc:
            return Entry(number, data, external_id, None, exc.errors)
        names = clean.scalars
        if names.get("full_name") and not (names.get("given_name") or names.get("family_name")):
            names["given_name"], family = split_name(names["full_name"])
            if family:
                names["family_name"] = family
        return Entry(number, data, external_id, clean)


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
        self.consent = ConsentLedger(run, declaration, actor)
        self.actor = actor
        self.fields: dict[str, CustomField] = custom_fields.definitions()
        self.cleaner = RowCleaner(run.mapping, run.id_column, self.fields)
        self.weights = weights.active()
        self.created_ids: set[int] = set()
        # Unique custom value → its customer: a new one's profile, or a stored one's id.
        self.unique_owner: dict[str, Profile | int] = {}
        self.tags: dict[str, Tag] = {}

    def write(self, rows: Sequence[tuple[int, Row]]) -> Counts:
        return self.write_clean(self.cleaner(rows))

    def write_clean(self, batch: CleanBatch) -> Counts:
        """Write a batch :attr:`cleaner` has cleaned (possibly in another process)."""
        counts = Counts()
        entries = batch.entries
        counts.empty = batch.size - len(entries)
        self._route([entry for entry in entries if entry.clean is not None])
        new_profiles = _unique([e.target for e in entries if isinstance(e.target, Profile)])
        ids = self._create(new_profiles) if new_profiles else []
        profile_ids = {id(profile): pk for profile, pk in zip(new_profiles, ids, strict=True)}
        # Later batches reach these customers by id: unique values now belong to the ids.
        self.unique_owner = {
            key: profile_ids[id(owner)] if isinstance(owner, Profile) else owner
            for key, owner in self.unique_owner.items()
            if not isinstance(owner, Profile) or id(owner) in profile_ids
        }
        stored = [entry for entry in entries if isinstance(entry.target, int)]
        changed = self._update(stored) if stored else set()
        for entry in entries:
            if isinstance(entry.target, Profile):
                entry.customer_id = profile_ids[id(entry.target)]
            elif isinstance(entry.target, int):
                entry.customer_id = entry.target
                if entry.action == Action.UPDATED and entry.target not in changed:
                    entry.action = Action.UNCHANGED
            name = "rejected" if entry.errors else _count_name(entry.action)
            setattr(counts, name, getattr(counts, name) + 1)
        self.consent.record(entries, keep_rows(self.run, self.actor, entries))
        record_outcomes(
            (entry.customer_id, entry.resolution)
            for entry in entries
            if entry.action == Action.CREATED and entry.customer_id and entry.resolution
        )
        people = blocking.refresh([*ids, *changed])
        propose_among(ids, self.weights, people)
        return counts

    # --- routing ---------------------------------------------------------------------------

    def _route(self, entries: list[Entry]) -> None:
        """Send each row to a new customer, a customer from an earlier row, or a stored one."""
        batch = [
            MatchKeys.from_clean(entry.clean, source=self.run.source, external_id=entry.external_id)
            for entry in entries
            if entry.clean is not None
        ]
        persons = persons_of(batch)
        resolutions = resolve_persons(batch, persons, self.weights)
        stored_owners = unique_owners(
            key[2:] for entry in entries for key in entry.keys if key.startswith("u:")
        )
        # Rows earlier in this batch are not in the database yet: their keys are kept here.
        seen: dict[str, tuple[Profile | int, Person]] = {}
        # New customers of this batch by blocking key, for the rows that share no exact key.
        blocks: dict[str, list[tuple[Profile, Person]]] = {}
        for entry, resolution, person in zip(entries, resolutions, persons, strict=True):
            entry.resolution = resolution
            target = self._target(entry, resolution.match, seen, person)
            if target is None:
                target = self._alike_earlier(person, blocks)
            if target is None:
                target = Profile()
                entry.action = Action.CREATED
            elif isinstance(target, Profile) or target in self.created_ids:
                entry.action = Action.MERGED
            else:
                entry.action = Action.UPDATED
            problem = self._unique_problem(entry, target, stored_owners)
            if problem is not None:
                entry.errors, entry.clean = [problem], None
                continue
            entry.target = target
            if isinstance(target, Profile):
                assert entry.clean is not None
                target.absorb(entry.clean)
            for key in entry.keys:
                seen.setdefault(key, (target, person))
            if isinstance(target, Profile):
                for key in blocking.blocking_keys(person):
                    blocks.setdefault(key, []).append((target, person))

    def _alike_earlier(
        self, person: Person, blocks: Mapping[str, list[tuple[Profile, Person]]]
    ) -> Profile | None:
        """The new customer of an earlier row this row would merge with if that row had
        been imported before: one file holds duplicates as often as two files do."""
        best: tuple[float, Profile] | None = None
        for key in blocking.blocking_keys(person):
            for profile, other in blocks.get(key, ())[: blocking.MAX_BLOCK]:
                scored = self.weights.score(compare(person, other))
                if verdict(scored, self.weights) is Verdict.MERGE and (
                    best is None or scored.weight > best[0]
                ):
                    best = (scored.weight, profile)
        return best[1] if best else None

    def _target(
        self,
        entry: Entry,
        match: Match | None,
        seen: Mapping[str, tuple[Profile | int, Person]],
        person: Person,
    ) -> Profile | int | None:
        earlier = next(
            (
                (key, target)
                for key in entry.keys
                if key in seen
                for target, other in [seen[key]]
                # A phone or email shared with an earlier row: the same household check as
                # for stored customers (a parent and a child on one phone stay two).
                if key[0] in "iu" or self._same_person(person, other, key)
            ),
            None,
        )
        if earlier and (match is None or RULE_RANK[earlier[0][0]] <= RULE_RANK[match.rule]):
            return earlier[1]
        # A unique value an earlier row of this file gave a customer (whose stored value may
        # since have changed) still leads to that customer.
        held = next(
            (
                self.unique_owner[key[2:]]
                for key in entry.keys
                if key.startswith("u:") and key[2:] in self.unique_owner
            ),
            None,
        )
        if held is not None and (match is None or RULE_RANK["u"] <= RULE_RANK[match.rule]):
            return held
        return match.customer_id if match else None

    def _same_person(self, person: Person, other: Person, key: str) -> bool:
        rule = "phone" if key.startswith("p:") else "email"
        return accepts_key(self.weights.score(compare(person, other)), rule)

    def _unique_problem(
        self, entry: Entry, target: Profile | int, stored_owners: Mapping[str, int]
    ) -> InvalidValue | None:
        """A unique value another customer holds, or that two rows give different customers.

        A row is matched by its unique values first, so this is a row another key (the
        source's own id) sends to a different customer than the value's holder.
        """
        assert entry.clean is not None
        for custom_field, values in entry.clean.custom.items():
            if not custom_field.unique:
                continue
            for value in values:
                key = unique_key(custom_field, value)
                holder = stored_owners.get(key)
                if holder is not None and holder != target:
                    return InvalidValue(
                        f"custom.{custom_field.key}",
                        value.display(),
                        _("a value no other customer has (customer #%(id)d has it)")
                        % {"id": holder},
                    )
                owner = self.unique_owner.setdefault(key, target)
                if owner is not target and not (isinstance(owner, int) and owner == target):
                    return InvalidValue(
                        f"custom.{custom_field.key}",
                        value.value,
                        _("a value no other customer in this file has"),
                    )
        return None

    # --- new customers ----------------------------------------------------------------------

    def _create(self, profiles: list[Profile]) -> list[int]:
        ids = bulk.reserve_ids(Customer, len(profiles))
        now = bulk.prepare(Customer, "created_at", timezone.now())
        as_date = bulk.preparer(Customer, "birth_date")
        bulk.insert(
            Customer,
            ["id", *CUSTOMER_COLUMNS, "sort_name", "created_at", "updated_at"],
            [
                (
                    pk,
                    *_customer_values(profile, as_date),
                    normalise.sort_key(_full_name(profile)),
                    now,
                    now,
                )
                for pk, profile in zip(ids, profiles, strict=True)
            ],
        )
        self.created_ids.update(ids)
        self._add_details(list(zip(ids, profiles, strict=True)), new=True)
        return ids

    def _add_details(self, owners: list[tuple[int, Profile]], *, new: bool) -> None:
        """Insert the contact rows, addresses, name words, tags and custom values of profiles.

        ``new``: every detail of a new customer; otherwise only what rows added to a stored one.
        """
        emails, phones, addresses, tokens, tag_links = [], [], [], [], []
        values: list[CustomFieldValue] = []
        for pk, profile in owners:
            emails += [
                (pk, row.email, row.is_primary, row.is_verified)
                for row in (profile.emails if new else profile.added_emails)
            ]
            phones += [
                (pk, row.number, row.is_primary, row.is_verified)
                for row in (profile.phones if new else profile.added_phones)
            ]
            addresses += [
                (pk, *(getattr(row, part) or "" for part in ADDRESS_COLUMNS), row.is_primary)
                for row in (profile.addresses if new else profile.added_addresses)
            ]
            if new:
                tokens += [(pk, token) for token in normalise.name_tokens(_full_name(profile))]
                for custom_field, typed in profile.custom.items():
                    values += custom_fields.value_rows(custom_field, pk, typed)
            tag_links += [
                (pk, self._tag(name).pk) for name in (profile.tags if new else profile.added_tags)
            ]
        contact = ["customer", "is_primary", "is_verified"]
        bulk.insert(CustomerEmail, ["customer", "email", *contact[1:]], emails)
        bulk.insert(CustomerPhone, ["customer", "number", *contact[1:]], phones)
        bulk.insert(Address, ["customer", *ADDRESS_COLUMNS, "is_primary"], addresses)
        bulk.insert(NameToken, ["customer", "token"], tokens)
        bulk.insert(Customer.tags.through, ["customer", "tag"], tag_links)
        CustomFieldValue.objects.bulk_create(values, batch_size=1000)

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
        by_customer: dict[int, list[Entry]] = {}
        for entry in entries:
            assert isinstance(entry.target, int)
            by_customer.setdefault(entry.target, []).append(entry)
        fields_by_id = {custom_field.pk: custom_field for custom_field in self.fields.values()}
        profiles = stored_profiles(by_customer, SCALARS, fields_by_id)
        for pk, profile in profiles.items():
            for entry in by_customer[pk]:
                assert entry.clean is not None
                profile.absorb(entry.clean)
        changed_profiles = {pk: profile for pk, profile in profiles.items() if profile.is_changed}
        # Model instances only for the customers saved (rows often repeat what is stored).
        customers = Customer.objects.in_bulk(changed_profiles)
        changed = [(customers[pk], profile) for pk, profile in changed_profiles.items()]
        self._save_changes(changed)
        ImportChange.objects.bulk_create(
            [
                change
                for customer, profile in changed
                if customer.pk not in self.created_ids
                for change in _change_records(self.run, customer, profile)
            ],
            batch_size=1000,
        )
        return {customer.pk for customer, _profile in changed}

    def _save_changes(self, changed: list[tuple[Customer, Profile]]) -> None:
        now = timezone.now()
        names: set[str] = set()
        renamed: list[Customer] = []
        for customer, profile in changed:
            for name, (_old, new) in profile.changed_scalars.items():
                setattr(customer, name, new)
                names.add(name)
            customer.sort_name = normalise.sort_key(customer.full_name)
            customer.updated_at = now
            if "full_name" in profile.changed_scalars:
                renamed.append(customer)
            custom_fields.write_values(
                customer, {field: new for field, (_old, new) in profile.changed_custom.items()}
            )
        bulk.update(
            Customer,
            [*sorted(names), "sort_name", "updated_at"],
            [customer for customer, _profile in changed],
        )
        NameToken.objects.filter(customer__in=renamed).delete()
        bulk.insert(
            NameToken,
            ["customer", "token"],
            [(c.pk, token) for c in renamed for token in normalise.name_tokens(c.full_name)],
        )
        self._add_details([(customer.pk, profile) for customer, profile in changed], new=False)


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


def _full_name(profile: Profile) -> str:
    return str(profile.scalars.get("full_name") or "")


def _customer_values(profile: Profile, as_date: Callable[[Any], Any]) -> list[Any]:
    """The profile's customer columns in CUSTOMER_COLUMNS order, defaults where not given."""
    values = []
    for name in CUSTOMER_COLUMNS:
        value = profile.scalars.get(name)
        if name == "birth_date":
            values.append(as_date(value))
        elif name == "owner":
            values.append(value.pk if value is not None else None)
        else:
            values.append(value if value is not None else CUSTOMER_DEFAULTS[name])
    return values


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
