"""What a scored pair leads to: merge, review, a household relationship, or nothing.

A wrong merge hands one customer's data to another and is worse than a missed one, so the
probability alone never merges: the names must agree, and something personal besides the
name must too. What a household shares — a phone, an address, a family name — is never
that something on its own.
"""

from __future__ import annotations

import enum

from kenal.identity.comparisons import COMPARISONS
from kenal.identity.people import Person
from kenal.identity.weights import Scored, Weights

__all__ = ["Verdict", "accepts_key", "conflicts", "shared_contacts", "verdict"]

_INDEX = {comparison.field: index for index, comparison in enumerate(COMPARISONS)}
NAME, BIRTH, EMAIL, PHONE = _INDEX["name"], _INDEX["birth_date"], _INDEX["email"], _INDEX["phone"]
STREET, POSTCODE = _INDEX["street"], _INDEX["postcode"]
IDENTIFIER, GENDER = _INDEX["identifier"], _INDEX["gender"]

# Levels, as indexes into each comparison's levels (see comparisons.COMPARISONS).
EXACT = 0
NAME_COMPATIBLE, NAME_STRONG, NAME_CLOSE, NAME_WEAK, NAME_DIFFERENT = 1, 2, 3, 4, 5
BIRTH_SWAPPED, BIRTH_NEAR, BIRTH_DIFFERENT = 1, 2, 3
IDENTIFIER_NEAR = 1
STREET_CLOSE = PHONE_CLOSE = 1
DIFFERENT_GENDER = 1


class Verdict(enum.Enum):
    MERGE = "merge"
    REVIEW = "review"
    NEW = "new"


def verdict(scored: Scored, weights: Weights) -> Verdict:
    if conflicts(scored):
        # Names somewhat alike but another fact disagrees: a person may have mistyped it.
        name = scored.outcomes[NAME].level
        if (
            name is not None
            and name <= NAME_WEAK
            and scored.probability >= weights.review_threshold
        ):
            return Verdict.REVIEW
        return Verdict.NEW
    if scored.probability >= weights.merge_threshold and _corroborated(scored):
        return Verdict.MERGE
    if scored.probability >= weights.review_threshold:
        return Verdict.REVIEW
    return Verdict.NEW


def conflicts(scored: Scored) -> bool:
    """Facts that show two different people: different names, birth dates or genders
    (twins often have alike names: Putri and Putra).

    The same identifying number outweighs them all (a name badly typed is still the person
    the number was given to); one a single slip off does too when the birth date or the
    name agrees: twins have numbers of their own, not one slip apart.
    Different numbers only weigh against a match: numbers are mistyped more than names.
    """
    levels = [outcome.level for outcome in scored.outcomes]
    identifier, name = levels[IDENTIFIER], levels[NAME]
    if identifier == EXACT:
        return False
    if identifier == IDENTIFIER_NEAR and (
        levels[BIRTH] == EXACT or (name is not None and name <= NAME_COMPATIBLE)
    ):
        return False
    return (
        levels[NAME] == NAME_DIFFERENT
        or levels[BIRTH] == BIRTH_DIFFERENT
        or (levels[GENDER] == DIFFERENT_GENDER and levels[NAME] != EXACT)
    )


def _corroborated(scored: Scored) -> bool:
    """Names agree, and so does something personal that a household does not share."""
    levels = [outcome.level for outcome in scored.outcomes]
    name, born, identifier = levels[NAME], levels[BIRTH], levels[IDENTIFIER]
    if identifier == EXACT or (identifier == IDENTIFIER_NEAR and born == EXACT):
        return True
    if name is None or name > NAME_CLOSE:
        return False
    if identifier == IDENTIFIER_NEAR or levels[EMAIL] == EXACT:
        return True
    if born is not None and born <= BIRTH_SWAPPED:
        # Twins share a birth date, and often names a letter apart (Rina, Rini; Fajar,
        # Fajri): a birth date backs only names that are forms of one another. And strangers
        # with a crowded name (Dewi Lestari in a large database) are born the same day: for
        # such a name the home or the phone must agree too.
        if name > NAME_COMPATIBLE:
            return False
        return not scored.outcomes[NAME].crowded or _same_home(levels)
    if name == EXACT and levels[PHONE] == EXACT:
        return True  # the same full name on the same phone
    # A mistyped birth date still counts when the same street and postcode back it up.
    return born == BIRTH_NEAR and levels[STREET] == EXACT and levels[POSTCODE] == EXACT


def _same_home(levels: list[int | None]) -> bool:
    """The same or a similar street, or the same postcode (more than a city), or the same
    phone number (or one a slip off)."""
    street, postcode, phone = levels[STREET], levels[POSTCODE], levels[PHONE]
    return (
        (street is not None and street <= STREET_CLOSE)
        or postcode == EXACT
        or (phone is not None and phone <= PHONE_CLOSE)
    )


def accepts_key(scored: Scored, rule: str) -> bool:
    """Whether a customer found by a shared email or phone is the record's person.

    A phone is often a household's: one name must be a form of the other (Budi S., Budi
    Santoso), not a name a letter or two away (Andi, Anita). An email is personal: a typo in
    the name is allowed.
    """
    if conflicts(scored):
        return False
    name = scored.outcomes[NAME].level
    limit = NAME_COMPATIBLE if rule == "phone" else NAME_STRONG
    return name is None or name <= limit


def shared_contacts(a: Person, b: Person) -> list[tuple[str, str]]:
    """(kind, value) of the contact details two people share: for a Relationship."""
    streets_a = {place.street for place in a.places if place.street}
    streets_b = {place.street for place in b.places if place.street}
    return [
        *(("shared_email", value) for value in sorted(a.emails & b.emails)),
        *(("shared_phone", value) for value in sorted(a.phones & b.phones)),
        *(("shared_address", value) for value in sorted(streets_a & streets_b)),
    ]
