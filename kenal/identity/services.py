"""Finding the customer a record belongs to: one interface for every write path.

Deterministic keys come first: the source's own record id, a normalised email (ignoring
case), a normalised phone number. A customer found by email or phone is still compared
with the record, and one whose name or birth date clearly differs is taken for another
person of the same household (a :class:`Relationship`), not a match. Records that share
no key are scored against the customers of their blocks (:mod:`kenal.identity.keys`) by
the Fellegi-Sunter model (:mod:`kenal.identity.weights`): merged above the high bar,
proposed for review in between (:mod:`kenal.identity.review`), new below.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Q

from kenal.customers.custom_fields import unique_key, unique_owners
from kenal.customers.models import Customer, CustomerPhone, SourceRecord
from kenal.customers.services import (
    CleanCustomer,
    CustomerInvalid,
    Origin,
    clean_customer,
    create_customer,
    emails_matching,
    update_customer,
)
from kenal.identity import keys as blocking
from kenal.identity.comparisons import compare
from kenal.identity.models import CandidatePair, Relationship
from kenal.identity.people import Person, load_people, mark_common
from kenal.identity.rules import Verdict, accepts_key, conflicts, shared_contacts, verdict
from kenal.identity.weights import Scored, Weights, active

__all__ = [
    "Match",
    "MatchKeys",
    "Resolution",
    "Resolved",
    "find_match",
    "find_matches",
    "persons_of",
    "propose_among",
    "record_outcomes",
    "resolve",
    "resolve_batch",
    "resolve_persons",
    "score_customers",
    "survivors",
]

# Large IN lists are split so no query passes SQLite's 32,766-parameter limit.
CHUNK = 5_000
# Possible duplicates proposed for review per record, the likeliest first.
MAX_REVIEW = 5


@dataclass(frozen=True)
class MatchKeys:
    """The identifying values of one incoming record (already normalised)."""

    source: str = ""
    external_id: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    full_name: str = ""
    birth_date: datetime.date | None = None
    gender: str = ""
    places: tuple[tuple[str, str, str], ...] = ()  # (street, city, postcode)
    identifiers: tuple[str, ...] = ()  # unique custom field values, as custom_fields.unique_key

    @property
    def is_empty(self) -> bool:
        return not (
            self.external_id or self.emails or self.phones or self.full_name or self.identifiers
        )

    @classmethod
    def from_clean(cls, clean: CleanCustomer, *, source: str, external_id: str = "") -> MatchKeys:
        scalars = clean.scalars
        return cls(
            source=source,
            external_id=external_id,
            emails=tuple(row.email for row in clean.emails or ()),
            phones=tuple(row.number for row in clean.phones or ()),
            full_name=scalars.get("full_name") or "",
            birth_date=scalars.get("birth_date"),
            gender=scalars.get("gender") or "",
            places=tuple((row.street, row.city, row.postcode) for row in clean.addresses or ()),
            identifiers=tuple(
                unique_key(custom_field, value)
                for custom_field, values in clean.custom.items()
                if custom_field.unique
                for value in values
            ),
        )

    def person(self) -> Person:
        return Person.of(
            full_name=self.full_name,
            birth_date=self.birth_date,
            gender=self.gender,
            emails=self.emails,
            phones=self.phones,
            places=self.places,
            identifiers=self.identifiers,
        )


@dataclass(frozen=True)
class Match:
    """A customer the record may belong to, by which rule, and why (score and explanation)."""

    customer_id: int
    rule: str  # "source_id" | "identifier" | "email" | "phone" | "probabilistic"
    value: str
    score: float = 1.0
    explanation: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Resolution:
    """What matching decided for one record."""

    match: Match | None  # the customer it belongs to, if any
    review: tuple[Match, ...] = ()  # possible duplicates to propose when a customer is created
    related: tuple[tuple[int, str, str], ...] = ()  # (customer, kind, value): a household


def find_match(keys: MatchKeys) -> Match | None:
    return find_matches([keys])[0]


def find_matches(batch: Sequence[MatchKeys]) -> list[Match | None]:
    """The customer each record belongs to, or None."""
    return [resolution.match for resolution in resolve_batch(batch)]


def resolve_batch(batch: Sequence[MatchKeys], weights: Weights | None = None) -> list[Resolution]:
    """Match a batch of records; a few queries for the whole batch."""
    return resolve_persons(batch, persons_of(batch), weights)


def persons_of(batch: Sequence[MatchKeys]) -> list[Person]:
    """The records as matching compares them (which name words are names: one query)."""
    return mark_common([keys.person() for keys in batch])


def resolve_persons(
    batch: Sequence[MatchKeys], persons: Sequence[Person], weights: Weights | None = None
) -> list[Resolution]:
    """:func:`resolve_batch`, for a caller that has the records' persons already.

    When keys point at different customers, the source's own id wins, then a unique custom
    field (a national id), then email, then phone: an id is assigned, an email is personal,
    a phone is often shared.
    """
    weights = weights or active()
    by_source_id = _by_source_id(batch)
    by_identifier = _by_identifier({key for keys in batch for key in keys.identifiers})
    by_email = _by_email({email for keys in batch for email in keys.emails})
    by_phone = _by_phone({phone for keys in batch for phone in keys.phones})
    blocks = blocking.candidates(persons)
    known = load_people(
        set().union(*blocks, by_email.values(), by_phone.values()) if batch else set()
    )
    return [
        _resolve(
            keys, person, block, known, weights, by_source_id, by_identifier, by_email, by_phone
        )
        for keys, person, block in zip(batch, persons, blocks, strict=True)
    ]


def _resolve(
    keys: MatchKeys,
    person: Person,
    block: set[int],
    known: Mapping[int, Person],
    weights: Weights,
    by_source_id: Mapping[tuple[str, str], int],
    by_identifier: Mapping[str, int],
    by_email: Mapping[str, int],
    by_phone: Mapping[str, int],
) -> Resolution:
    if keys.external_id and (hit := by_source_id.get((keys.source, keys.external_id))):
        return Resolution(Match(hit, "source_id", keys.external_id))
    for key in keys.identifiers:
        # A unique field's value belongs to one customer: the database enforces it.
        if hit := by_identifier.get(key):
            return Resolution(Match(hit, "identifier", key.partition(":")[2]))
    related: list[tuple[int, str, str]] = []
    review: list[Match] = []
    refused: set[int] = set()
    exact = [("email", email, by_email.get(email.lower())) for email in keys.emails]
    exact += [("phone", phone, by_phone.get(phone)) for phone in keys.phones]
    for rule, value, hit in exact:
        if hit is None or hit in refused:
            continue
        other = known.get(hit)
        scored = weights.score(compare(person, other)) if other else None
        if other is None or scored is None or accepts_key(scored, rule):
            return Resolution(
                Match(
                    hit, rule, value, *((scored.probability, scored.explanation) if scored else ())
                )
            )
        refused.add(hit)
        if conflicts(scored):
            related += [(hit, kind, shared) for kind, shared in shared_contacts(person, other)]
        else:  # names only somewhat alike on a shared contact: a person decides
            review.append(Match(hit, rule, value, scored.probability, scored.explanation))
    best: Match | None = None
    for customer_id in sorted(block - refused):
        other = known.get(customer_id)
        if other is None:
            continue
        scored = weights.score(compare(person, other))
        found = verdict(scored, weights)
        if found is Verdict.MERGE and (best is None or scored.probability > best.score):
            best = _probable(customer_id, scored)
        elif found is Verdict.REVIEW:
            review.append(_probable(customer_id, scored))
        elif conflicts(scored):
            related += [
                (customer_id, kind, shared) for kind, shared in shared_contacts(person, other)
            ]
    review.sort(key=lambda match: -match.score)
    return Resolution(best, tuple(review[:MAX_REVIEW]) if best is None else (), tuple(related))


def _probable(customer_id: int, scored: Scored) -> Match:
    # Explained only here: most candidates scored lead nowhere, and explaining costs more.
    return Match(customer_id, "probabilistic", "", scored.probability, scored.explanation)


def record_outcomes(outcomes: Iterable[tuple[int, Resolution]]) -> None:
    """After records were written: propose each new customer's possible duplicates for review
    and note the households found. A pair once judged "not the same person" stays so."""
    pairs: dict[tuple[int, int], Match] = {}
    relations: set[tuple[int, int, str, str]] = set()
    for customer_id, resolution in outcomes:
        for match in resolution.review:
            if match.customer_id != customer_id:
                pair = _ordered(customer_id, match.customer_id)
                if pair not in pairs or pairs[pair].score < match.score:
                    pairs[pair] = match
        for other, kind, value in resolution.related:
            if other != customer_id:
                relations.add((*_ordered(customer_id, other), kind, value))
    CandidatePair.objects.bulk_create(
        [
            CandidatePair(
                left_id=left,
                right_id=right,
                score=match.score,
                explanation=list(match.explanation),
            )
            for (left, right), match in sorted(pairs.items())
        ],
        ignore_conflicts=True,
        batch_size=1_000,
    )
    Relationship.objects.bulk_create(
        [
            Relationship(left_id=left, right_id=right, kind=kind, value=value[:254])
            for left, right, kind, value in sorted(relations)
        ],
        ignore_conflicts=True,
        batch_size=1_000,
    )


def propose_among(
    customer_ids: Sequence[int],
    weights: Weights | None = None,
    people: Mapping[int, Person] | None = None,
) -> None:
    """Customers created together (one import batch) could not be compared with each other
    before they existed: the pairs among them that look alike go to the review queue.
    ``people``: the persons, when the caller has just read them."""
    weights = weights or active()
    new = set(customer_ids)
    if people is None or not new <= people.keys():
        people = load_people(new)
    people = {pk: people[pk] for pk in new if pk in people}
    ids = sorted(people)
    blocks = blocking.candidates([people[pk] for pk in ids])
    outcomes: list[tuple[int, Resolution]] = []
    for pk, block in zip(ids, blocks, strict=True):
        for other in sorted(block & new):
            if other >= pk:
                continue
            scored = weights.score(compare(people[pk], people[other]))
            if verdict(scored, weights) is not Verdict.NEW:
                match = Match(other, "probabilistic", "", scored.probability, scored.explanation)
                outcomes.append((pk, Resolution(None, (match,))))
    record_outcomes(outcomes)


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class Resolved:
    """The customer a single write reached, and how."""

    customer: Customer
    decision: str  # "created" | "matched" | "review" (created, with possible duplicates)
    match_score: float | None
    explanation: list[dict[str, Any]]


def resolve(raw: Mapping[str, Any], origin: Origin) -> Resolved:
    """Write one record (API, forms): to the customer it matches, else to a new customer.

    Raises ``CustomerInvalid`` (nothing written but the kept source record) on bad values.
    """
    try:
        clean = clean_customer(raw, check_unique=False)
    except CustomerInvalid:
        create_customer(raw, origin)  # refuses again, keeping what was received
        raise
    keys = MatchKeys.from_clean(clean, source=origin.source, external_id=origin.external_id)
    resolution = resolve_batch([keys])[0]
    with transaction.atomic():
        if resolution.match is not None:
            customer = Customer.objects.get(pk=resolution.match.customer_id)
            customer = update_customer(customer, raw, origin)
            decision = "matched"
        else:
            customer = create_customer(raw, origin)
            record_outcomes([(customer.pk, resolution)])
            decision = "review" if resolution.review else "created"
    match = resolution.match or (resolution.review[0] if resolution.review else None)
    return Resolved(
        customer,
        decision,
        match.score if match else None,
        list(match.explanation) if match else [],
    )


def score_customers(left: int, right: int, weights: Weights | None = None) -> Scored:
    """How likely two stored customers are one person, and why (merged ones included)."""
    people = load_people([left, right])
    missing = Person()
    return (weights or active()).score(
        compare(people.get(left, missing), people.get(right, missing))
    )


# --- exact keys -----------------------------------------------------------------------------


Key = TypeVar("Key", str, int)


def _chunks(values: Iterable[Key]) -> Iterable[list[Key]]:
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _by_source_id(batch: Sequence[MatchKeys]) -> dict[tuple[str, str], int]:
    wanted: dict[str, set[str]] = {}
    for keys in batch:
        if keys.external_id:
            wanted.setdefault(keys.source, set()).add(keys.external_id)
    found: dict[tuple[str, str], int] = {}
    latest: dict[tuple[str, str], int] = {}
    for source, ids in wanted.items():
        for chunk in _chunks(ids):
            # No ORDER BY: sorting by id tempts SQLite to walk the records in id order instead
            # of looking each id up through the (source, external_id) index.
            rows = (
                SourceRecord.objects.filter(Q(source=source) & Q(external_id__in=chunk))
                .exclude(customer=None)
                .order_by()
                .values_list("id", "external_id", "customer_id")
            )
            for record_id, external_id, customer_id in rows:
                key = (source, external_id)
                if record_id > latest.get(key, 0):  # the latest record wins
                    latest[key], found[key] = record_id, customer_id
    return _survivors(found)


def _by_identifier(keys: set[str]) -> dict[str, int]:
    return _survivors(unique_owners(keys))


def _by_email(emails: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(emails):
        for email, customer_id in (
            emails_matching(chunk).order_by("-id").values_list("email", "customer_id")
        ):
            found[email.lower()] = customer_id  # the oldest row wins
    return _survivors(found)


def _by_phone(phones: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(phones):
        rows = CustomerPhone.objects.filter(number__in=chunk).order_by("-id")
        for number, customer_id in rows.values_list("number", "customer_id"):
            found[number] = customer_id
    return _survivors(found)


def _survivors(found: Mapping[Any, int]) -> dict[Any, int]:
    """``found`` with each merged customer replaced by the customer that survived it.

    A merge leaves on the merged customer the emails and phones the survivor already holds
    (and a write that found the customer just before the merge may still reach it), so a key
    can lead to a merged customer.
    """
    final = survivors(set(found.values()))
    return {key: final[customer_id] for key, customer_id in found.items()}


def survivors(customer_ids: Collection[int]) -> dict[int, int]:
    """Each customer mapped to the one it was merged into, at the end of the chain of merges.

    A customer that was never merged maps to itself. A merge repoints the customers merged
    earlier into the one it merges, so chains are one step long; one query per step along
    them (per 5,000 customers) still follows any older or hand-made chain.
    """
    hops: dict[int, int] = {}
    asked: set[int] = set()
    pending = set(customer_ids)
    while pending:
        asked |= pending
        for chunk in _chunks(pending):
            rows = Customer.objects.filter(pk__in=chunk).exclude(merged_into=None)
            hops.update(rows.values_list("id", "merged_into_id"))
        pending = set(hops.values()) - asked
    final: dict[int, int] = {}
    for start in customer_ids:
        current, visited = start, {start}
        # A customer already visited ends the walk: a (corrupt) cycle of merges cannot hang.
        while (target := hops.get(current)) is not None and target not in visited:
            current = target
            visited.add(current)
        final[start] = current
    return final
