"""Matching a record to a customer: probabilistic matches, household traps, deterministic keys,
the review band, and every write path that uses it (import, single write, form, orders)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypedDict

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kenal.customers.models import Customer, SourceRecord
from kenal.customers.services import Origin, clean_customer, create_customer
from kenal.hosted_forms import services as forms
from kenal.hosted_forms.models import SignupForm
from kenal.hosted_forms.services import FieldSpec, FormDefinition
from kenal.identity import frequency, keys, review, services, weights
from kenal.identity.comparisons import compare
from kenal.identity.dedupe import dedupe
from kenal.identity.models import CandidatePair, MatchKey, Relationship
from kenal.identity.people import Person, load_people
from kenal.identity.rules import Verdict, verdict
from kenal.identity.services import MatchKeys, Resolution
from kenal.ingest import services as ingest
from kenal.ingest.models import Import
from kenal.ingest.tests.files import write_csv

pytestmark = pytest.mark.django_db

D = datetime.date
HEADER = [
    "ID",
    "Nama",
    "Tanggal Lahir",
    "Jenis Kelamin",
    "No HP",
    "Email",
    "Alamat",
    "Kota",
    "Kode Pos",
]
MAPPING = {
    "Nama": "full_name",
    "Tanggal Lahir": "birth_date",
    "Jenis Kelamin": "gender",
    "No HP": "phone",
    "Email": "email",
    "Alamat": "street",
    "Kota": "city",
    "Kode Pos": "postcode",
}


# --- helpers (also used by the blocking and dedupe tests) ------------------------------------


def raw_customer(
    name: str,
    *,
    born: datetime.date | None = None,
    gender: str = "",
    email: str = "",
    phone: str = "",
    street: str = "",
    city: str = "",
    postcode: str = "",
) -> dict[str, Any]:
    """Raw values as a person types them, in the shape the customer services take."""
    raw: dict[str, Any] = {"full_name": name}
    if born:
        raw["birth_date"] = born.isoformat()
    if gender:
        raw["gender"] = gender
    if email:
        raw["emails"] = [{"email": email}]
    if phone:
        raw["phones"] = [{"number": phone}]
    if street or city or postcode:
        raw["addresses"] = [{"street": street, "city": city, "postcode": postcode}]
    return raw


def add_customer(
    name: str, *, source: str = "crm", external_id: str = "", **values: Any
) -> Customer:
    """A stored customer, written by the customer services, with its blocking keys."""
    customer = create_customer(
        raw_customer(name, **values), Origin(source=source, external_id=external_id)
    )
    keys.refresh([customer.pk])
    return customer


def row(
    name: str,
    *,
    id: str = "",
    born: datetime.date | None = None,
    gender: str = "",
    phone: str = "",
    email: str = "",
    street: str = "",
    city: str = "",
    postcode: str = "",
) -> list[str]:
    """One line of the import file (dates written the Indonesian way, day first)."""
    birth = born.strftime("%d/%m/%Y") if born else ""
    return [id, name, birth, gender, phone, email, street, city, postcode]


def import_rows(tmp_path: Path, rows: Sequence[Sequence[str]], *, source: str = "toko") -> Import:
    """Run a customer import of these rows through the import services, as `kenal import` does."""
    path = write_csv(tmp_path / f"{source}-{Import.objects.count()}.csv", [HEADER, *rows])
    setup = ingest.ImportSetup(source=source, mapping=MAPPING, id_column="ID")
    run = ingest.run_import(ingest.prepare_import(path, setup))
    assert run.status == Import.Status.DONE, run.error
    assert run.rejected_count == 0
    return run


def customer_of(run: Import, row_number: int = 1) -> Customer:
    """The customer a row of an import was written to."""
    record = SourceRecord.objects.get(batch_id=run.batch_id, row_number=row_number)
    assert record.customer is not None
    return record.customer


def resolve(name: str, **values: Any) -> Resolution:
    """What matching decides for one incoming record (nothing is written)."""
    raw = raw_customer(name, **values)
    return services.resolve_batch([MatchKeys.from_clean(clean_customer(raw), source="toko")])[0]


def weight_of(explanation: Sequence[dict[str, Any]], field: str) -> float:
    (item,) = [item for item in explanation if item["field"] == field]
    weight: float = item["weight"]
    return weight


def level_of(explanation: Sequence[dict[str, Any]], field: str) -> str:
    (item,) = [item for item in explanation if item["field"] == field]
    level: str = item["level"]
    return level


def related(a: Customer, b: Customer) -> set[tuple[str, str]]:
    """(kind, value) of the relationships recorded between two customers."""
    left, right = sorted((a.pk, b.pk))
    return set(
        Relationship.objects.filter(left_id=left, right_id=right).values_list("kind", "value")
    )


def pair_of(a: Customer, b: Customer) -> CandidatePair | None:
    left, right = sorted((a.pk, b.pk))
    return CandidatePair.objects.filter(left_id=left, right_id=right).first()


def live_customers() -> int:
    return Customer.objects.filter(merged_into=None).count()


# --- probabilistic matches ---------------------------------------------------------------------


def test_a_spelling_variant_with_a_swapped_birth_date_is_the_same_person(tmp_path: Path) -> None:
    stored = add_customer(
        "Muhammad Rizki Pratama",
        born=D(1990, 5, 12),
        street="Jl. Merdeka No. 10",
        city="Bandung",
    )

    resolution = resolve(
        "M. Rizky Pratama", born=D(1990, 12, 5), street="Jalan Merdeka 10", city="Bandung"
    )

    match = resolution.match
    assert match is not None
    assert (match.customer_id, match.rule) == (stored.pk, "probabilistic")
    assert match.score >= weights.DEFAULT.merge_threshold
    assert level_of(match.explanation, "birth_date") == "swapped"
    assert weight_of(match.explanation, "name") > 0
    assert weight_of(match.explanation, "birth_date") > 0

    # The import writes the row to the stored customer: no second customer appears.
    run = import_rows(
        tmp_path,
        [row("M. Rizky Pratama", born=D(1990, 12, 5), street="Jalan Merdeka 10", city="Bandung")],
    )
    assert (run.created_count, run.updated_count + run.unchanged_count) == (0, 1)
    assert customer_of(run) == stored
    assert live_customers() == 1


def test_old_and_new_spellings_with_one_birth_date_are_the_same_person(tmp_path: Path) -> None:
    stored = add_customer("Soedjatmoko", born=D(1975, 3, 3), city="Yogyakarta")

    run = import_rows(tmp_path, [row("Sujatmoko", born=D(1975, 3, 3))])

    assert run.created_count == 0
    assert customer_of(run) == stored
    match = resolve("Sujatmoko", born=D(1975, 3, 3)).match
    assert match is not None
    assert level_of(match.explanation, "name") == "exact"


def test_a_mistyped_birth_year_is_matched_only_with_the_same_street_and_postcode() -> None:
    stored = add_customer(
        "Ratna Sari Dewi", born=D(1988, 7, 21), street="Jl. Cempaka 12", postcode="40115"
    )

    same_home = resolve(
        "Ratna Sari Dewi", born=D(1989, 7, 21), street="Jl. Cempaka 12", postcode="40115"
    )
    elsewhere = resolve("Ratna Sari Dewi", born=D(1989, 7, 21), postcode="40115")

    assert same_home.match is not None
    assert same_home.match.customer_id == stored.pk
    assert elsewhere.match is None


def test_one_person_twice_in_one_file_is_matched_as_across_files(tmp_path: Path) -> None:
    """A first import of an old customer list is one file: its duplicates must be found too."""
    run = import_rows(
        tmp_path,
        [
            row("Muhammad Rizki Pratama", born=D(1990, 5, 12), city="Bandung"),
            row("M. Rizky Pratama", born=D(1990, 12, 5), city="Bandung"),
            row("Dewi Lestari", street="Jl. Mawar 7", city="Semarang", postcode="50132"),
            row("Dewi Lestary", city="Semarang", postcode="50132"),
        ],
    )

    assert customer_of(run, 1) == customer_of(run, 2)
    pair = pair_of(customer_of(run, 3), customer_of(run, 4))
    assert pair is not None
    assert pair.status == CandidatePair.Status.PENDING


def test_a_name_written_with_a_space_is_a_form_of_the_name(tmp_path: Path) -> None:
    def name_level(left: str, right: str) -> str:
        scored = weights.DEFAULT.score(
            compare(Person.of(full_name=left), Person.of(full_name=right))
        )
        return level_of(scored.explanation, "name")

    assert name_level("Nur Hayati Lubis", "Nurhayati Lubis") == "compatible"
    assert name_level("Sophie Nicolle", "Soph ie Nicolle") == "compatible"
    assert name_level("Joel McGilc hrist", "Joel McGilchrist") == "compatible"
    # Joined, the words must make the other word as written or by sound, not a word a letter
    # away: "Putri Ani" is not "Putriana".
    assert name_level("Putri Ani", "Putriana") != "compatible"

    stored = add_customer("Nurhayati Lubis", born=D(1962, 1, 19), city="Medan")
    run = import_rows(tmp_path, [row("Nur Hayati Lubis", born=D(1962, 1, 19), city="Medan")])
    assert customer_of(run) == stored


def _namesakes(count: int) -> None:
    """Customers named Dewi Lestari, born on other days in other towns."""
    for index in range(count):
        add_customer("Dewi Lestari", born=D(1970 + index, 1, 1), city=f"Kota {index}")


def test_namesakes_born_the_same_day_need_more_than_a_city_when_the_name_is_crowded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Strangers with a name very many customers have (frequency.CROWDED) are born the same
    day in any large database: the birth date and the city do not tell them apart."""
    monkeypatch.setattr(frequency, "CROWDED", 3)
    stored = add_customer(
        "Dewi Lestari",
        born=D(1995, 12, 23),
        phone="0838-6529-0686",
        street="Jln. Anggrek 27",
        city="Bekasi",
        postcode="17111",
    )
    _namesakes(3)

    stranger = resolve("Dewi Lesstari", born=D(1995, 12, 23), phone="0823-5112-800", city="Bekasi")
    assert stranger.match is None
    assert [match.customer_id for match in stranger.review] == [stored.pk]

    # The same street, the same postcode or the same phone tells them apart.
    for home in ({"street": "Jl. Anggrek No. 27"}, {"postcode": "17111"}):
        match = resolve("Dewi Lesstari", born=D(1995, 12, 23), city="Bekasi", **home).match
        assert match is not None
        assert match.customer_id == stored.pk
    # A name of three words is rare together, however common each word.
    rare_together = add_customer("Dewi Lestari Sugiarto", born=D(1988, 2, 2), city="Bogor")
    match = resolve("Dewi Lestari Sugiarto", born=D(1988, 2, 2)).match
    assert match is not None
    assert match.customer_id == rare_together.pk


def test_namesakes_born_the_same_day_are_one_person_while_the_name_is_not_crowded() -> None:
    stored = add_customer("Dewi Lestari", born=D(1995, 12, 23), city="Bekasi")
    _namesakes(3)  # fewer than frequency.CROWDED

    match = resolve(
        "Dewi Lesstari", born=D(1995, 12, 23), phone="0823-5112-800", city="Bekasi"
    ).match

    assert match is not None
    assert match.customer_id == stored.pk


# --- household traps ----------------------------------------------------------------------------

FAMILY_PHONE = "0812-7777-1234"


class Home(TypedDict):
    street: str
    city: str
    postcode: str


FAMILY_HOME: Home = {"street": "Jl. Melati No. 5", "city": "Yogyakarta", "postcode": "55281"}


def test_a_child_on_the_parents_phone_is_a_new_customer_and_a_relationship(
    tmp_path: Path,
) -> None:
    parent = add_customer(
        "Bambang Sutrisno", born=D(1965, 1, 2), gender="male", phone=FAMILY_PHONE, **FAMILY_HOME
    )

    run = import_rows(
        tmp_path,
        [
            row(
                "Dimas Sutrisno",
                born=D(1995, 7, 8),
                gender="L",
                phone=FAMILY_PHONE,
                **FAMILY_HOME,
            )
        ],
    )

    assert run.created_count == 1
    child = customer_of(run)
    assert child != parent
    parent.refresh_from_db()
    assert (parent.full_name, parent.birth_date) == ("Bambang Sutrisno", D(1965, 1, 2))
    assert ("shared_phone", "+6281277771234") in related(parent, child)
    assert ("shared_address", "jalan melati 5") in related(parent, child)
    assert pair_of(parent, child) is None  # a household, not a possible duplicate


def test_a_sibling_on_the_family_phone_without_a_birth_date_is_not_merged(
    tmp_path: Path,
) -> None:
    """A marketplace or chat record often has a name and a phone only."""
    andi = add_customer("Andi Gunawan", born=D(1992, 2, 2), phone=FAMILY_PHONE, **FAMILY_HOME)
    why = resolve("Anita Gunawan", phone=FAMILY_PHONE).match

    run = import_rows(tmp_path, [row("Anita Gunawan", phone=FAMILY_PHONE)])

    assert customer_of(run) != andi, why
    andi.refresh_from_db()
    assert andi.full_name == "Andi Gunawan"


def test_twins_with_alike_names_are_never_merged(tmp_path: Path) -> None:
    putri = add_customer(
        "Putri Wulandari",
        born=D(2001, 4, 4),
        gender="female",
        phone="0813-5555-0001",
        **FAMILY_HOME,
    )

    run = import_rows(
        tmp_path,
        [
            row(
                "Putra Wulandari",
                born=D(2001, 4, 4),
                gender="male",
                phone="0813-5555-0002",
                **FAMILY_HOME,
            )
        ],
    )

    assert run.created_count == 1
    putra = customer_of(run)
    assert putra != putri
    putri.refresh_from_db()
    assert (putri.full_name, putri.gender) == ("Putri Wulandari", "female")
    assert list(putri.phones.values_list("number", flat=True)) == ["+6281355550001"]


def test_twins_are_not_merged_when_no_gender_is_recorded(tmp_path: Path) -> None:
    """Many sources do not record gender; twins must still stay two customers."""
    putri = add_customer("Putri Wulandari", born=D(2001, 4, 4), **FAMILY_HOME)

    why = resolve("Putra Wulandari", born=D(2001, 4, 4), **FAMILY_HOME).match

    run = import_rows(tmp_path, [row("Putra Wulandari", born=D(2001, 4, 4), **FAMILY_HOME)])

    assert customer_of(run) != putri, why
    assert run.created_count == 1
    putri.refresh_from_db()
    assert putri.full_name == "Putri Wulandari"


def test_siblings_at_one_address_are_never_merged(tmp_path: Path) -> None:
    andi = add_customer("Andi Gunawan", born=D(1992, 2, 2), **FAMILY_HOME)
    rina = add_customer("Rina Gunawan", **FAMILY_HOME)

    run = import_rows(
        tmp_path,
        [
            row("Anita Gunawan", born=D(1994, 6, 9), **FAMILY_HOME),
            row("Andini Gunawan", **FAMILY_HOME),  # no birth date to tell them apart
        ],
    )

    assert run.created_count == 2
    assert {customer_of(run, 1), customer_of(run, 2)}.isdisjoint({andi, rina})
    assert live_customers() == 4


def test_a_shared_email_between_different_people_is_a_relationship_not_a_merge(
    tmp_path: Path,
) -> None:
    rina = add_customer("Rina Marlina", born=D(1980, 1, 1), email="keluarga.hadi@contoh.id")

    run = import_rows(
        tmp_path, [row("Hadi Susanto", born=D(1978, 9, 30), email="Keluarga.Hadi@contoh.id")]
    )

    assert run.created_count == 1
    hadi = customer_of(run)
    assert hadi != rina
    assert related(rina, hadi) == {("shared_email", "keluarga.hadi@contoh.id")}
    rina.refresh_from_db()
    assert rina.full_name == "Rina Marlina"


def test_a_shared_family_name_alone_never_merges(tmp_path: Path) -> None:
    agus = add_customer("Agus Hartono", city="Surabaya", postcode="60111")

    run = import_rows(tmp_path, [row("Wati Hartono", city="Surabaya", postcode="60111")])

    assert run.created_count == 1
    assert customer_of(run) != agus
    assert not CandidatePair.objects.exists()


def test_strangers_with_a_common_name_are_different_customers(tmp_path: Path) -> None:
    jakarta = add_customer(
        "Siti Nurhaliza", born=D(1985, 3, 3), street="Jl. Sudirman 1", city="Jakarta"
    )

    run = import_rows(
        tmp_path,
        [row("Siti Nurhaliza", born=D(1990, 8, 8), street="Jl. Somba Opu 2", city="Makassar")],
    )

    assert run.created_count == 1
    assert customer_of(run) != jakarta
    assert not CandidatePair.objects.exists()


# --- deterministic keys -------------------------------------------------------------------------


def test_the_sources_own_id_wins_over_everything_else(tmp_path: Path) -> None:
    stored = add_customer("Sri Wahyuni", source="toko", external_id="M-7", born=D(1970, 1, 1))
    # A namesake with the same birth date is a better probabilistic fit than the renamed row.
    add_customer("Sri Wahyuningsih", born=D(1982, 11, 11))

    run = import_rows(tmp_path, [row("Sri Wahyuningsih", id="M-7", born=D(1982, 11, 11))])

    assert customer_of(run) == stored
    assert run.created_count == 0
    match = services.find_match(MatchKeys(source="toko", external_id="M-7", full_name="X"))
    assert match is not None
    assert (match.customer_id, match.rule) == (stored.pk, "source_id")


def test_the_same_email_with_a_compatible_name_is_matched_by_email(tmp_path: Path) -> None:
    stored = add_customer("Budi Santoso", email="budi.santoso@contoh.id", city="Bandung")

    match = resolve("Budi S.", email="BUDI.SANTOSO@contoh.id", city="Medan").match

    assert match is not None
    assert (match.customer_id, match.rule) == (stored.pk, "email")
    assert match.score > weights.DEFAULT.merge_threshold
    assert level_of(match.explanation, "email") == "exact"
    run = import_rows(tmp_path, [row("Budi S.", email="BUDI.SANTOSO@contoh.id")])
    assert customer_of(run) == stored


def test_the_same_phone_and_name_without_a_birth_date_is_matched_by_phone() -> None:
    stored = add_customer("Yohanes Kurniawan", born=D(1979, 4, 2), phone="0811 222 333")

    match = resolve("Yohanes Kurniawan", phone="+62811222333").match

    assert match is not None
    assert (match.customer_id, match.rule) == (stored.pk, "phone")


# --- the review band ----------------------------------------------------------------------------


def test_a_likely_duplicate_without_corroboration_goes_to_review(tmp_path: Path) -> None:
    stored = add_customer(
        "Dewi Lestari", born=D(1993, 10, 1), street="Jl. Mawar 7", city="Semarang", postcode="50132"
    )

    run = import_rows(tmp_path, [row("Dewi Lestary", city="Semarang", postcode="50132")])

    assert run.created_count == 1
    new = customer_of(run)
    assert new != stored
    pair = pair_of(stored, new)
    assert pair is not None
    assert (pair.left_id, pair.right_id) == (stored.pk, new.pk)
    assert pair.status == CandidatePair.Status.PENDING
    model = weights.DEFAULT
    assert model.review_threshold <= pair.score < model.merge_threshold
    fields = {item["field"]: item for item in pair.explanation}
    assert set(fields) == {"name", "city", "postcode"}  # a side missing a field says nothing
    assert fields["name"]["left"] == "dewi lestary"  # the incoming record
    assert fields["name"]["right"] == "dewi lestari"
    assert all(item["weight"] > 0 for item in pair.explanation)


def test_name_and_city_alone_are_too_weak_even_for_review(tmp_path: Path) -> None:
    add_customer("Dewi Lestari", city="Semarang", postcode="50132")

    run = import_rows(tmp_path, [row("Dewi Lestari", city="Semarang")])

    assert run.created_count == 1
    assert not CandidatePair.objects.exists()


def test_namesakes_whose_emails_only_spell_their_name_are_not_proposed(tmp_path: Path) -> None:
    # Each made an address from the same name: their likeness is the names', counted once.
    add_customer("Budi Santoso", email="budisantoso@gmail.com", gender="male")

    run = import_rows(tmp_path, [row("Budi Santoso", email="budi.santoso@yahoo.com", gender="L")])

    assert run.created_count == 1
    assert not CandidatePair.objects.exists()


@pytest.mark.parametrize(
    ("left", "right", "level"),
    [
        ("budisantoso88@gmail.com", "budi.santoso88@yahoo.co.id", "close"),  # the same digits
        ("budisantoso@gmail.com", "budi.santoso@yahoo.com", "different"),
        ("budi.santoso@gmail.com", "budi.santoso@yahoo.co.id", "different"),
        ("bsantoso12@gmail.com", "b.santoso12@yahoo.com", "close"),
        ("kucingmanis@gmail.com", "kucing.manis@yahoo.co.id", "close"),  # not made of the name
    ],
)
def test_email_addresses_made_of_the_name_are_told_apart_by_what_they_add(
    left: str, right: str, level: str
) -> None:
    budi = Person.of(full_name="Budi Santoso", emails=[left])
    namesake = Person.of(full_name="Budi Santoso", emails=[right])

    scored = weights.DEFAULT.score(compare(budi, namesake))

    assert level_of(scored.explanation, "email") == level


def test_a_pair_judged_distinct_is_never_proposed_again(tmp_path: Path) -> None:
    stored = add_customer("Dewi Lestari", street="Jl. Mawar 7", city="Semarang", postcode="50132")
    lines = [row("Dewi Lestary", id="T-1", city="Semarang", postcode="50132")]
    new = customer_of(import_rows(tmp_path, lines))
    pair = pair_of(stored, new)
    assert pair is not None
    review.decide_distinct(pair, None)

    again = import_rows(tmp_path, lines)
    dedupe()

    assert customer_of(again) == new
    pair.refresh_from_db()
    assert pair.status == CandidatePair.Status.DISTINCT
    assert not review.pending_pairs().exists()
    assert live_customers() == 2


def test_raising_the_merge_threshold_sends_a_match_to_review() -> None:
    stored = add_customer("Soedjatmoko", born=D(1975, 3, 3))
    first = resolve("Sujatmoko", born=D(1975, 3, 3))
    assert first.match is not None
    weights.save(replace(weights.DEFAULT, merge_threshold=0.99999))

    stricter = resolve("Sujatmoko", born=D(1975, 3, 3))

    assert stricter.match is None
    assert [match.customer_id for match in stricter.review] == [stored.pk]


# --- one record written at a time (API, forms) ---------------------------------------------------


def test_a_single_write_reports_created_matched_and_review() -> None:
    origin = Origin(source="api")
    created = services.resolve(
        raw_customer("Rahmat Hidayat", born=D(1984, 2, 29), city="Bogor", postcode="16111"),
        origin,
    )
    assert (created.decision, created.match_score, created.explanation) == ("created", None, [])

    matched = services.resolve(
        raw_customer("RAHMAT HIDAYAT, S.E.", born=D(1984, 2, 29), phone="0812-1000-2000"), origin
    )
    assert matched.decision == "matched"
    assert matched.customer == created.customer
    assert matched.match_score is not None
    assert matched.match_score >= weights.DEFAULT.merge_threshold
    assert level_of(matched.explanation, "name") == "exact"  # the degree is not a name
    assert list(matched.customer.phones.values_list("number", flat=True)) == ["+6281210002000"]

    proposed = services.resolve(raw_customer("Rahmat Hidayat", postcode="16111"), origin)
    assert proposed.decision == "review"
    assert proposed.customer != created.customer
    assert proposed.match_score is not None
    assert weights.DEFAULT.review_threshold <= proposed.match_score
    assert weight_of(proposed.explanation, "postcode") > 0
    assert pair_of(created.customer, proposed.customer) is not None

    stranger = services.resolve(
        raw_customer("Rahmat Hidayat", born=D(1999, 1, 1), city="Medan", postcode="20111"), origin
    )
    assert stranger.decision == "created"
    assert stranger.customer not in (created.customer, proposed.customer)
    assert live_customers() == 3


def test_a_single_write_keeps_the_keys_of_what_it_wrote() -> None:
    first = services.resolve(raw_customer("Suharti", email="suharti@contoh.id"), Origin("api"))
    services.resolve(
        raw_customer("Suharti", email="suharti@contoh.id", born=D(1960, 8, 17)), Origin("api")
    )

    assert MatchKey.objects.filter(customer=first.customer, key="nd:suharti|19600817").exists()
    # Found again by name and birth date alone.
    match = resolve("Suharti", born=D(1960, 8, 17)).match
    assert match is not None
    assert match.customer_id == first.customer.pk


def test_score_customers_explains_a_stored_pair() -> None:
    parent = add_customer("Bambang Sutrisno", born=D(1965, 1, 2), phone=FAMILY_PHONE, **FAMILY_HOME)
    child = add_customer("Dimas Sutrisno", born=D(1995, 7, 8), phone=FAMILY_PHONE, **FAMILY_HOME)

    scored = services.score_customers(parent.pk, child.pk)

    levels = {item["field"]: item["level"] for item in scored.explanation}
    assert levels["phone"] == "exact"
    assert levels["birth_date"] == "different"
    assert levels["name"] == "different"
    # The strongest contributions come first.
    contributions = [abs(item["weight"]) for item in scored.explanation]
    assert contributions == sorted(contributions, reverse=True)


# --- hosted forms -------------------------------------------------------------------------------


def signup_form() -> SignupForm:
    return forms.save_form(
        None,
        FormDefinition(
            title="Member sign-up",
            slug="members",
            fields=(
                FieldSpec("full_name", required=True),
                FieldSpec("email"),
                FieldSpec("birth_date"),
                FieldSpec("city"),
                FieldSpec("postcode"),
            ),
        ),
    )


def sign_up(form: SignupForm, **values: str) -> None:
    token = forms.render_token(form, timezone.now() - datetime.timedelta(seconds=30))
    response = Client().post(
        reverse("public_forms:form", args=[form.slug]), {forms.TOKEN_FIELD: token, **values}
    )
    assert response.status_code == 302, response.content.decode()


def test_a_public_sign_up_alike_a_stored_customer_never_changes_them() -> None:
    """Anyone can fill in a public form: a likeness (same name and birth date, another
    email) makes a new customer proposed for review, never a change to the stored one."""
    stored = add_customer(
        "Indah Permatasari", born=D(1996, 9, 14), email="indah@contoh.id", city="Malang"
    )

    sign_up(
        signup_form(),
        full_name="Indah Permatasari",
        email="indah.baru@contoh.id",
        birth_date="1996-09-14",
    )

    assert live_customers() == 2
    assert set(stored.emails.values_list("email", flat=True)) == {"indah@contoh.id"}
    new = Customer.objects.exclude(pk=stored.pk).get()
    pair = pair_of(stored, new)
    assert pair is not None
    assert pair.status == CandidatePair.Status.PENDING
    assert pair.score > 0.99


def test_a_sign_up_in_the_review_band_is_a_new_customer_proposed_for_review() -> None:
    stored = add_customer("Indah Permatasari", city="Malang", postcode="65111")

    sign_up(signup_form(), full_name="Indah Permatasari", postcode="65111")

    assert live_customers() == 2
    new = Customer.objects.exclude(pk=stored.pk).get()
    pair = pair_of(stored, new)
    assert pair is not None
    assert pair.status == CandidatePair.Status.PENDING
    assert MatchKey.objects.filter(customer=new, key__endswith="|65111").exists()


# --- order imports ----------------------------------------------------------------------------


def test_an_order_import_gives_the_customers_it_creates_their_keys(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "orders.csv",
        [
            ["No. Pesanan", "Tanggal Pesanan", "Nama Pembeli", "No. Telepon", "Total"],
            ["INV-1", "2024-03-05", "Budi Santoso Wijaya", "0812 3456 7890", "75000"],
        ],
    )
    run = ingest.run_import(
        ingest.prepare_import(path, ingest.ImportSetup(kind="orders", source="tokopedia"))
    )
    assert run.status == Import.Status.DONE, run.error

    budi = Customer.objects.get()
    stored_keys = set(MatchKey.objects.filter(customer=budi).values_list("key", flat=True))
    assert stored_keys
    assert stored_keys == keys.blocking_keys(load_people([budi.pk])[budi.pk])
    # So a later record with the name and a phone one digit off is proposed as a duplicate.
    later = import_rows(tmp_path, [row("Budi Santoso Wijaya", phone="0812 3456 7891")])
    assert later.created_count == 1
    pair = pair_of(budi, customer_of(later))
    assert pair is not None
    assert pair.status == CandidatePair.Status.PENDING


# --- identifying numbers ------------------------------------------------------------------------


def _person(name: str, nik: str, born: datetime.date) -> Person:
    home = ("Jl. Cochrane 11", "Perth", "2795")
    return Person.of(full_name=name, birth_date=born, identifiers=[f"1:{nik}"], places=[home])


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        # Two digits swapped, the same name and home: a birth date typed wrong does not make
        # them two people.
        (
            ("Siti Aminah", "3201011", D(1990, 1, 2)),
            ("Siti Aminah", "3210011", D(1936, 1, 2)),
            Verdict.MERGE,
        ),
        # Numbers a slip apart but other names and birth dates: two people.
        (
            ("Siti Aminah", "3201011", D(1990, 1, 2)),
            ("Rina Wati", "3210011", D(1980, 3, 4)),
            Verdict.NEW,
        ),
    ],
)
def test_an_identifying_number_a_slip_apart_backs_the_same_name(
    left: tuple[str, str, datetime.date], right: tuple[str, str, datetime.date], expected: Verdict
) -> None:
    scored = weights.DEFAULT.score(compare(_person(*left), _person(*right)))
    assert verdict(scored, weights.DEFAULT) is expected
