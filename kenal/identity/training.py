"""Learning the matching model's weights from the customers themselves (no labels needed).

As Splink does: u probabilities come from random pairs (almost all of them two different
people), m probabilities and the share of true matches from expectation-maximisation
over the pairs blocking proposes. EM runs over the distinct comparison patterns with
their counts, so it costs the same for a thousand pairs or ten million.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from kenal.identity.comparisons import COMPARISONS, Outcome, compare
from kenal.identity.people import Person
from kenal.identity.rules import conflicts
from kenal.identity.weights import DEFAULT, Scored, Weights

__all__ = ["Pattern", "estimate_u", "expectation_maximisation", "patterns", "train"]

Pattern = tuple[int | None, ...]
# No level is ever given probability 0: an unseen agreement is rare, not impossible.
FLOOR = 1e-7
ITERATIONS = 40


def patterns(people: Mapping[int, Person], pairs: Iterable[tuple[int, int]]) -> Counter[Pattern]:
    return Counter(
        tuple(outcome.level for outcome in compare(people[a], people[b])) for a, b in pairs
    )


def random_pairs(ids: Sequence[int], count: int, seed: int = 0) -> list[tuple[int, int]]:
    chooser = random.Random(seed)  # noqa: S311 - sampling, not security
    if len(ids) < 2:
        return []
    pairs = []
    for _ in range(count):
        a, b = chooser.sample(ids, 2)
        pairs.append((a, b))
    return pairs


def estimate_u(counts: Counter[Pattern], start: Weights) -> dict[str, list[float]]:
    """Level frequencies among random pairs; a level never seen keeps the start value
    (capped by the floor), since agreement among strangers is rare but not impossible."""
    u: dict[str, list[float]] = {}
    for index, comparison in enumerate(COMPARISONS):
        seen = Counter[int]()
        for pattern, count in counts.items():
            level = pattern[index]
            if level is not None:
                seen[level] += count
        total = sum(seen.values())
        levels = len(comparison.levels)
        if total == 0:
            u[comparison.field] = list(start.u[comparison.field])
            continue
        values = [
            seen[level] / total
            if seen[level]
            else min(start.u[comparison.field][level], 0.5 / total)
            for level in range(levels)
        ]
        u[comparison.field] = _normalised(values)
    return u


def expectation_maximisation(
    counts: Counter[Pattern], start: Weights, u: Mapping[str, Sequence[float]]
) -> tuple[dict[str, list[float]], float]:
    """m per level and the share of matches among the counted pairs, u held fixed."""
    m = {field: list(values) for field, values in start.m.items()}
    share = 0.1
    items = list(counts.items())
    total = sum(counts.values())
    for _ in range(ITERATIONS):
        sums = {c.field: [0.0] * len(c.levels) for c in COMPARISONS}
        matched = 0.0
        for pattern, count in items:
            log_m = math.log(share)
            log_u = math.log(1 - share)
            for index, level in enumerate(pattern):
                if level is not None:
                    field = COMPARISONS[index].field
                    log_m += math.log(m[field][level])
                    log_u += math.log(u[field][level])
            posterior = 1 / (1 + math.exp(min(700.0, log_u - log_m)))
            weight = posterior * count
            matched += weight
            for index, level in enumerate(pattern):
                if level is not None:
                    sums[COMPARISONS[index].field][level] += weight
        share = min(max(matched / total, FLOOR), 1 - FLOOR)
        for field, values in sums.items():
            if sum(values) > 0:
                m[field] = _normalised(values)
    return m, share


def _conflicting(pattern: Pattern) -> bool:
    outcomes = tuple(Outcome(level, "", "") for level in pattern)
    return conflicts(Scored(0.0, 0.0, outcomes, DEFAULT))


def _normalised(values: Sequence[float]) -> list[float]:
    floored = [max(value, FLOOR) for value in values]
    total = sum(floored)
    return [value / total for value in floored]


def train(
    people: Mapping[int, Person],
    blocked: Sequence[tuple[int, int]],
    start: Weights,
    *,
    random_count: int = 50_000,
    seed: int = 0,
) -> Weights:
    """New weights learnt from these customers and the pairs blocking proposed for them."""
    ids = sorted(people)
    possible = len(ids) * (len(ids) - 1) // 2
    u = estimate_u(patterns(people, random_pairs(ids, min(random_count, possible), seed)), start)
    # Pairs the household rules tell apart (a parent and a child) are left out: EM would
    # otherwise learn that true matches often differ in name or birth date.
    counts = patterns(people, blocked)
    kept = Counter({pattern: n for pattern, n in counts.items() if not _conflicting(pattern)})
    if not kept:
        return replace(start, u=u)
    m, share = expectation_maximisation(kept, start, u)
    prior = min(max(share * kept.total() / possible, FLOOR), 0.5)
    return replace(start, prior=prior, m=m, u=u)
