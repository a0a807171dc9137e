"""The matching model: Fellegi-Sunter weights per comparison level, thresholds, decisions.

Each comparison level has an m probability (how often true matches land on it) and a u
probability (how often two random people do). A pair's match weight is the prior log-odds
plus ``log2(m / u)`` of each level it lands on; its probability follows from the weight.
Weights are learnt from the data (:mod:`kenal.identity.training`); until then the
defaults below, set from how often values agree in customer data, are used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from kenal.identity.comparisons import COMPARISONS, Outcome
from kenal.identity.models import MatchModel

__all__ = [
    "DEFAULT",
    "Scored",
    "Weights",
    "active",
    "save",
    "with_thresholds",
]

# m (true matches) and u (random pairs) per level, strongest agreement first.
_DEFAULT_M: dict[str, tuple[float, ...]] = {
    "name": (0.70, 0.10, 0.09, 0.05, 0.03, 0.03),
    "birth_date": (0.88, 0.02, 0.06, 0.04),
    "email": (0.60, 0.15, 0.25),
    "phone": (0.65, 0.05, 0.30),
    "street": (0.65, 0.20, 0.15),
    "city": (0.85, 0.05, 0.10),
    "postcode": (0.80, 0.08, 0.12),
    "identifier": (0.85, 0.08, 0.07),
    "gender": (0.97, 0.03),
}
_DEFAULT_U: dict[str, tuple[float, ...]] = {
    "name": (1e-4, 2e-4, 5e-4, 3e-3, 2e-2, 0.9762),
    "birth_date": (6e-5, 3e-6, 2e-3, 0.997937),
    "email": (1e-7, 1e-5, 0.9999899),
    "phone": (1e-7, 1e-6, 0.9999989),
    "street": (1e-4, 1e-3, 0.9989),
    "city": (0.05, 0.005, 0.945),
    "postcode": (2e-3, 2e-2, 0.978),
    "identifier": (1e-7, 1e-5, 0.9999899),
    "gender": (0.5, 0.5),
}


@dataclass(frozen=True)
class Scored:
    """A pair's probability of being one person, and why."""

    probability: float
    weight: float
    outcomes: tuple[Outcome, ...]
    weights: Weights

    @cached_property
    def explanation(self) -> tuple[dict[str, Any], ...]:
        """Each field that counted, strongest evidence first (built only when asked for:
        batch deduplication scores millions of pairs and explains a few)."""
        items: list[dict[str, Any]] = []
        for index, (comparison, outcome) in enumerate(zip(COMPARISONS, self.outcomes, strict=True)):
            if outcome.level is None:
                continue
            items.append(
                {
                    "field": comparison.field,
                    "level": comparison.levels[outcome.level],
                    "label": str(comparison.labels[outcome.level]),
                    "left": outcome.left,
                    "right": outcome.right,
                    "weight": round(self.weights.table[index][outcome.level], 2),
                }
            )
        items.sort(key=lambda item: -abs(item["weight"]))
        return tuple(items)


@dataclass(frozen=True)
class Weights:
    prior: float  # probability that two random customers are one person
    m: Mapping[str, Sequence[float]]
    u: Mapping[str, Sequence[float]]
    merge_threshold: float = 0.99
    review_threshold: float = 0.80

    @cached_property
    def table(self) -> tuple[tuple[float, ...], ...]:
        """log2(m / u) per comparison and level, in COMPARISONS order."""
        return tuple(
            tuple(
                math.log2(m / u)
                for m, u in zip(self.m[comparison.field], self.u[comparison.field], strict=True)
            )
            for comparison in COMPARISONS
        )

    @cached_property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def score(self, outcomes: tuple[Outcome, ...]) -> Scored:
        weight = self.prior_weight
        table = self.table
        for index, outcome in enumerate(outcomes):
            if outcome.level is not None:
                weight += table[index][outcome.level]
        return Scored(_probability(weight), weight, outcomes, self)

    def as_parameters(self) -> dict[str, Any]:
        return {
            "prior": self.prior,
            "m": {field: list(values) for field, values in self.m.items()},
            "u": {field: list(values) for field, values in self.u.items()},
        }


def _probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    odds = math.pow(2.0, weight)
    return odds / (1 + odds)


DEFAULT = Weights(prior=1e-5, m=_DEFAULT_M, u=_DEFAULT_U)


def active() -> Weights:
    """The latest saved model, else the defaults."""
    latest = MatchModel.objects.order_by("-created_at", "-id").first()
    if latest is None:
        return DEFAULT
    parameters = latest.parameters
    return Weights(
        prior=float(parameters["prior"]),
        m={**_DEFAULT_M, **parameters["m"]},
        u={**_DEFAULT_U, **parameters["u"]},
        merge_threshold=latest.merge_threshold,
        review_threshold=latest.review_threshold,
    )


def with_thresholds(weights: Weights, *, merge: float | None, review: float | None) -> Weights:
    """The same weights with other thresholds (None keeps one); refused unless
    0 < review <= merge < 1."""
    changed = replace(
        weights,
        merge_threshold=weights.merge_threshold if merge is None else merge,
        review_threshold=weights.review_threshold if review is None else review,
    )
    _check(changed)
    return changed


def _check(weights: Weights) -> None:
    if not 0 < weights.review_threshold <= weights.merge_threshold < 1:
        raise ValueError(
            f"thresholds: review {weights.review_threshold} and merge "
            f"{weights.merge_threshold} must satisfy 0 < review <= merge < 1"
        )


def save(weights: Weights, *, trained_on: int = 0, note: str = "", actor: Any = None) -> MatchModel:
    _check(weights)
    return MatchModel.objects.create(
        parameters=weights.as_parameters(),
        merge_threshold=weights.merge_threshold,
        review_threshold=weights.review_threshold,
        trained_on=trained_on,
        note=note,
        created_by=actor,
    )
