"""How common a name word is: a typo is rare, a name is not.

"Rina" and "Rini" are both names, so two people at one address born the same day with those
names are twins; "Joshua" and "Joshus" are one person, for "joshus" is a typo nobody has. A word
is a name when the name lists hold it (:func:`kenal.identity.names.known_names`), or when more
than a couple of customers have it (the name index every customer already has). And a word
very many customers have is *crowded*: a name made of such words does not tell strangers apart.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count

from kenal.customers.models import NameToken

__all__ = ["CROWDED", "RARE", "classify", "common", "forget", "remember"]

# A word more customers than this have is a name in its own right, not a slip of the keys.
RARE = 2
# A name whose every word more customers than this have is shared by strangers born the same
# day, in any database that large: a birth date alone does not tell them apart (of fifty
# namesakes, one shares a given birth date about once in three hundred times).
CROWDED = 50
CHUNK = 5_000

# Only answers that cannot change back are kept: a common (or crowded) word stays so.
_common: set[str] = set()
_crowded: set[str] = set()


def common(tokens: Iterable[str]) -> set[str]:
    """Which of these words more than a few customers have."""
    return classify(tokens)[0]


def classify(tokens: Iterable[str]) -> tuple[set[str], set[str]]:
    """Which of these words are common (held by more than RARE customers) and which are
    crowded (by more than CROWDED): one query for any number of words."""
    tokens = set(tokens)
    remember(_holders(tokens - _crowded))
    return tokens & _common, tokens & _crowded


def _holders(tokens: Iterable[str]) -> list[tuple[str, int]]:
    wanted = sorted(tokens)
    found: list[tuple[str, int]] = []
    for start in range(0, len(wanted), CHUNK):
        rows = (
            NameToken.objects.filter(token__in=wanted[start : start + CHUNK])
            .values("token")
            .annotate(holders=Count("customer_id"))
            .filter(holders__gt=RARE)
            .values_list("token", "holders")
        )
        found.extend(rows)
    return found


def remember(holders: Iterable[tuple[str, int]]) -> None:
    """Words and how many customers hold them, as counted (batch deduplication counts them
    all at once); words held by RARE customers or fewer may be left out."""
    for token, count in holders:
        if count > RARE:
            _common.add(token)
        if count > CROWDED:
            _crowded.add(token)


def forget() -> None:
    """Drop the remembered words (tests start each from an empty database)."""
    _common.clear()
    _crowded.clear()
