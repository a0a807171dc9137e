"""A person as matching sees them: the comparable values of an incoming record or a customer."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from kenal.customers.models import (
    Address,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomFieldValue,
)
from kenal.identity import frequency, names

__all__ = ["Person", "Place", "load_people", "mark_common", "street_key"]

# Large IN lists are split so no query passes SQLite's 32,766-parameter limit.
CHUNK = 5_000

# Street words written many ways; each maps to one spelling before streets are compared.
_STREET_WORDS = {
    "jl": "jalan",
    "jln": "jalan",
    "jalan": "jalan",
    "gg": "gang",
    "kp": "kampung",
    "kmp": "kampung",
    "komp": "komplek",
    "kompleks": "komplek",
    "perum": "perumahan",
    "blk": "blok",
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "pl": "place",
    "cres": "crescent",
}
_DROPPED_STREET_WORDS = frozenset({"no", "nomor", "nomer"})
_NON_WORD = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=65_536)
def street_key(street: str) -> str:
    """A street as comparable words: accent-free, lower-case, abbreviations written out."""
    plain = unicodedata.normalize("NFKD", street).encode("ascii", "ignore").decode().lower()
    words = [
        _STREET_WORDS.get(word, word)
        for word in _NON_WORD.split(plain)
        if word and word not in _DROPPED_STREET_WORDS
    ]
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class Place:
    street: str = ""  # street_key() of the street line
    city: str = ""  # lower-case
    postcode: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    names: tuple[str, ...] = ()  # names.name_tokens()
    birth_date: datetime.date | None = None
    gender: str = ""
    emails: frozenset[str] = field(default_factory=frozenset)  # lower-case
    phones: frozenset[str] = field(default_factory=frozenset)  # E.164
    places: tuple[Place, ...] = ()
    # Values of unique custom fields (a national id, a member number) as "<field id>:<value>".
    identifiers: frozenset[str] = field(default_factory=frozenset)
    # Words of ``names`` that are names in their own right, not typos (see mark_common).
    common_names: frozenset[str] = field(default_factory=frozenset)
    # Words of ``names`` that very many customers have (see frequency.CROWDED).
    crowded_names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        *,
        full_name: str = "",
        birth_date: datetime.date | None = None,
        gender: str = "",
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
        places: Iterable[tuple[str, str, str]] = (),
        identifiers: Iterable[str] = (),
    ) -> Person:
        """A person from cleaned values; ``places`` are (street, city, postcode) as stored."""
        tokens = names.name_tokens(full_name)
        known = names.known_names()
        return cls(
            names=tokens,
            common_names=frozenset(token for token in tokens if token in known),
            birth_date=birth_date,
            gender=gender,
            emails=frozenset(email.lower() for email in emails),
            phones=frozenset(phones),
            places=tuple(
                Place(street_key(street), city.strip().lower(), postcode.strip())
                for street, city, postcode in places
                if street or city or postcode
            ),
            identifiers=frozenset(identifiers),
        )


def load_people(customer_ids: Iterable[int]) -> dict[int, Person]:
    """The customers as persons, a few queries for any number of them (merged ones left out)."""
    wanted = sorted(set(customer_ids))
    people: dict[int, Person] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = _load_chunk(wanted[start : start + CHUNK])
        people.update(zip(chunk, mark_common(list(chunk.values())), strict=True))
    return people


def mark_common(people: Sequence[Person]) -> list[Person]:
    """The persons with ``common_names`` completed, and ``crowded_names`` set, from the
    customers' own names."""
    common, crowded = frequency.classify(token for person in people for token in person.names)
    return [
        replace(
            person,
            common_names=person.common_names | common.intersection(person.names),
            crowded_names=frozenset(crowded.intersection(person.names)),
        )
        for person in people
    ]


def _load_chunk(ids: list[int]) -> dict[int, Person]:
    emails: dict[int, list[str]] = {}
    for customer_id, email in CustomerEmail.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "email"
    ):
        emails.setdefault(customer_id, []).append(email)
    phones: dict[int, list[str]] = {}
    for customer_id, number in CustomerPhone.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "number"
    ):
        phones.setdefault(customer_id, []).append(number)
    places: dict[int, list[tuple[str, str, str]]] = {}
    for customer_id, street, city, postcode in Address.objects.filter(
        customer_id__in=ids
    ).values_list("customer_id", "street", "city", "postcode"):
        places.setdefault(customer_id, []).append((street, city, postcode))
    identifiers: dict[int, list[str]] = {}
    for customer_id, key in CustomFieldValue.objects.filter(
        customer_id__in=ids, unique_key__isnull=False
    ).values_list("customer_id", "unique_key"):
        if key:
            identifiers.setdefault(customer_id, []).append(key)
    rows = Customer.objects.filter(id__in=ids, merged_into=None).values_list(
        "id", "full_name", "birth_date", "gender"
    )
    return {
        pk: Person.of(
            full_name=full_name,
            birth_date=birth_date,
            gender=gender,
            emails=emails.get(pk, ()),
            phones=phones.get(pk, ()),
            places=places.get(pk, ()),
            identifiers=identifiers.get(pk, ()),
        )
        for pk, full_name, birth_date, gender in rows
    }
