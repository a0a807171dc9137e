"""Batch deduplication (`kenal dedupe`): the dry-run report, merges into the oldest customer,
the review queue, households, chains that must not close, and the command's options."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kenal.customers.custom_fields import define_field
from kenal.customers.models import Customer
from kenal.customers.services import Origin, create_customer
from kenal.identity import dedupe as dedupe_module
from kenal.identity import frequency, keys, review, training, weights
from kenal.identity.dedupe import blocked_pairs, dedupe
from kenal.identity.merging import unmerge
from kenal.identity.models import CandidatePair, MatchModel, Merge, Relationship
from kenal.identity.people import load_people
from kenal.identity.tests.test_matching import (
    FAMILY_HOME,
    FAMILY_PHONE,
    D,
    add_customer,
    pair_of,
    raw_customer,
    related,
)

pytestmark = pytest.mark.django_db


class Crowd:
    """Customers with two clear duplicates, one likely one, a household and twins."""

    def __init__(self) -> None:
        self.rizki = add_customer(
            "Muhammad Rizki Pratama", born=D(1990, 5, 12), street="Jl. Merdeka 10", city="Bandung"
        )
        self.soedjatmoko = add_customer("Soedjatmoko", born=D(1975, 3, 3))
        self.dewi = add_customer(
            "Dewi Lestari", street="Jl. Mawar 7", city="Semarang", postcode="50132"
        )
        self.parent = add_customer(
            "Bambang Sutrisno", born=D(1965, 1, 2), phone=FAMILY_PHONE, **FAMILY_HOME
        )
        self.putri = add_customer(
            "Putri Wulandari", born=D(2001, 4, 4), gender="female", **FAMILY_HOME
        )
        self.stranger = add_customer("Siti Nurhaliza", born=D(1985, 3, 3), city="Jakarta")
        # Later records of the same people, and their households.
        self.rizky = add_customer(
            "M. Rizky Pratama", born=D(1990, 12, 5), street="Jalan Merdeka No. 10", city="Bandung"
        )
        self.sujatmoko = add_customer("Sujatmoko", born=D(1975, 3, 3))
        self.lestary = add_customer("Dewi Lestary", city="Semarang", postcode="50132")
        self.child = add_customer(
            "Dimas Sutrisno", born=D(1995, 7, 8), phone=FAMILY_PHONE, **FAMILY_HOME
        )
        self.putra = add_customer(
            "Putra Wulandari", born=D(2001, 4, 4), gender="male", **FAMILY_HOME
        )
        self.namesake = add_customer("Siti Nurhaliza", born=D(1990, 8, 8), city="Makassar")

    def refresh(self) -> None:
        for customer in vars(self).values():
            customer.refresh_from_db()


@pytest.fixture
def crowd() -> Crowd:
    return Crowd()


@pytest.fixture
def quick_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """200,000 random pairs are meant for a real database; a few thousand cover these twelve
    customers' 66 pairs many times over (and take a second, not twenty)."""
    defaults = training.train.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "random_count", 5_000)


def snapshot() -> tuple[object, ...]:
    """Everything a dedupe run could change."""
    return (
        list(Customer.objects.order_by("pk").values_list("pk", "full_name", "merged_into")),
        CandidatePair.objects.count(),
        Relationship.objects.count(),
        Merge.objects.count(),
        MatchModel.objects.count(),
    )


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_dry_run_changes_nothing_and_reports_the_proposals(crowd: Crowd, tmp_path: Path) -> None:
    before = snapshot()
    path = tmp_path / "proposals.csv"

    result = dedupe(dry_run=True, report=path)

    assert snapshot() == before
    assert result.customers == 12
    rows = read_report(path)
    merges = {(int(r["left_id"]), int(r["right_id"])): r for r in rows if r["action"] == "merge"}
    assert set(merges) == {
        (crowd.rizki.pk, crowd.rizky.pk),
        (crowd.soedjatmoko.pk, crowd.sujatmoko.pk),
    }
    for line in merges.values():
        assert float(line["probability"]) >= weights.DEFAULT.merge_threshold
        assert "name" in line["why"]
        assert "birth_date" in line["why"]
    assert merges[(crowd.rizki.pk, crowd.rizky.pk)]["right"] == "muhammad rizky pratama"
    reviews = {(int(r["left_id"]), int(r["right_id"])) for r in rows if r["action"] == "review"}
    assert (crowd.dewi.pk, crowd.lestary.pk) in reviews
    for pair in (
        (crowd.parent.pk, crowd.child.pk),
        (crowd.stranger.pk, crowd.namesake.pk),
    ):
        assert pair not in merges
        assert pair not in reviews


def test_a_run_merges_into_the_oldest_and_queues_the_likely_ones(crowd: Crowd) -> None:
    result = dedupe()

    crowd.refresh()
    assert crowd.rizky.merged_into == crowd.rizki
    assert crowd.sujatmoko.merged_into == crowd.soedjatmoko
    assert crowd.rizki.merged_into is None
    assert crowd.soedjatmoko.merged_into is None
    merged = set(Customer.objects.exclude(merged_into=None).values_list("pk", flat=True))
    assert merged == {crowd.rizky.pk, crowd.sujatmoko.pk}
    assert len(result.merges) == 2
    merge = Merge.objects.get(merged=crowd.rizky)
    assert merge.survivor == crowd.rizki
    assert merge.score is not None
    assert merge.score >= weights.DEFAULT.merge_threshold
    assert {item["field"] for item in merge.explanation} >= {"name", "birth_date"}

    pair = pair_of(crowd.dewi, crowd.lestary)
    assert pair is not None
    assert pair.status == CandidatePair.Status.PENDING
    assert pair in review.pending_pairs()
    assert ("shared_phone", "+6281277771234") in related(crowd.parent, crowd.child)


def test_a_second_run_finds_nothing_new(crowd: Crowd) -> None:
    dedupe()
    before = snapshot()

    again = dedupe()

    assert again.merges == []
    assert snapshot() == before


def chain() -> tuple[Customer, Customer, Customer]:
    """A is like B (same email), B is like C (same phone), but A and C were born years apart."""
    return (
        add_customer("Budi Santoso", born=D(1990, 5, 12), email="budisantoso90@contoh.id"),
        add_customer("Budi Santoso", email="budisantoso90@contoh.id", phone="0812-9999-0000"),
        add_customer("Budi Santoso", born=D(1968, 1, 20), phone="0812-9999-0000"),
    )


def test_namesakes_born_the_same_day_in_one_city_are_left_for_review_when_the_name_is_crowded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(frequency, "CROWDED", 3)
    first = add_customer(
        "Dewi Lestari", born=D(1995, 12, 23), phone="0838-6529-0686", city="Bekasi"
    )
    second = add_customer(
        "DEWI LESSTARI", born=D(1995, 12, 23), phone="0823-5112-800", city="Bekasi"
    )
    for index in range(3):
        add_customer("Dewi Lestari", born=D(1970 + index, 1, 1), city=f"Kota {index}")

    report = dedupe()

    assert report.merges == []
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.merged_into is None
    assert second.merged_into is None
    pair = pair_of(first, second)
    assert pair is not None
    assert pair.status == CandidatePair.Status.PENDING


def test_an_identifying_number_typed_with_a_slip_is_found_and_merged() -> None:
    define_field(key="nik", label="NIK", field_type="text", unique=True)
    home = {"street": "Jl. Cempaka 12", "city": "Bandung"}
    records = [
        # A mononym with a mistyped birth date: nothing but the number brings them together.
        (raw_customer("Sukarti", born=D(1961, 4, 9), **home), "3273014904610002"),
        (raw_customer("Sukarti", born=D(1961, 4, 19), **home), "3273014904160002"),
    ]
    first, second = (
        create_customer({**raw, "custom": {"nik": nik}}, Origin(source="crm"))
        for raw, nik in records
    )
    keys.refresh([first.pk, second.pk])

    report = dedupe()

    assert [(proposal.left, proposal.right) for proposal in report.merges] == [
        (first.pk, second.pk)
    ]
    second.refresh_from_db()
    assert second.merged_into == first


def test_a_chain_is_not_closed_through_a_person_in_between() -> None:
    a, _b, c = chain()

    dedupe()

    survivors = {
        pk: merged_into or pk
        for pk, merged_into in Customer.objects.values_list("pk", "merged_into")
    }
    assert survivors[a.pk] != survivors[c.pk]
    assert Merge.objects.count() == 1
    assert Customer.objects.filter(merged_into=None).count() == 2


def test_the_summary_counts_the_merges_made_not_the_links_proposed() -> None:
    chain()
    out = io.StringIO()

    call_command("dedupe", stdout=out, stderr=io.StringIO())

    assert Merge.objects.count() == 1
    assert "merged 1 pair" in out.getvalue()


def test_a_pair_judged_distinct_is_never_merged_nor_proposed_again() -> None:
    old = add_customer("Soedjatmoko", born=D(1975, 3, 3))
    new = add_customer("Sujatmoko", born=D(1975, 3, 3))
    pair = CandidatePair.objects.create(left=old, right=new, score=0.9991)
    review.decide_distinct(pair, None)
    assert (old.pk, new.pk) in blocked_pairs(load_people([old.pk, new.pk]))

    result = dedupe()

    assert result.merges == []
    assert result.reviews == []
    new.refresh_from_db()
    assert new.merged_into is None
    pair.refresh_from_db()
    assert pair.status == CandidatePair.Status.DISTINCT
    assert CandidatePair.objects.count() == 1


def test_an_undone_merge_is_not_made_again_but_left_for_a_person() -> None:
    old = add_customer("Soedjatmoko", born=D(1975, 3, 3))
    new = add_customer("Sujatmoko", born=D(1975, 3, 3))
    dedupe()
    unmerge(Merge.objects.get(merged=new), actor=None)

    again = dedupe()

    new.refresh_from_db()
    assert new.merged_into is None
    assert again.merges == []
    assert [(p.left, p.right) for p in again.reviews] == [(old.pk, new.pk)]
    pair = pair_of(old, new)
    assert pair is not None
    assert pair.status == CandidatePair.Status.PENDING


@pytest.mark.usefixtures("quick_training")
def test_a_dry_run_with_training_saves_no_weights(crowd: Crowd) -> None:
    before = snapshot()

    result = dedupe(dry_run=True, train=True)

    assert result.trained
    assert snapshot() == before
    assert weights.active() == weights.DEFAULT


@pytest.mark.usefixtures("quick_training")
def test_a_run_with_training_saves_the_weights_and_spares_the_households(crowd: Crowd) -> None:
    result = dedupe(train=True)

    assert result.trained
    model = MatchModel.objects.get()
    assert model.trained_on == result.pairs_compared > 0
    learnt = weights.active()
    assert learnt.prior != weights.DEFAULT.prior
    assert learnt.m["name"][0] > learnt.u["name"][0]
    crowd.refresh()
    for customer in (
        crowd.parent,
        crowd.child,
        crowd.putri,
        crowd.putra,
        crowd.stranger,
        crowd.namesake,
        crowd.dewi,
        crowd.lestary,
    ):
        assert customer.merged_into is None, customer
    assert crowd.putri.full_name == "Putri Wulandari"
    assert crowd.putra.full_name == "Putra Wulandari"


# --- the command ----------------------------------------------------------------------------


def test_the_command_dry_run_prints_a_summary_and_writes_the_report(
    crowd: Crowd, tmp_path: Path
) -> None:
    path = tmp_path / "dedupe.csv"
    out, err = io.StringIO(), io.StringIO()
    before = snapshot()

    call_command("dedupe", "--dry-run", "--report", str(path), stdout=out, stderr=err)

    summary = out.getvalue()
    assert "12 customers" in summary
    assert "would merge 2 pairs" in summary
    assert "2 for review" in summary  # Dewi and the twins
    assert f"Report: {path}" in summary
    assert "customers loaded" in err.getvalue()
    assert snapshot() == before
    assert {row["action"] for row in read_report(path)} >= {"merge", "review"}


def test_the_command_merges_and_says_so(crowd: Crowd) -> None:
    out = io.StringIO()

    call_command("dedupe", stdout=out, stderr=io.StringIO())

    assert "merged 2 pairs" in out.getvalue()
    assert Merge.objects.count() == 2


def test_the_command_refuses_a_review_bar_above_the_merge_bar(crowd: Crowd) -> None:
    before = snapshot()

    with pytest.raises(CommandError, match="review"):
        call_command(
            "dedupe", "--merge-above", "0.5", "--review-above", "0.9", stdout=io.StringIO()
        )

    assert snapshot() == before


def test_the_command_thresholds_decide_what_is_merged(crowd: Crowd) -> None:
    out = io.StringIO()

    call_command(
        "dedupe",
        "--merge-above",
        "0.99999",
        "--review-above",
        "0.9",
        stdout=out,
        stderr=io.StringIO(),
    )

    active = weights.active()
    assert (active.merge_threshold, active.review_threshold) == (0.99999, 0.9)
    crowd.refresh()
    assert crowd.rizky.merged_into == crowd.rizki  # 0.99999 and more
    assert crowd.sujatmoko.merged_into is None  # 0.999: now for review
    pair = pair_of(crowd.soedjatmoko, crowd.sujatmoko)
    assert pair is not None
    assert pair.status == CandidatePair.Status.PENDING


def test_the_command_dry_run_does_not_save_thresholds(crowd: Crowd) -> None:
    """--dry-run promises to change nothing: trying other bars must not change live matching."""
    call_command(
        "dedupe",
        "--dry-run",
        "--merge-above",
        "0.95",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    assert not MatchModel.objects.exists()
    assert weights.active() == weights.DEFAULT


def test_scoring_on_every_core_proposes_what_one_process_does(
    crowd: Crowd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone, shared = tmp_path / "alone.csv", tmp_path / "shared.csv"
    dedupe(dry_run=True, report=alone)
    monkeypatch.setattr(dedupe_module, "PARALLEL_FROM", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    dedupe(dry_run=True, report=shared)
    assert read_report(shared) == read_report(alone)
    assert any(row["action"] == "merge" for row in read_report(shared))
