"""Batch deduplication of the whole database (``kenal dedupe``).

The same blocking keys, comparisons, weights and rules as matching one record, applied to
every pair of customers that share a key. An engine finds and scores the pairs: this process
by default, Spark for a database one machine cannot score in time
(:mod:`kenal.identity.distributed`). What follows does not depend on the engine: pairs above
the merge bar are clustered and merged into each cluster's oldest customer; pairs in between
go to the review queue. Pairs a person once judged "not the same person" are never merged nor
proposed again.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from django.db.models import Count
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.customers.models import Customer, NameToken
from kenal.identity import frequency, training, weights
from kenal.identity import keys as blocking
from kenal.identity.comparisons import compare
from kenal.identity.merging import merge_customers
from kenal.identity.models import CandidatePair, Merge
from kenal.identity.people import Person, load_people
from kenal.identity.rules import Verdict, conflicts, shared_contacts, verdict
from kenal.identity.services import Match, Resolution, record_outcomes
from kenal.identity.weights import Scored, Weights

__all__ = ["DedupeReport", "Engine", "InProcess", "Proposal", "blocked_pairs", "dedupe", "propose"]


@dataclass(frozen=True)
class Proposal:
    verdict: Verdict
    left: int
    right: int
    scored: Scored


@dataclass
class DedupeReport:
    customers: int = 0
    pairs_compared: int = 0
    merges: list[Proposal] = field(default_factory=list)
    reviews: list[Proposal] = field(default_factory=list)
    households: int = 0
    trained: bool = False
    seconds: dict[str, float] = field(default_factory=dict)


class Engine(Protocol):
    """Where the pairs sharing a blocking key are found and scored."""

    def block(self, people: Mapping[int, Person]) -> int:
        """Find the pairs of these customers that share a blocking key; how many there are."""
        ...

    def pairs(self) -> Sequence[tuple[int, int]]:
        """Every pair found, in order (training learns from them)."""
        ...

    def proposals(self, model: Weights) -> Iterable[Proposal]:
        """What :func:`propose` makes of each pair found, where it makes something."""
        ...


class InProcess:
    """Blocking and scoring in this process: the default engine."""

    def __init__(self) -> None:
        self._people: Mapping[int, Person] = {}
        self._pairs: list[tuple[int, int]] = []

    def block(self, people: Mapping[int, Person]) -> int:
        self._people = people
        self._pairs = blocked_pairs(people)
        return len(self._pairs)

    def pairs(self) -> Sequence[tuple[int, int]]:
        return self._pairs

    def proposals(self, model: Weights) -> Iterable[Proposal]:
        people, pairs = self._people, self._pairs
        if len(pairs) < PARALLEL_FROM or threading.active_count() > 1 or os.cpu_count() == 1:
            yield from _proposals(people, pairs, model)
            return
        # Scoring is pure Python: one forked process per core, each on a share of the pairs,
        # sharing the persons copy-on-write. Only from a single-threaded process (the CLI):
        # a lock another thread holds at the fork would stay locked in the child for ever.
        global _SHARED  # handed to the forked workers, not pickled for each
        _SHARED = (people, model)
        workers = os.cpu_count() or 1
        shares = [pairs[index::workers] for index in range(workers)]
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for found in pool.map(_kept_pairs, shares):
                    # The few pairs kept are scored again here, for their explanations.
                    yield from _proposals(people, found, model)
        finally:
            _SHARED = None


# The persons and the model, for the forked scoring workers (set only while they run).
_SHARED: tuple[Mapping[int, Person], Weights] | None = None
# Fewer pairs than this are scored in this process: forking costs more than it saves.
PARALLEL_FROM = 50_000


def _kept_pairs(pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    assert _SHARED is not None
    people, model = _SHARED
    return [(pair.left, pair.right) for pair in _proposals(people, pairs, model)]


def _proposals(
    people: Mapping[int, Person], pairs: Iterable[tuple[int, int]], model: Weights
) -> Iterator[Proposal]:
    for left, right in pairs:
        if found := propose(left, right, people[left], people[right], model):
            yield found


def propose(left: int, right: int, a: Person, b: Person, model: Weights) -> Proposal | None:
    """What one pair leads to: a merge, a review, a household (a new-customer verdict with
    contact details the two share, kept as a relationship), or nothing (None)."""
    scored = model.score(compare(a, b))
    found = verdict(scored, model)
    if found is Verdict.NEW and not (conflicts(scored) and shared_contacts(a, b)):
        return None
    return Proposal(found, left, right, scored)


def dedupe(
    *,
    dry_run: bool = False,
    train: bool = False,
    merge_above: float | None = None,
    review_above: float | None = None,
    actor: User | None = None,
    report: Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
    engine: Engine | None = None,
) -> DedupeReport:
    engine = engine or InProcess()
    result = DedupeReport()
    clock = _Clock(result)
    ids = list(
        Customer.objects.filter(merged_into=None).order_by("id").values_list("id", flat=True)
    )
    frequency.remember(_common_name_words())
    people = load_people(ids)
    result.customers = len(people)
    clock.lap("load")
    progress(_("%(count)s customers loaded") % {"count": len(people)})
    result.pairs_compared = engine.block(people)
    clock.lap("block")
    model = weights.active()
    if merge_above is not None or review_above is not None:
        model = weights.with_thresholds(model, merge=merge_above, review=review_above)
        if not dry_run:
            weights.save(model, note=_("Thresholds set by kenal dedupe"), actor=actor)
    if train and result.pairs_compared:
        model = training.train(people, engine.pairs(), model)
        result.trained = True
        if not dry_run:
            weights.save(
                model,
                trained_on=result.pairs_compared,
                note=_("Trained by kenal dedupe"),
                actor=actor,
            )
        clock.lap("train")
    distinct = _judged_distinct()
    undone = _undone_merges()
    households: list[tuple[int, Resolution]] = []
    for proposal in engine.proposals(model):
        if (proposal.left, proposal.right) in distinct:
            continue
        if proposal.verdict is Verdict.MERGE and (proposal.left, proposal.right) in undone:
            # Someone undid this merge: only a person merges the two again.
            proposal = replace(proposal, verdict=Verdict.REVIEW)
        if proposal.verdict is Verdict.MERGE:
            result.merges.append(proposal)
        elif proposal.verdict is Verdict.REVIEW:
            result.reviews.append(proposal)
        else:
            shared = shared_contacts(people[proposal.left], people[proposal.right])
            related = tuple((proposal.right, kind, value) for kind, value in shared)
            households.append((proposal.left, Resolution(None, (), related)))
    result.households = len(households)
    clock.lap("score")
    clusters, refused = _clusters(result.merges, people, model)
    # A link the clusters refused (it would join people who differ) is for a person to judge.
    result.merges = [proposal for proposals in clusters.values() for proposal in proposals]
    result.reviews += [replace(proposal, verdict=Verdict.REVIEW) for proposal in refused]
    progress(
        _("%(pairs)s pairs compared: %(merges)s to merge, %(reviews)s to review")
        % {
            "pairs": result.pairs_compared,
            "merges": len(result.merges),
            "reviews": len(result.reviews),
        }
    )
    if report is not None:
        _write_report(report, result, people)
    if not dry_run:
        _apply(clusters, result, households, actor)
        clock.lap("merge")
    return result


def blocked_pairs(people: Mapping[int, Person]) -> list[tuple[int, int]]:
    """Every pair of customers sharing a blocking key (over-common keys skipped), once."""
    blocks: dict[str, list[int]] = {}
    for pk, person in people.items():
        for key in blocking.blocking_keys(person):
            blocks.setdefault(key, []).append(pk)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if 1 < len(members) <= blocking.MAX_BLOCK:
            members.sort()
            for index, left in enumerate(members):
                pairs.update((left, right) for right in members[index + 1 :])
    return sorted(pairs)


def _common_name_words() -> Iterable[tuple[str, int]]:
    """Every name word more than a few customers have, with how many have it, in one query
    instead of one per word."""
    rows = (
        NameToken.objects.values("token")
        .annotate(holders=Count("customer_id"))
        .filter(holders__gt=frequency.RARE)
    )
    return rows.values_list("token", "holders").iterator(chunk_size=10_000)


def _judged_distinct() -> set[tuple[int, int]]:
    rows = CandidatePair.objects.filter(status=CandidatePair.Status.DISTINCT)
    return set(rows.values_list("left_id", "right_id"))


def _undone_merges() -> set[tuple[int, int]]:
    rows = Merge.objects.exclude(undone_at=None).values_list("survivor_id", "merged_id")
    return {(min(pair), max(pair)) for pair in rows}


def _clusters(
    merges: list[Proposal], people: Mapping[int, Person], model: Weights
) -> tuple[dict[int, list[Proposal]], list[Proposal]]:
    """Group merge proposals into clusters, strongest first, each led by its oldest customer.

    Two clusters join only if no member of one clearly differs from a member of the other:
    A like B and B like C must not merge A with a different person C.
    """
    leader: dict[int, int] = {}
    members: dict[int, list[int]] = {}

    def find(pk: int) -> int:
        while leader.get(pk, pk) != pk:
            pk = leader[pk]
        return pk

    joined: dict[int, list[Proposal]] = {}
    refused: list[Proposal] = []
    for proposal in sorted(merges, key=lambda item: -item.scored.weight):
        a, b = find(proposal.left), find(proposal.right)
        if a == b:
            continue
        group_a, group_b = members.get(a, [a]), members.get(b, [b])
        if any(
            conflicts(model.score(compare(people[x], people[y]))) for x in group_a for y in group_b
        ):
            refused.append(proposal)
            continue
        head, tail = (a, b) if a < b else (b, a)
        leader[tail] = head
        members[head] = sorted(group_a + group_b)
        members.pop(tail, None)
        joined.setdefault(head, []).extend([*joined.pop(tail, []), proposal])
    return joined, refused


def _apply(
    clusters: Mapping[int, list[Proposal]],
    result: DedupeReport,
    households: Iterable[tuple[int, Resolution]],
    actor: User | None,
) -> None:
    survivors = Customer.objects.in_bulk(list(clusters))
    for head, proposals in clusters.items():
        strongest = {
            pk: proposal
            for proposal in sorted(proposals, key=lambda item: item.scored.weight)
            for pk in (proposal.left, proposal.right)
            if pk != head
        }
        others = Customer.objects.in_bulk(list(strongest))
        for pk, proposal in sorted(strongest.items()):
            merge_customers(
                survivors[head],
                others[pk],
                actor=actor,
                reason=_("kenal dedupe"),
                score=proposal.scored.probability,
                explanation=proposal.scored.explanation,
            )
    merged = {pk for proposals in clusters.values() for p in proposals for pk in (p.left, p.right)}
    record_outcomes(
        (
            proposal.left,
            Resolution(
                None,
                (
                    Match(
                        proposal.right,
                        "probabilistic",
                        "",
                        proposal.scored.probability,
                        proposal.scored.explanation,
                    ),
                ),
            ),
        )
        for proposal in result.reviews
        if not (proposal.left in merged and proposal.right in merged)
    )
    record_outcomes(households)


def _write_report(path: Path, result: DedupeReport, people: Mapping[int, Person]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["action", "left_id", "right_id", "probability", "left", "right", "why"])
        for proposal in [*result.merges, *result.reviews]:
            why = "; ".join(
                f"{item['field']} {item['level']} ({item['weight']:+.1f})"
                for item in proposal.scored.explanation
            )
            writer.writerow(
                [
                    proposal.verdict.value,
                    proposal.left,
                    proposal.right,
                    f"{proposal.scored.probability:.6f}",
                    " ".join(people[proposal.left].names),
                    " ".join(people[proposal.right].names),
                    why,
                ]
            )


class _Clock:
    def __init__(self, result: DedupeReport) -> None:
        self.result = result
        self.started = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.result.seconds[name] = round(now - self.started, 2)
        self.started = now
