"""What several identity test modules share: running a command as at a terminal, and
proposing a pair for review with the reasons matching gives."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command

from kenal.customers.models import Customer
from kenal.identity.models import CandidatePair

# Reasons as matching writes them into a pair's explanation.
NAMES_CLOSE = {
    "field": "name",
    "level": "close",
    "label": "Names agree after spelling normalisation",
    "left": "Budi Santoso",
    "right": "Boedi Santoso",
    "weight": 6.5,
}
SAME_BIRTH_DATE = {
    "field": "birth_date",
    "level": "exact",
    "label": "Same birth date",
    "left": "1990-05-12",
    "right": "1990-05-12",
    "weight": 8.2,
}
DIFFERENT_CITIES = {
    "field": "city",
    "level": "different",
    "label": "Different cities",
    "left": "Bandung",
    "right": "Cimahi",
    "weight": -1.25,
}


def kenal(*args: str) -> str:
    """What ``kenal <args>`` prints, run in-process."""
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def propose(
    left: Customer, right: Customer, score: float, explanation: list[dict[str, Any]]
) -> CandidatePair:
    """The two customers as a pair waiting for review, with ``score`` and ``explanation``."""
    # Matching on write may already have proposed the pair: the test's score and reasons win.
    pair, _ = CandidatePair.objects.update_or_create(
        left=min(left, right, key=lambda customer: customer.pk),
        right=max(left, right, key=lambda customer: customer.pk),
        defaults={"score": score, "explanation": explanation, "status": "pending"},
    )
    return pair
