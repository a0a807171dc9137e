"""How common a name word is: a typo is rare, a name is not.

"Rina" and "Rini" are both names, so two people at one address born the same day with those
names are twins; "Joshua" and "Joshus" are one person, for "joshus" is a typo nobody has. A word
is a name when the name lists hold it (:func:`kenal.identity.names.known_names`), or when more
than a couple of customers have it (the name index every customer already has).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count

from kenal.customers.models import NameToken

__all__ = ["RARE", "common", "forget", "remember_common"]

# A word more customers than this have is a name in its own right, not a slip of the keys.
RARE = 2
CHUNK = 5_000

# Only "common" answers are kept: a common word stays common, a rare one may not.
_common: set[str] = set()


def common(tokens: Iterable[str]) -> set[str]:
    """Which of these words more than a few customers have."""
    tokens = set(tokens)
    _common.update(_held_by_many(tokens - _common))
    return tokens & _common


def _held_by_many(tokens: Iterable[str]) -> set[str]:
    wanted = sorted(tokens)
    common: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        rows = (
            NameToken.objects.filter(token__in=wanted[start : start + CHUNK])
            .values("token")
            .annotate(holders=Count("customer_id"))
            .filter(holders__gt=RARE)
            .values_list("token", flat=True)
        )
        common.update(rows)
    return common


def remember_common(tokens: Iterable[str]) -> None:
    """Words already known to be common (batch deduplication counts them all at once)."""
    _common.update(tokens)


def forget() -> None:
    """Drop the remembered words (tests start each from an empty database)."""
    _common.clear()
