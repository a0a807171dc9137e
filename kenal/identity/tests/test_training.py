"""Learning the matching model from the data (EM), and saving and loading it."""

from __future__ import annotations

import datetime
import math
import random
from collections import Counter
from dataclasses import dataclass, replace
from itertools import combinations

import pytest

from kenal.identity import keys, training, weights
from kenal.identity.comparisons import COMPARISONS, compare
from kenal.identity.models import MatchModel
from kenal.identity.people import Person
from kenal.identity.rules import Verdict, verdict
from kenal.identity.weights import DEFAULT, Weights

# fmt: off
GIVEN = [
    "Agus", "Andi", "Bayu", "Citra", "Dedi", "Dewi", "Eka", "Fajar", "Gita", "Hendra", "Indah",
    "Joko", "Kartika", "Lestari", "Made", "Nanda", "Oki", "Putri", "Rudi", "Sari", "Taufik",
    "Udin", "Vina", "Wahyu", "Yanti", "Zainal",
]
FAMILY = [
    "Santoso", "Wijaya", "Pratama", "Saputra", "Hidayat", "Kusuma", "Nugroho", "Siregar",
    "Simanjuntak", "Halim", "Gunawan", "Setiawan", "Harahap", "Wibowo", "Susanto",
]
CITIES = [("Bandung", "401"), ("Surabaya", "601"), ("Medan", "201"), ("Makassar", "901")]
# The spellings one person's name is written in by different channels.
VARIANTS = {
    "Joko": "Djoko", "Dedi": "Dedy", "Yanti": "Janti", "Udin": "Oedin", "Wahyu": "Wahju",
    "Santoso": "Santosa", "Susanto": "Soesanto", "Hidayat": "Hidajat", "Saputra": "Saputera",
}
# fmt: on


@dataclass(frozen=True)
class Record:
    """The values of one synthetic customer, as they are stored."""

    full_name: str
    birth_date: datetime.date
    gender: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    place: tuple[str, str, str]  # street, city, postcode

    def person(self) -> Person:
        return Person.of(
            full_name=self.full_name,
            birth_date=self.birth_date,
            gender=self.gender,
            emails=self.emails,
            phones=self.phones,
            places=[self.place],
        )


@dataclass(frozen=True)
class Synthetic:
    people: dict[int, Person]
    duplicates: set[tuple[int, int]]  # (original, later record of the same person)
    traps: set[tuple[int, int]]  # (original, a namesake or a relative): never one person
    blocked: list[tuple[int, int]]


def synthetic(
    count: int = 300, duplicated: int = 90, traps_each: int = 30, seed: int = 7
) -> Synthetic:
    """People with distinct names and birth dates; later records of some of them with the
    usual differences (old spellings, a swapped or mistyped date, another phone or email);
    and the traps: namesakes born in other years elsewhere, relatives on the same phone."""
    rng = random.Random(seed)

    def phone(prefix: str) -> str:
        return f"+62{prefix}{rng.randint(10_000_000, 99_999_999)}"

    def postcode(city: str) -> str:
        return f"{dict(CITIES)[city]}{rng.randint(10, 99)}"

    originals: dict[int, Record] = {}
    for pk, name in enumerate(rng.sample([f"{g} {f}" for g in GIVEN for f in FAMILY], count), 1):
        city = rng.choice(CITIES)[0]
        originals[pk] = Record(
            full_name=name,
            birth_date=datetime.date(
                rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
            ),
            gender=rng.choice(["male", "female"]),
            emails=(f"{name.lower().replace(' ', '.')}{rng.randint(1, 99)}@contoh.id",),
            phones=(phone("812"),),
            place=(f"Jl. {rng.choice(FAMILY)} {rng.randint(1, 99)}", city, postcode(city)),
        )
    records = dict(originals)
    duplicates: set[tuple[int, int]] = set()
    traps: set[tuple[int, int]] = set()
    for offset, original in enumerate(rng.sample(sorted(originals), duplicated)):
        first = originals[original]
        born = first.birth_date
        if offset % 5 == 0 and born.day <= 12:
            born = born.replace(month=born.day, day=born.month)
        elif offset % 5 == 1:
            born = born.replace(day=born.day % 28 + 1)
        later = replace(
            first,
            full_name=" ".join(VARIANTS.get(part, part) for part in first.full_name.split()),
            birth_date=born,
            phones=(phone("813"),) if offset % 3 == 0 else first.phones,
            emails=() if offset % 2 == 0 else first.emails,
        )
        records[len(records) + 1] = later
        duplicates.add((original, len(records)))
    for offset, original in enumerate(rng.sample(sorted(originals), traps_each * 2)):
        first = originals[original]
        given, family = first.full_name.split()
        born = first.birth_date.replace(year=first.birth_date.year - rng.randint(2, 30))
        if offset < traps_each:  # a namesake elsewhere
            city = rng.choice([name for name, _prefix in CITIES if name != first.place[1]])
            trap = replace(
                first,
                birth_date=born,
                emails=(),
                phones=(phone("857"),),
                place=("", city, postcode(city)),
            )
        else:  # a parent, child or sibling on the same phone at the same address
            relative = rng.choice([name for name in GIVEN if name != given])
            trap = replace(first, full_name=f"{relative} {family}", birth_date=born, emails=())
        records[len(records) + 1] = trap
        traps.add((original, len(records)))
    people = {pk: record.person() for pk, record in records.items()}
    return Synthetic(people, duplicates, traps, blocked_pairs(people))


def blocked_pairs(people: dict[int, Person]) -> list[tuple[int, int]]:
    """Every pair sharing a blocking key, as the batch dedupe finds them."""
    blocks: dict[str, list[int]] = {}
    for pk, person in people.items():
        for key in keys.blocking_keys(person):
            blocks.setdefault(key, []).append(pk)
    return sorted(
        {pair for members in blocks.values() for pair in combinations(sorted(members), 2)}
    )


@pytest.fixture(scope="module")
def data() -> Synthetic:
    return synthetic()


@pytest.fixture(scope="module")
def learnt(data: Synthetic) -> Weights:
    return training.train(data.people, data.blocked, DEFAULT, random_count=20_000)


def test_blocking_finds_the_known_duplicates(data: Synthetic) -> None:
    assert data.duplicates <= set(data.blocked)
    assert len(set(data.blocked) - data.duplicates) > len(data.duplicates) / 2
    assert len(data.blocked) < len(data.people) ** 2 / 20  # far fewer than every pair


def test_training_learns_that_agreeing_names_mean_a_match(learnt: Weights) -> None:
    exact = 0
    assert learnt.m["name"][exact] > learnt.u["name"][exact]
    assert learnt.m["name"][exact] / learnt.u["name"][exact] > 100
    assert learnt.m["birth_date"][exact] > learnt.u["birth_date"][exact]
    # Different names and birth dates still count against a match.
    assert learnt.m["name"][-1] < learnt.u["name"][-1]
    assert learnt.m["birth_date"][-1] < learnt.u["birth_date"][-1]


def test_training_learns_a_small_prior(data: Synthetic, learnt: Weights) -> None:
    assert 0 < learnt.prior < 0.5
    every_pair = len(data.people) * (len(data.people) - 1) / 2
    # At least about as many matches as there are known duplicates, among all pairs.
    assert learnt.prior > 0.5 * len(data.duplicates) / every_pair


def test_learnt_probabilities_are_distributions(learnt: Weights) -> None:
    for comparison in COMPARISONS:
        for table in (learnt.m, learnt.u):
            values = table[comparison.field]
            assert len(values) == len(comparison.levels)
            assert all(value > 0 for value in values)
            assert math.fsum(values) == pytest.approx(1)


def test_learnt_weights_find_the_duplicates_and_merge_no_strangers(
    data: Synthetic, learnt: Weights
) -> None:
    decided: dict[tuple[int, int], Verdict] = {
        (left, right): verdict(learnt.score(compare(data.people[left], data.people[right])), learnt)
        for left, right in data.blocked
    }
    assert data.traps <= set(decided)  # the traps are compared, and refused:
    assert [pair for pair in data.traps if decided[pair] is Verdict.MERGE] == []
    merged = [pair for pair, found in decided.items() if found is Verdict.MERGE]
    assert set(merged) <= data.duplicates
    assert len(merged) >= 0.9 * len(data.duplicates)


def test_estimate_u_keeps_unseen_levels_rare_but_possible() -> None:
    strangers = Person.of(full_name="Agus Santoso", birth_date=datetime.date(1980, 1, 1))
    other = Person.of(full_name="Rina Halim", birth_date=datetime.date(1991, 7, 7))
    pattern = tuple(outcome.level for outcome in compare(strangers, other))
    counts: Counter[training.Pattern] = Counter({pattern: 1_000})

    u = training.estimate_u(counts, DEFAULT)

    assert u["name"][-1] == pytest.approx(1, abs=0.01)  # every pair's names differ
    assert 0 < u["name"][0] <= 0.5 / 1_000  # never seen: rare, not impossible
    assert u["email"] == list(DEFAULT.u["email"])  # never compared: the starting values


def test_expectation_maximisation_finds_the_share_of_matches() -> None:
    agree = tuple(0 for _ in COMPARISONS)
    differ = tuple(len(comparison.levels) - 1 for comparison in COMPARISONS)
    counts: Counter[training.Pattern] = Counter({agree: 100, differ: 900})
    u = {c.field: list(DEFAULT.u[c.field]) for c in COMPARISONS}

    m, share = training.expectation_maximisation(counts, DEFAULT, u)

    assert share == pytest.approx(0.1, abs=0.01)
    assert m["name"][0] == pytest.approx(1, abs=0.01)


# --- saving and loading -------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_saved_model_the_defaults_are_used() -> None:
    assert weights.active() == DEFAULT


@pytest.mark.django_db
def test_saved_weights_are_the_active_ones(learnt: Weights) -> None:
    chosen = replace(learnt, merge_threshold=0.995, review_threshold=0.7)
    weights.save(replace(DEFAULT, merge_threshold=0.98), note="older")

    model = weights.save(chosen, trained_on=1234, note="Trained by a test")

    active = weights.active()
    assert active.prior == pytest.approx(chosen.prior)
    assert dict(active.m) == {field: list(values) for field, values in chosen.m.items()}
    assert dict(active.u) == {field: list(values) for field, values in chosen.u.items()}
    assert (active.merge_threshold, active.review_threshold) == (0.995, 0.7)
    assert (model.trained_on, model.note) == (1234, "Trained by a test")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("merge", "review"),
    [(0.5, 0.9), (1.0, 0.9), (0.99, 0.0), (0.99, -0.1)],
)
def test_impossible_thresholds_are_refused(merge: float, review: float) -> None:
    with pytest.raises(ValueError, match="thresholds"):
        weights.save(replace(DEFAULT, merge_threshold=merge, review_threshold=review))

    assert not MatchModel.objects.exists()
