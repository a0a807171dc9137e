"""`kenal dedupe --engine spark`, on Spark in local mode: the same pairs and proposals as the
in-process engine on the same customers, households spared, the merges really made, and the
same weights learnt."""

from __future__ import annotations

import datetime
import io
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from kenal.customers.models import Customer
from kenal.identity import dedupe as batch
from kenal.identity import training
from kenal.identity.distributed import java_available, spark_engine
from kenal.identity.models import Merge, Relationship
from kenal.identity.people import load_people
from kenal.identity.tests.test_dedupe import Crowd, read_report, snapshot
from kenal.identity.tests.test_matching import FAMILY_HOME, FAMILY_PHONE, D, add_customer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not java_available(), reason="Spark runs in a Java virtual machine"),
]

# (first record, later record of the same person, birth date, city): name variants Kenal's
# normalisation knows, each with the birth date and the city to back it.
DUPLICATES = [
    ("Joko Susanto", "Djoko Soesanto", D(1971, 2, 14), "Surabaya"),
    ("Cahyono Wibisono", "Tjahjono Wibisono", D(1968, 9, 30), "Malang"),
    ("Muhammad Rizki Pratama", "M. Rizki Pratama", D(1990, 5, 12), "Bandung"),
    ("Ahmad Fauzi", "Achmad Fauzi", D(1983, 11, 2), "Medan"),
    ("Siti Aminah", "Hj. Siti Aminah, S.E.", D(1977, 6, 21), "Padang"),
    ("Nurhayati Lubis", "Nurhajati Lubis", D(1962, 1, 19), "Medan"),
    ("Yusuf Maulana", "Mohammad Yusuf Maulana", D(1995, 8, 8), "Bogor"),
    ("Abdul Rahman Hakim", "Abd. Rahman Hakim", D(1959, 12, 1), "Makassar"),
    ("Suryadi Nugroho", "Soerjadi Nugroho", D(1966, 4, 17), "Solo"),
    ("Indah Permatasari", "Ibu Indah Permatasari", D(1988, 3, 25), "Depok"),
    ("Ramadhan Putra", "Ramadan Putra", D(1999, 1, 9), "Palembang"),
    ("Wahyu Hidayat", "Wahju Hidajat", D(1981, 7, 4), "Cirebon"),
    ("Eko Prasetyo", "Eko Prasetio", D(1979, 10, 13), "Semarang"),
    ("Sri Mulyani", "Sri Moeljani", D(1962, 8, 26), "Klaten"),
    ("Hendra Gunawan", "Hendra Gunawan", D(1985, 5, 30), "Batam"),
]
DAYS = (datetime.date(1950, 1, 1), datetime.date(2005, 12, 31))
# fmt: off
GIVEN = (
    "Adi", "Bagus", "Citra", "Dian", "Endang", "Fajar", "Gilang", "Hadi", "Intan", "Joni",
    "Kartika", "Lina", "Mega", "Nanda", "Oki", "Putu", "Ratna", "Sari", "Tono", "Umar", "Vina",
    "Wulan", "Yanti", "Zainal", "Anggun", "Benny", "Dodi", "Erna", "Galih", "Heru",
)
FAMILY = (
    "Santoso", "Kurniawan", "Setiawan", "Hartono", "Wijaya", "Halim", "Sitompul", "Nasution",
    "Siregar", "Harahap", "Simanjuntak", "Tanjung", "Pohan", "Daulay", "Rangkuti", "Situmorang",
    "Manurung", "Sinaga", "Purba", "Ginting",
)
# fmt: on
CITIES = ("Jakarta", "Bandung", "Surabaya", "Medan", "Semarang", "Makassar", "Denpasar")


class Town:
    """About 200 customers: 20 people recorded twice, households, namesakes, and strangers."""

    def __init__(self, strangers: int = 156) -> None:
        rng = random.Random(4)
        self.duplicates: set[tuple[int, int]] = set()
        for first, later, born, city in DUPLICATES:
            self._twice(add_customer(first, born=born, city=city), later, born=born, city=city)
        # The same person once more, with a day and month swapped, a phone written another
        # way, an email in capitals, and a street written out.
        self._twice(
            add_customer("Agus Salim", born=D(1980, 3, 7), city="Bekasi"),
            "Agus Salim",
            born=D(1980, 7, 3),
            city="Bekasi",
        )
        self._twice(
            add_customer("Bayu Saputra", born=D(1993, 2, 27), phone="0813-2222-3333"),
            "Bayu Saputra",
            born=D(1993, 2, 27),
            phone="+62 813 2222 3333",
        )
        self._twice(
            add_customer("Rina Marlina", email="rina.marlina@contoh.id"),
            "Rina Marlina",
            email="Rina.Marlina@Contoh.ID",
        )
        self._twice(
            add_customer("Fitri Handayani", born=D(1991, 9, 3), street="Jl. Kenanga No. 12"),
            "Fitri Handayani",
            born=D(1991, 9, 3),
            street="Jalan Kenanga 12",
        )
        self._twice(
            add_customer("Dewi Lestari", born=D(1986, 11, 11), email="dewi.lestari@contoh.id"),
            "Dewi Lestary",
            born=D(1986, 11, 11),
            email="dewi.lestari@contoh.id",
        )
        # A parent and a child on one phone at one address; twins; namesakes.
        self.parent = add_customer(
            "Bambang Sutrisno", born=D(1965, 1, 2), phone=FAMILY_PHONE, **FAMILY_HOME
        )
        self.child = add_customer(
            "Dimas Sutrisno", born=D(1995, 7, 8), phone=FAMILY_PHONE, **FAMILY_HOME
        )
        self.putri = add_customer(
            "Putri Wulandari", born=D(2001, 4, 4), gender="female", **FAMILY_HOME
        )
        self.putra = add_customer(
            "Putra Wulandari", born=D(2001, 4, 4), gender="male", **FAMILY_HOME
        )
        self.siti = add_customer("Siti Nurhaliza", born=D(1985, 3, 3), city="Jakarta")
        self.namesake = add_customer("Siti Nurhaliza", born=D(1990, 8, 8), city="Makassar")
        names = rng.sample([f"{given} {family}" for given in GIVEN for family in FAMILY], strangers)
        days = rng.sample(range((DAYS[1] - DAYS[0]).days), strangers)
        for index, (name, day) in enumerate(zip(names, days, strict=True)):
            add_customer(
                name,
                born=DAYS[0] + datetime.timedelta(days=day),
                phone=f"0812{index:08}",
                city=rng.choice(CITIES),
            )

    def _twice(self, first: Customer, name: str, **values: Any) -> None:
        later = add_customer(name, **values)
        self.duplicates.add((first.pk, later.pk))

    @property
    def households(self) -> list[tuple[int, int]]:
        return [
            (self.parent.pk, self.child.pk),
            (self.putri.pk, self.putra.pk),
            (self.siti.pk, self.namesake.pk),
        ]


@pytest.fixture
def town() -> Town:
    return Town()


@pytest.fixture(scope="module", autouse=True)
def _spark() -> Iterator[None]:
    """One Spark session for the module, which every run below finds and uses: starting Spark
    and its Python workers is most of the cost of a small run."""
    with pytest.MonkeyPatch.context() as patch:
        # A JVM that lives a minute never repays the optimising compiler's work: the quick
        # compiler alone halves Spark's start-up and first queries on two cores.
        patch.setenv(
            "PYSPARK_SUBMIT_ARGS",
            os.environ.get(
                "PYSPARK_SUBMIT_ARGS", "--driver-java-options -XX:TieredStopAtLevel=1 pyspark-shell"
            ),
        )
        with spark_engine():
            yield


def dedupe(*args: str) -> str:
    out = io.StringIO()
    call_command("dedupe", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_spark_proposes_and_merges_what_the_local_engine_does(town: Town, tmp_path: Path) -> None:
    assert Customer.objects.count() == 2 * len(town.duplicates) + 6 + 156
    before = snapshot()
    local, spark = tmp_path / "local.csv", tmp_path / "spark.csv"

    local_summary = dedupe("--dry-run", "--report", str(local))
    spark_summary = dedupe(
        "--engine", "spark", "--spark-master", "local[2]", "--dry-run", "--report", str(spark)
    )

    assert snapshot() == before
    # Same pairs compared, same merges, reviews and households, same scores and reasons.
    assert spark_summary.splitlines()[0] == local_summary.splitlines()[0]
    assert spark.read_text(encoding="utf-8") == local.read_text(encoding="utf-8")
    rows = read_report(spark)
    merges = {(int(r["left_id"]), int(r["right_id"])) for r in rows if r["action"] == "merge"}
    assert merges == town.duplicates
    assert not merges & set(town.households)

    summary = dedupe("--engine", "spark", "--spark-master", "local[1]")

    assert f"merged {len(merges)} pairs" in summary
    assert set(Merge.objects.values_list("survivor_id", "merged_id")) == merges
    for merge in Merge.objects.all():
        assert merge.score is not None
        assert merge.score >= 0.99
        assert "name" in {item["field"] for item in merge.explanation}
    unmerged = set(Customer.objects.filter(merged_into=None).values_list("pk", flat=True))
    for left, right in town.households:
        assert {left, right} <= unmerged
    assert Relationship.objects.filter(
        left=town.parent, right=town.child, kind=Relationship.Kind.SHARED_PHONE
    ).exists()


def test_spark_finds_the_pairs_blocking_finds_and_learns_the_same_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Crowd()
    people = load_people(Customer.objects.values_list("pk", flat=True))
    # A few thousand random pairs cover these twelve customers (see test_dedupe).
    defaults = training.train.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "random_count", 5_000)

    with spark_engine() as engine:
        assert engine.block(people) == len(batch.blocked_pairs(people))
        assert engine.pairs() == batch.blocked_pairs(people)
        on_spark = batch.dedupe(dry_run=True, train=True, engine=engine)
    in_process = batch.dedupe(dry_run=True, train=True)

    assert on_spark.trained
    assert on_spark.pairs_compared == in_process.pairs_compared
    for found in (on_spark, in_process):
        assert found.merges
    assert [(p.left, p.right, p.scored) for p in on_spark.merges + on_spark.reviews] == [
        (p.left, p.right, p.scored) for p in in_process.merges + in_process.reviews
    ]
