"""Name knowledge for probabilistic matching: Indonesian-aware tokens, phonetic codes, similarity.

`name_tokens` turns a written name into canonical tokens (titles and degrees gone, old spellings
and the Muhammad/Ahmad/Abdul families unified); `name_code` folds spelling variants the tokens
still keep apart; `name_similarity` aligns two token sequences regardless of order, because
Indonesian names have no fixed given/family structure and mononyms are common.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz.distance import JaroWinkler

__all__ = [
    "NameAgreement",
    "joined_forms",
    "name_code",
    "name_similarity",
    "name_tokens",
    "token_codes",
]

# Compared with dots removed, so "Hj." and "Hj", "S.Kom." and "SKom" are the same key.
# fmt: off
TITLES = frozenset({
    "h", "hj", "haji", "hajah", "hajjah", "dr", "drg", "drs", "dra", "ir", "prof", "bapak", "bpk",
    "pak", "ibu", "bu", "sdr", "sdri", "tn", "ny", "nn", "mr", "mrs", "ms", "miss",
})
DEGREES = frozenset({
    "se", "sh", "skom", "st", "spd", "spdi", "ssos", "sked", "ssi", "sip", "sag", "skm", "skep",
    "sfarm", "sak", "ak", "apt", "mm", "msi", "mkom", "mt", "mpd", "mh", "mkes", "mhum", "msc",
    "mba", "amd", "phd", "bsc", "bba",
})
# Keys are written after old-spelling conversion ("Mochammad" arrives as "mokhammad").
FAMILIES = {
    **dict.fromkeys((
        "muhammad", "muhamad", "mohammad", "mohamad", "mohammed", "muhammed", "mohamed",
        "mokhammad", "mokhamad", "mukhammad", "mukhamad", "moh", "mokh", "muh", "mhd", "md", "mohd",
    ), "muhammad"),
    **dict.fromkeys(("akhmad", "akhmat", "ahmad", "ahmat"), "ahmad"),
    **dict.fromkeys(("abdul", "abd"), "abdul"),
    "noor": "nur",
}
# fmt: on

# One left-to-right pass, so a "j" produced by "dj" is never read again. "nj" becomes "ny" only
# at the start: inside a word today's spelling has "nj" from old "ndj" (Panji, Sanjaya).
_OLD_SPELLING = re.compile(r"oe|dj|tj|sj|ch|^nj")
_NEW_SPELLING = {"oe": "u", "dj": "j", "tj": "c", "sj": "sy", "ch": "kh", "nj": "ny"}
_APOSTROPHES = dict.fromkeys(map(ord, "'`\u2018\u2019\u02bc"))  # Ma'ruf is one token
_LETTERS = re.compile(r"[^\W\d_]+")
_CONSONANT = "bcdfghklmnpqrstvwxz"  # no "j": name_code turns it into "y" first
_CODE_STEPS = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        ("j", "y"),
        ("kh", "h"),
        ("ph", "f"),
        ("([bdgt])h", r"\1"),  # Ramadhan/Ramadan, Widhi/Widi, Thalib/Talib
        ("v", "f"),
        ("q", "k"),
        ("z", "s"),
        ("ie$", "i"),
        (f"(?<=[{_CONSONANT}])y", "i"),
        (f"(?<=[aeiou])h(?=[{_CONSONANT}]|$)", ""),  # Ahmad/Amad, Fatimah/Fatima
        (r"(.)\1+", r"\1"),
    )
)

EXACT, PHONETIC, INITIAL = 1.0, 0.95, 0.85
FUZZY_FLOOR = 0.80
_EXACT, _PHONETIC, _FUZZY, _INITIAL = 0, 1, 2, 3  # kinds of token agreement: count indexes
# Extra tokens in the longer name cost (shorter/longer) ** this: 1 vs 2 tokens -> 0.87,
# 2 vs 3 -> 0.92. Mild, because a missing middle or family name is normal in Indonesia.
COVERAGE_EXPONENT = 0.2


@dataclass(frozen=True)
class NameAgreement:
    """The agreement of two names, with the counts that explain it."""

    score: float  # 0..1: mean aligned token score over the shorter name, times the coverage
    exact_tokens: int  # equal after canonicalisation
    phonetic_tokens: int  # equal only by name_code
    fuzzy_tokens: int  # matched by Jaro-Winkler or as an initial
    initial_tokens: int  # of those, matched as an initial ("S." for "Santoso")
    unmatched: int  # tokens of the longer name left without a partner
    same_order: bool  # aligned tokens appear in the same order on both sides
    # The token pairs matched by Jaro-Winkler alone: a typo, or two different names.
    fuzzy_pairs: tuple[tuple[str, str], ...] = ()
    # Every aligned token pair other than an initial, as (left token, right token).
    word_pairs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Unit:
    """One token as written, or a dotted degree such as "S.Kom." kept whole until judged."""

    parts: tuple[str, ...]
    key: str
    after_comma: bool

    @property
    def is_degree(self) -> bool:
        return self.key in DEGREES


def _units(full_name: str) -> list[_Unit]:
    text = full_name.casefold().translate(_APOSTROPHES)
    if not text.isascii():  # most names are; decomposing every one would triple the cost
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    units: list[_Unit] = []
    for index, segment in enumerate(text.split(",")):
        for word in segment.split():
            parts = tuple(_LETTERS.findall(word))
            key = "".join(parts)
            if len(parts) > 1 and key not in DEGREES:
                # "M.Rizky", "Abd.Rahman", "H.M." are several tokens written without spaces.
                units.extend(_Unit((part,), part, index > 0) for part in parts)
            elif parts:
                units.append(_Unit(parts, key, index > 0))
    return units


def _strip_honorifics(units: list[_Unit]) -> list[_Unit]:
    # Titles lead a name ("Bapak H. Ir. Budi"); a later "H" is an initial (Budi H. Santoso).
    start = 0
    while start < len(units) and not units[start].after_comma and units[start].key in TITLES:
        start += 1
    kept = [
        unit
        for position, unit in enumerate(units[start:])
        if not (unit.after_comma and (unit.is_degree or unit.key in TITLES))
        # A dotted "S.E." is never a given name, but a leading one is read as initials.
        and not (position > 0 and unit.is_degree and len(unit.parts) > 1)
    ]
    # A bare "SE" or "MT" is a degree only at the end of a longer name: "Se" can be a given name.
    while len(kept) > 2 and kept[-1].is_degree:
        kept.pop()
    return kept


def _canonical(token: str) -> str:
    respelled = _OLD_SPELLING.sub(lambda found: _NEW_SPELLING[found.group()], token)
    return FAMILIES.get(respelled, respelled)


def name_tokens(full_name: str) -> tuple[str, ...]:
    """Canonical tokens of a name, in written order; empty when nothing but titles is left."""
    tokens = [
        _canonical(part) for unit in _strip_honorifics(_units(full_name)) for part in unit.parts
    ]
    # "M. Rizky" is Muhammad Rizky, but "Rizky M." keeps an unknown initial.
    if len(tokens) > 1 and tokens[0] == "m":
        tokens[0] = "muhammad"
    return tuple(tokens)


@lru_cache(maxsize=1 << 17)
def name_code(token: str) -> str:
    """A phonetic code of one canonical token, equal for spelling variants tokens keep apart."""
    code = token
    for pattern, replacement in _CODE_STEPS:
        code = pattern.sub(replacement, code)
    return code


def token_codes(full_name: str) -> tuple[str, ...]:
    """The name_code of each canonical token (for blocking keys)."""
    return tuple(name_code(token) for token in name_tokens(full_name))


def _pair(left: str, right: str) -> tuple[float, int] | None:
    """The score and kind of agreement of two tokens, or None when they do not agree."""
    if len(left) == 1 or len(right) == 1:
        # An initial only says the other token could fit, so it is never exact.
        initial, other = (left, right) if len(left) == 1 else (right, left)
        return (INITIAL, _INITIAL) if other.startswith(initial) else None
    if left == right:
        return EXACT, _EXACT
    if name_code(left) == name_code(right):
        return PHONETIC, _PHONETIC
    similarity = JaroWinkler.similarity(left, right)
    return (similarity, _FUZZY) if similarity >= FUZZY_FLOOR else None


def name_similarity(left: Sequence[str], right: Sequence[str]) -> NameAgreement:
    """How well two token sequences from name_tokens agree, whatever their order."""
    shorter, longer = sorted((len(left), len(right)))
    if not shorter:
        return NameAgreement(0.0, 0, 0, 0, 0, longer, True)
    candidates = [
        (*pair, i, j)
        for i, left_token in enumerate(left)
        for j, right_token in enumerate(right)
        if (pair := _pair(left_token, right_token))
    ]
    # Best first; on ties prefer tokens at the same relative place, so a repeated token does not
    # make names written in the same order look swapped.
    candidates.sort(key=lambda c: (-c[0], abs(c[2] / len(left) - c[3] / len(right))))
    used_left: set[int] = set()
    used_right: set[int] = set()
    aligned: list[tuple[int, int]] = []
    counts = [0, 0, 0, 0]
    total = 0.0
    fuzzy: list[tuple[str, str]] = []
    words: list[tuple[str, str]] = []
    for score, kind, i, j in candidates:
        if i not in used_left and j not in used_right:
            used_left.add(i)
            used_right.add(j)
            aligned.append((i, j))
            counts[kind] += 1
            total += score
            if kind != _INITIAL:
                words.append((left[i], right[j]))
            if kind == _FUZZY:
                fuzzy.append((left[i], right[j]))
    right_order = [j for _, j in sorted(aligned)]
    coverage = (shorter / longer) ** COVERAGE_EXPONENT
    return NameAgreement(
        score=total / shorter * coverage,
        exact_tokens=counts[_EXACT],
        phonetic_tokens=counts[_PHONETIC],
        fuzzy_tokens=counts[_FUZZY] + counts[_INITIAL],
        initial_tokens=counts[_INITIAL],
        unmatched=longer - len(aligned),
        same_order=right_order == sorted(right_order),
        fuzzy_pairs=tuple(fuzzy),
        word_pairs=tuple(words),
    )


def joined_forms(tokens: Sequence[str]) -> list[tuple[tuple[str, ...], str]]:
    """The name with two neighbouring words written as one, for each such pair, with the word
    they make: "Nur Hayati" is also "Nurhayati", "Mc Gilchrist" "McGilchrist". Initials are
    never joined."""
    forms: list[tuple[tuple[str, ...], str]] = []
    for index in range(len(tokens) - 1):
        first, second = tokens[index], tokens[index + 1]
        if len(first) > 1 and len(second) > 1:
            # Canonical again: old spelling can span the join ("mcgilc" + "hrist").
            word = _canonical(first + second)
            forms.append(((*tokens[:index], word, *tokens[index + 2 :]), word))
    return forms


# Faker's locales whose name lists count as known names.
LEXICON_LOCALES = ("id_ID", "en_US", "en_GB", "en_IE", "en_NZ")
_NAME_LISTS = (
    "first_names",
    "first_names_male",
    "first_names_female",
    "last_names",
    "last_names_male",
    "last_names_female",
)


@cache
def known_names() -> frozenset[str]:
    """Words that are people's names (Faker's lists for Indonesia and English-speaking
    countries), as canonical tokens: a small shop's customers alone cannot tell a name a
    letter away from another (Rina, Rini) from a typo."""
    words: set[str] = set()
    for locale in LEXICON_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in _NAME_LISTS:
            for name in getattr(provider, attribute, ()):
                words.update(name_tokens(name))
    return frozenset(words)
