"""Blocking: the keys under which persons are compared, kept per customer in ``MatchKey``.

Only persons sharing a key are ever scored, so matching one record reads a handful of
index rows whatever the size of the database. Each key pairs a name code with a second
fact, so the common names of a country do not make huge blocks; birth dates are keyed
with day and month in order of size, so a swapped date still meets its twin. An identifying
number (a unique custom field) is keyed on its own, so one typed with a slip meets its owner.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import combinations

from django.db import connection, transaction

from kenal.identity.models import MatchKey
from kenal.identity.names import name_code
from kenal.identity.people import Person, load_people

__all__ = ["MAX_BLOCK", "MAX_CANDIDATES", "blocking_keys", "candidates", "refresh"]

# A key shared by more customers than this is too common to say anything: it is skipped.
MAX_BLOCK = 200
# Customers scored per record at most: those sharing the most keys with it.
MAX_CANDIDATES = 60
CHUNK = 2_000
# Letters of a name code that, with the birth date, make a key.
PREFIX = 3
# Identifying numbers shorter than this get no keys of their own.
MIN_IDENTIFIER = 6


def blocking_keys(person: Person) -> set[str]:
    codes = sorted({name_code(token) for token in person.names if len(token) > 1})
    keys: set[str] = set()
    born = ""
    if person.birth_date is not None:
        day = person.birth_date
        low, high = sorted((day.month, day.day))
        born = f"{day.year}{low:02}{high:02}"
    postcodes = sorted({place.postcode for place in person.places if place.postcode})
    for code in codes:
        if born:
            keys.add(f"nd:{code}|{born}")
            # The start of the word, for a typo further on in every word (Kyle Bullivant,
            # Kyale Bullivnt): the birth date keeps the block small.
            keys.add(f"nb:{code[:PREFIX]}|{born}")
        keys.update(f"np:{code}|{postcode}" for postcode in postcodes)
    keys.update(f"nn:{a}|{b}" for a, b in combinations(codes[:4], 2))
    if born:
        keys.update(f"dp:{born}|{postcode}" for postcode in postcodes)
    for email in person.emails:
        local = email.partition("@")[0]
        if len(local) > 5:
            keys.add(f"el:{local}")
    for identifier in person.identifiers:
        keys.update(_slip_keys(identifier))
    return {key[:120] for key in keys}


def _slip_keys(identifier: str) -> set[str]:
    """Keys an identifying number shares with itself typed with one slip.

    The same number meets its customer by the unique field itself; one character wrong, or two
    neighbours swapped, leaves one of three parts as it was written: a key per part, the
    number with that part hidden. Short numbers say too little to key on.
    """
    field, _colon, value = identifier.partition(":")
    if len(value) < MIN_IDENTIFIER:
        return set()
    cuts = [0, len(value) // 3, 2 * len(value) // 3, len(value)]
    return {
        f"id:{field}|{part}|{value[: cuts[part]]}*{value[cuts[part + 1] :]}" for part in range(3)
    }


_deferred: ContextVar[set[int] | None] = ContextVar("deferred_key_refresh", default=None)


@contextmanager
def deferred() -> Iterator[None]:
    """Customers written inside the block get their keys once, when it ends: one read per
    500 customers instead of one per customer, for writers of many customers at a time."""
    pending: set[int] = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    refresh(pending)


def written(customer_id: int) -> None:
    """A customer was written: its keys are refreshed now, or at the end of a deferred block."""
    pending = _deferred.get()
    if pending is None:
        refresh([customer_id])
    else:
        pending.add(customer_id)


def refresh(customer_ids: Iterable[int]) -> dict[int, Person]:
    """Rewrite the keys of these customers from their current values (merged ones get none);
    returns the persons it read, for a caller that needs them next."""
    ids = sorted(set(customer_ids))
    read: dict[int, Person] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        people = load_people(chunk)
        read.update(people)
        rows = [(pk, key) for pk, person in people.items() for key in blocking_keys(person)]
        with transaction.atomic():
            MatchKey.objects.filter(customer_id__in=chunk).delete()
            # Plain executemany: bulk_create builds an object per key, millions in an import.
            with connection.cursor() as cursor:
                cursor.executemany(_insert_sql(), rows)
    return read


def _insert_sql() -> str:
    quote = connection.ops.quote_name
    columns = f"{quote('customer_id')}, {quote('key')}"
    return f"INSERT INTO {quote(MatchKey._meta.db_table)} ({columns}) VALUES (%s, %s)"  # noqa: S608


def candidates(people: Sequence[Person]) -> list[set[int]]:
    """For each person, the customers sharing its keys, those sharing most first and at most
    MAX_CANDIDATES of them (over-common keys skipped)."""
    wanted = [blocking_keys(person) for person in people]
    every = sorted(set().union(*wanted)) if wanted else []
    members: dict[str, list[int]] = {}
    for start in range(0, len(every), CHUNK):
        rows = MatchKey.objects.filter(key__in=every[start : start + CHUNK]).values_list(
            "key", "customer_id"
        )
        for key, customer_id in rows.order_by():
            members.setdefault(key, []).append(customer_id)
    found: list[set[int]] = []
    for keys in wanted:
        blocks = [members.get(key, []) for key in keys]
        shared = Counter(pk for block in blocks if len(block) <= MAX_BLOCK for pk in block)
        found.append({pk for pk, _count in shared.most_common(MAX_CANDIDATES)})
    return found
