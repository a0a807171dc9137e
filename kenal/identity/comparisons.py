"""How two persons compare, field by field: each comparison puts a pair on one level.

Levels run from the strongest agreement to disagreement; a field missing on either side
gives no level (``None``) and so no evidence either way. The weight of each level comes
from the matching model (:mod:`kenal.identity.weights`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import product

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from kenal.identity.names import NameAgreement, joined_forms, name_code, name_similarity
from kenal.identity.people import Person, Place

__all__ = ["COMPARISONS", "Comparison", "Outcome", "compare"]


@dataclass(frozen=True)
class Outcome:
    level: int | None  # index into the comparison's levels; None: missing on a side
    left: str
    right: str
    # Names only: they agree on fewer than three words, each of which very many customers
    # have (frequency.CROWDED): strangers born the same day can have such a name.
    crowded: bool = False


@dataclass(frozen=True)
class Comparison:
    field: str
    levels: tuple[str, ...]
    labels: tuple[Promise, ...]
    compare: Callable[[Person, Person], Outcome]


# Names agreeing on this many words (initials aside) are rare together, whatever the words.
DISTINCTIVE_WORDS = 3
_COMPATIBLE = 1


def _name(a: Person, b: Person) -> Outcome:
    left, right = " ".join(a.names), " ".join(b.names)
    if not a.names or not b.names:
        return Outcome(None, left, right)
    agreement = name_similarity(a.names, b.names)
    level = _name_level(agreement, a, b)
    if level > _COMPATIBLE and len(a.names) != len(b.names):
        # Two words of the longer name may be one word of the other written with a space
        # ("Nur Hayati", "Nurhayati"; "Mc Gilchrist", "McGilchrist").
        joined = _joined(a, b) if len(a.names) > len(b.names) else _joined(b, a, swap=True)
        if joined is not None:
            agreement, level = joined, _COMPATIBLE
    return Outcome(level, left, right, _crowded(agreement, a, b))


def _name_level(agreement: NameAgreement, a: Person, b: Person) -> int:
    score = agreement.score
    aligned = max(len(a.names), len(b.names)) - agreement.unmatched
    if score >= 0.99 and not agreement.unmatched:
        return 0
    if aligned == min(len(a.names), len(b.names)) and all(
        _typo(x, y, a, b) for x, y in agreement.fuzzy_pairs
    ):
        # Every word of the shorter name is in the longer one, as written, by sound (old
        # spelling, j/y), as an initial or with a typo (a word nobody else has): a form of
        # the same name, not another name a letter away (Rina, Rini).
        return _COMPATIBLE
    if score >= 0.93:
        return 2
    if score >= 0.85:
        return 3
    if score >= 0.70:
        return 4
    return 5


def _joined(longer: Person, shorter: Person, *, swap: bool = False) -> NameAgreement | None:
    """The agreement of the names with two words of ``longer`` joined, when the joined word
    is a word of ``shorter`` as written or by sound and the names are then forms of one
    another; else None. ``swap``: ``longer`` is the right-hand person."""
    words = set(shorter.names)
    codes = {name_code(token) for token in shorter.names}
    for tokens, word in joined_forms(longer.names):
        if word not in words and name_code(word) not in codes:
            continue  # the cheap test first: most pairs have no such word
        joined = replace(longer, names=tokens)
        left, right = (shorter, joined) if swap else (joined, shorter)
        agreement = name_similarity(left.names, right.names)
        if all(word not in pair for pair in agreement.fuzzy_pairs) and (
            _name_level(agreement, left, right) <= _COMPATIBLE
        ):
            return agreement
    return None


def _crowded(agreement: NameAgreement, a: Person, b: Person) -> bool:
    """Whether the names agree only on words very many customers have, and on too few of
    them to be rare together."""
    if len(agreement.word_pairs) >= DISTINCTIVE_WORDS:
        return False
    return all(x in a.crowded_names or y in b.crowded_names for x, y in agreement.word_pairs)


def _typo(x: str, y: str, a: Person, b: Person) -> bool:
    """A slip of the keys rather than another name: a letter or two apart (two only in long
    words), and not two words that are both names (Rina, Rini)."""
    slips = OSA.distance(x, y)
    small = slips <= 1 or (slips == 2 and min(len(x), len(y)) >= 7)
    return small and not (x in a.common_names and y in b.common_names)


def _birth_date(a: Person, b: Person) -> Outcome:
    left, right = _iso(a.birth_date), _iso(b.birth_date)
    if a.birth_date is None or b.birth_date is None:
        return Outcome(None, left, right)
    x, y = a.birth_date, b.birth_date
    if x == y:
        level = 0
    elif x.year == y.year and x.month == y.day and x.day == y.month:
        level = 1
    elif sum((x.year != y.year, x.month != y.month, x.day != y.day)) == 1 and (
        x.year == y.year or OSA.distance(str(x.year), str(y.year)) == 1
    ):
        level = 2  # one part mistyped
    else:
        level = 3
    return Outcome(level, left, right)


def _iso(day: datetime.date | None) -> str:
    return day.isoformat() if day else ""


def _email(a: Person, b: Person) -> Outcome:
    left, right = ", ".join(sorted(a.emails)), ", ".join(sorted(b.emails))
    if not a.emails or not b.emails:
        return Outcome(None, left, right)
    if a.emails & b.emails:
        return Outcome(0, left, right)
    close = any(
        _locals_close(x.partition("@")[0], a, y.partition("@")[0], b)
        for x, y in product(a.emails, b.emails)
    )
    return Outcome(1 if close else 2, left, right)


def _locals_close(x: str, a: Person, y: str, b: Person) -> bool:
    """Whether two addresses' local parts look like one person's.

    Most people's address spells their name ("budi.santoso88"); two namesakes' addresses then
    look alike because the names do, which the name comparison has already counted. When both
    are made of the owner's name, only what they add to it (the digits) can tell.
    """
    added_x, added_y = _added_to_name(x, a), _added_to_name(y, b)
    if added_x is not None and added_y is not None:
        return bool(added_x) and added_x == added_y
    return x == y or (len(x) > 5 and JaroWinkler.similarity(x, y) >= 0.95)


def _added_to_name(local: str, person: Person) -> str | None:
    """The digits of ``local`` when its letters are only the person's name words and their
    initials ("budisantoso", "b.santoso", "santoso.budi"), else None."""
    letters = "".join(char for char in local if "a" <= char <= "z")
    if not letters or not _spelled_from(letters, person.names):
        return None
    return "".join(char for char in local if char.isdigit())


def _spelled_from(letters: str, words: tuple[str, ...]) -> bool:
    """Whether ``letters`` is a run of the words and their initials, with one whole word."""
    pieces = {word for word in words if word} | {word[0] for word in words if word}
    # reach[i]: (reachable, a whole word used) for letters[:i].
    reach: list[tuple[bool, bool]] = [(True, False)] + [(False, False)] * len(letters)
    for end in range(1, len(letters) + 1):
        for piece in pieces:
            start = end - len(piece)
            if start >= 0 and reach[start][0] and letters[start:end] == piece:
                whole = reach[start][1] or len(piece) > 1
                reach[end] = (True, reach[end][1] or whole)
    return reach[-1] == (True, True)


def _phone(a: Person, b: Person) -> Outcome:
    left, right = ", ".join(sorted(a.phones)), ", ".join(sorted(b.phones))
    if not a.phones or not b.phones:
        return Outcome(None, left, right)
    if a.phones & b.phones:
        return Outcome(0, left, right)
    close = any(
        len(x) == len(y) and OSA.distance(x, y) == 1 for x, y in product(a.phones, b.phones)
    )
    return Outcome(1 if close else 2, left, right)


def _best_places(a: Person, b: Person, part: Callable[[Place], str]) -> Outcome:
    """The best level over every pair of the two persons' addresses, for one address part."""
    values_a = [part(place) for place in a.places if part(place)]
    values_b = [part(place) for place in b.places if part(place)]
    left, right = "; ".join(values_a), "; ".join(values_b)
    if not values_a or not values_b:
        return Outcome(None, left, right)
    return Outcome(
        min(_place_level(part, x, y) for x, y in product(values_a, values_b)), left, right
    )


def _place_level(part: Callable[[Place], str], x: str, y: str) -> int:
    if x == y:
        return 0
    if part is _street:
        ratio = token_set_ratio(x, y)
        return 1 if ratio >= 90 else 2
    if part is _postcode:
        return 1 if len(x) == len(y) and OSA.distance(x, y) == 1 else 2
    return 1 if JaroWinkler.similarity(x, y) >= 0.92 else 2


def _street(place: Place) -> str:
    return place.street


def _city(place: Place) -> str:
    return place.city


def _postcode(place: Place) -> str:
    return place.postcode


def _identifier(a: Person, b: Person) -> Outcome:
    """Unique custom fields (a national id, a member number): compared field by field."""
    left, right = ", ".join(sorted(a.identifiers)), ", ".join(sorted(b.identifiers))
    fields_a = {key.partition(":")[0]: key for key in a.identifiers}
    fields_b = {key.partition(":")[0]: key for key in b.identifiers}
    common = fields_a.keys() & fields_b.keys()
    if not common:
        return Outcome(None, left, right)
    if any(fields_a[name] == fields_b[name] for name in common):
        return Outcome(0, left, right)
    # One character wrong or two swapped: the usual typing slips.
    near = any(OSA.distance(fields_a[name], fields_b[name]) == 1 for name in common)
    return Outcome(1 if near else 2, left, right)


def _gender(a: Person, b: Person) -> Outcome:
    if not a.gender or not b.gender:
        return Outcome(None, a.gender, b.gender)
    return Outcome(0 if a.gender == b.gender else 1, a.gender, b.gender)


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "name",
        ("exact", "compatible", "strong", "close", "weak", "different"),
        (
            _("Names agree (after spelling and title normalisation)"),
            _("One name is a form of the other (initials, spelling, a typo)"),
            _("Names nearly agree"),
            _("Names are close"),
            _("Names are somewhat alike"),
            _("Names differ"),
        ),
        _name,
    ),
    Comparison(
        "birth_date",
        ("exact", "swapped", "near", "different"),
        (
            _("Same birth date"),
            _("Birth dates agree with day and month swapped"),
            _("Birth dates differ in one part"),
            _("Different birth dates"),
        ),
        _birth_date,
    ),
    Comparison(
        "email",
        ("exact", "close", "different"),
        (
            _("A shared email address"),
            _("Email addresses with the same or a similar name part"),
            _("Different email addresses"),
        ),
        _email,
    ),
    Comparison(
        "phone",
        ("exact", "close", "different"),
        (
            _("A shared phone number"),
            _("Phone numbers one digit or one swap apart"),
            _("Different phone numbers"),
        ),
        _phone,
    ),
    Comparison(
        "street",
        ("exact", "close", "different"),
        (_("Same street address"), _("Similar street addresses"), _("Different streets")),
        lambda a, b: _best_places(a, b, _street),
    ),
    Comparison(
        "city",
        ("exact", "close", "different"),
        (_("Same city"), _("Similar city names"), _("Different cities")),
        lambda a, b: _best_places(a, b, _city),
    ),
    Comparison(
        "postcode",
        ("exact", "near", "different"),
        (_("Same postcode"), _("Postcodes one digit or one swap apart"), _("Different postcodes")),
        lambda a, b: _best_places(a, b, _postcode),
    ),
    Comparison(
        "identifier",
        ("exact", "near", "different"),
        (
            _("The same identifying number"),
            _("Identifying numbers one character or one swap apart"),
            _("Different identifying numbers"),
        ),
        _identifier,
    ),
    Comparison(
        "gender",
        ("same", "different"),
        (_("Same gender"), _("Different genders")),
        _gender,
    ),
)


def compare(a: Person, b: Person) -> tuple[Outcome, ...]:
    """Every comparison's outcome for one pair, in :data:`COMPARISONS` order."""
    return tuple(comparison.compare(a, b) for comparison in COMPARISONS)
