"""The duplicate review queue: possible duplicates waiting for a person's decision."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.identity.merging import MergeError, merge_customers
from kenal.identity.models import CandidatePair, Merge

__all__ = ["decide_distinct", "merge_pair", "on_both_sides", "pending_pairs"]


def pending_pairs() -> QuerySet[CandidatePair]:
    """Pairs waiting for review, likeliest first; pairs with a merged side are left out."""
    return (
        CandidatePair.objects.filter(
            status=CandidatePair.Status.PENDING,
            left__merged_into=None,
            right__merged_into=None,
        )
        .select_related("left", "right")
        .order_by("-score", "id")
    )


def on_both_sides(*relations: str) -> list[str]:
    """The lookups of ``relations`` (emails, phones, …) of both customers of a pair."""
    return [f"{side}__{relation}" for side in ("left", "right") for relation in relations]


def decide_distinct(pair: CandidatePair, actor: User | None) -> None:
    """Not the same person: remembered, so the pair is never proposed again."""
    _still_pending(pair)
    pair.decide(CandidatePair.Status.DISTINCT, actor)


def merge_pair(
    pair: CandidatePair, *, actor: User | None, survivor_id: int, chosen: Mapping[str, Any]
) -> Merge:
    """Merge a reviewed pair into the customer chosen to survive, keeping the chosen values."""
    _still_pending(pair)
    if survivor_id not in (pair.left_id, pair.right_id):
        raise MergeError(
            _("The surviving customer #%(id)s is not one of this pair (#%(left)s, #%(right)s).")
            % {"id": survivor_id, "left": pair.left_id, "right": pair.right_id}
        )
    survivor, merged = (
        (pair.left, pair.right) if survivor_id == pair.left_id else (pair.right, pair.left)
    )
    return merge_customers(
        survivor,
        merged,
        actor=actor,
        reason=_("Reviewed possible duplicate"),
        score=pair.score,
        explanation=pair.explanation,
        chosen=chosen,
    )


def _still_pending(pair: CandidatePair) -> None:
    """A decision is taken once: a page left open must not overwrite a later one."""
    if pair.status != CandidatePair.Status.PENDING:
        raise MergeError(
            _("This pair was already decided: %(status)s.") % {"status": pair.get_status_display()}
        )
