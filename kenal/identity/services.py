"""Finding the customer a record belongs to: one interface for every write path.

Today the match is exact: the source's own record id, a normalised email (ignoring case) or a
normalised phone number. Fuzzy matching will answer through the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q

from kenal.customers.models import CustomerPhone, SourceRecord
from kenal.customers.services import emails_matching

__all__ = ["Match", "MatchKeys", "find_match", "find_matches"]

# Large IN lists are split so no query passes SQLite's 32,766-parameter limit.
CHUNK = 5_000


@dataclass(frozen=True)
class MatchKeys:
    """The identifying values of one incoming record (already normalised)."""

    source: str = ""
    external_id: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.external_id or self.emails or self.phones)


@dataclass(frozen=True)
class Match:
    """The customer found, by which rule and on which value (the explanation)."""

    customer_id: int
    rule: str  # "source_id" | "email" | "phone"
    value: str


def find_match(keys: MatchKeys) -> Match | None:
    return find_matches([keys])[0]


def find_matches(batch: Sequence[MatchKeys]) -> list[Match | None]:
    """The customer each record belongs to, or None; a few queries for the whole batch.

    When keys point at different customers, the source's own id wins, then email, then
    phone: an id is assigned by the source, an email is personal, a phone is often shared.
    """
    by_source_id = _by_source_id(batch)
    by_email = _by_email({email for keys in batch for email in keys.emails})
    by_phone = _by_phone({phone for keys in batch for phone in keys.phones})
    matches: list[Match | None] = []
    for keys in batch:
        found = None
        if keys.external_id and (hit := by_source_id.get((keys.source, keys.external_id))):
            found = Match(hit, "source_id", keys.external_id)
        for email in () if found else keys.emails:
            if hit := by_email.get(email.lower()):
                found = Match(hit, "email", email)
                break
        for phone in () if found else keys.phones:
            if hit := by_phone.get(phone):
                found = Match(hit, "phone", phone)
                break
        matches.append(found)
    return matches


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
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
    return found


def _by_email(emails: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(emails):
        for email, customer_id in (
            emails_matching(chunk).order_by("-id").values_list("email", "customer_id")
        ):
            found[email.lower()] = customer_id  # the oldest row wins
    return found


def _by_phone(phones: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(phones):
        rows = CustomerPhone.objects.filter(number__in=chunk).order_by("-id")
        for number, customer_id in rows.values_list("number", "customer_id"):
            found[number] = customer_id
    return found
