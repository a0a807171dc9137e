"""The golden record: values read back from source records, lineage, the rules, recomputing."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from kenal.customers import services as customer_services
from kenal.customers.models import Customer, NameToken, SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import Origin
from kenal.identity import survivorship
from kenal.identity.models import SurvivorshipRule
from kenal.identity.survivorship import RulesInvalid, ValueOrigin, choose
from kenal.ingest import services as ingest
from kenal.ingest.models import Import, ImportKind
from kenal.ingest.revert import revert_import
from kenal.ingest.tests.files import write_csv

Rule = SurvivorshipRule.Rule
T0 = datetime.datetime(2025, 1, 1, 9, 0, tzinfo=datetime.UTC)


def at(days: int) -> datetime.datetime:
    return T0 + datetime.timedelta(days=days)


def origin(value: Any, source: str, record_id: int, days: int) -> ValueOrigin:
    return ValueOrigin(value, source, record_id, at(days), chosen=False)


def rule(kind: str, priority: list[str] | None = None) -> SurvivorshipRule:
    return SurvivorshipRule(field="company", rule=kind, source_priority=priority or [])


def picked(candidates: list[ValueOrigin], by: SurvivorshipRule | None = None) -> Any:
    chosen = choose("company", candidates, by)
    assert chosen is not None
    assert chosen.chosen
    return chosen.value


def run_import(path: Path, source: str, **setup: Any) -> Import:
    run = ingest.run_import(ingest.prepare_import(path, ingest.ImportSetup(source=source, **setup)))
    assert run.status == Import.Status.DONE, run.error
    return run


def received(batch_id: str, days: int) -> None:
    """Pin when a batch's records arrived, so "most recent" does not hang on test speed."""
    SourceRecord.objects.filter(batch_id=batch_id).update(received_at=at(days))


# --- choosing (no database) -------------------------------------------------------------------


def test_nothing_to_choose_from() -> None:
    assert choose("company", []) is None


def test_most_recent_is_the_default() -> None:
    candidates = [origin("PT Lama", "toko", 1, 0), origin("PT Baru", "web", 2, 5)]
    assert picked(candidates) == "PT Baru"
    assert picked(candidates, rule(Rule.MOST_RECENT)) == "PT Baru"


def test_most_recent_tie_goes_to_the_trusted_source_then_the_later_record() -> None:
    tied = [origin("PT Toko", "toko", 1, 3), origin("PT Web", "web", 2, 3)]
    assert picked(tied) == "PT Web"  # same time, no priority: the later record
    assert picked(tied, rule(Rule.MOST_RECENT, ["toko", "web"])) == "PT Toko"


def test_most_complete_takes_the_longest_value() -> None:
    candidates = [
        origin("PT Maju", "web", 3, 9),
        origin("PT  Maju Jaya Abadi", "toko", 1, 0),
        origin("PT Maju Jaya", "toko", 2, 1),
    ]
    assert picked(candidates, rule(Rule.MOST_COMPLETE)) == "PT  Maju Jaya Abadi"


def test_most_complete_tie_goes_to_priority_then_recency() -> None:
    tied = [origin("PT Abcd", "toko", 1, 0), origin("PT Wxyz", "web", 2, 1)]
    assert picked(tied, rule(Rule.MOST_COMPLETE)) == "PT Wxyz"
    assert picked(tied, rule(Rule.MOST_COMPLETE, ["toko"])) == "PT Abcd"


def test_most_complete_of_dates_is_the_most_recent() -> None:
    dates = [origin(datetime.date(1990, 5, 12), "toko", 1, 0)]
    dates.append(origin(datetime.date(1990, 12, 5), "web", 2, 1))
    chosen = choose("birth_date", dates, rule(Rule.MOST_COMPLETE))
    assert chosen is not None
    assert chosen.value == datetime.date(1990, 12, 5)


def test_most_frequent_counts_records() -> None:
    candidates = [
        origin("PT Satu", "toko", 1, 0),
        origin("PT Satu", "marketplace", 2, 1),
        origin("PT Dua", "web", 3, 9),
    ]
    assert picked(candidates, rule(Rule.MOST_FREQUENT)) == "PT Satu"


def test_most_frequent_tie_goes_to_the_most_recent_unless_a_source_is_trusted() -> None:
    tied = [
        origin("PT Satu", "toko", 1, 0),
        origin("PT Dua", "web", 2, 1),
        origin("PT Satu", "toko", 3, 2),
        origin("PT Dua", "web", 4, 3),
    ]
    assert picked(tied, rule(Rule.MOST_FREQUENT)) == "PT Dua"
    assert picked(tied, rule(Rule.MOST_FREQUENT, ["toko", "web"])) == "PT Satu"


def test_trusted_source_takes_the_first_listed_source_that_supplied_a_value() -> None:
    candidates = [
        origin("PT CRM Lama", "crm", 1, 0),
        origin("PT CRM", "crm", 2, 1),
        origin("PT Toko", "toko", 3, 2),
        origin("PT Web", "web", 4, 9),
    ]
    by = rule(Rule.TRUSTED_SOURCE, ["erp", "crm", "toko"])
    chosen = choose("company", candidates, by)
    assert chosen is not None
    assert (chosen.value, chosen.source, chosen.source_record_id) == ("PT CRM", "crm", 2)


def test_trusted_source_falls_back_to_the_most_recent() -> None:
    candidates = [origin("PT Toko", "toko", 1, 0), origin("PT Web", "web", 2, 9)]
    assert picked(candidates, rule(Rule.TRUSTED_SOURCE, ["erp"])) == "PT Web"


def test_emails_that_differ_only_in_case_are_one_value() -> None:
    candidates = [
        ValueOrigin("budi@contoh.id", "toko", 1, at(0), chosen=False),
        ValueOrigin("Budi@contoh.id", "toko", 2, at(1), chosen=False),
        ValueOrigin("other@contoh.id", "web", 3, at(2), chosen=False),
    ]
    chosen = choose("emails", candidates, rule(Rule.MOST_FREQUENT))
    assert chosen is not None
    assert chosen.value == "Budi@contoh.id"


# --- what a record supplied -------------------------------------------------------------------


@pytest.mark.django_db
def test_values_from_an_import_row_follow_the_mapping_and_split_the_name(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "anggota.csv",
        [
            ["Nama", "HP", "Surel", "Kantor", "Catatan", "Lahir"],
            [
                "BUDI SANTOSO",
                "0812-3456-7890 / 0813 1111 2222",
                "Budi@Contoh.id",
                "PT Maju",
                "vip",
                "",
            ],
        ],
    )
    run = run_import(path, "toko", mapping={"Kantor": "company", "Catatan": ""})
    record = SourceRecord.objects.get(batch_id=run.batch_id)
    assert survivorship.values_from(record) == {
        "full_name": "Budi Santoso",
        "given_name": "Budi",
        "family_name": "Santoso",
        "company": "PT Maju",
        "emails": ["Budi@contoh.id"],
        "phones": ["+6281234567890", "+6281311112222"],
    }


@pytest.mark.django_db
def test_values_from_an_import_keep_given_and_family_names_from_their_columns(
    tmp_path: Path,
) -> None:
    path = write_csv(
        tmp_path / "kontak.csv",
        [["Nama Lengkap", "Nama Depan", "Nama Belakang"], ["Siti Rahayu Putri", "Siti", "R. P."]],
    )
    record = SourceRecord.objects.get(batch_id=run_import(path, "toko").batch_id)
    values = survivorship.values_from(record)
    assert (values["full_name"], values["given_name"], values["family_name"]) == (
        "Siti Rahayu Putri",
        "Siti",
        "R. P.",
    )


@pytest.mark.django_db
def test_values_from_ui_and_form_records_are_keyed_by_field() -> None:
    web = Origin(source="web")
    customer = customer_services.create_customer(
        {"full_name": "Dewi Lestari", "emails": ["dewi@contoh.id"], "company": ""}, web
    )
    customer_services.update_customer(
        customer, {"job_title": "Manajer", "birth_date": "12/05/1990"}, web
    )
    form = Origin(source="form:membership", batch_id="submission-0123456789abcdef")
    customer_services.update_customer(
        customer, {"gender": "P", "phones": [{"number": "0857 1234 5678"}]}, form
    )
    created, edited, submitted = customer.source_records.order_by("id")
    assert survivorship.values_from(created) == {
        "full_name": "Dewi Lestari",
        "emails": ["dewi@contoh.id"],  # the blank company supplied nothing
    }
    assert survivorship.values_from(edited) == {
        "job_title": "Manajer",
        "birth_date": datetime.date(1990, 5, 12),
    }
    assert survivorship.values_from(submitted) == {
        "gender": "female",
        "phones": ["+6285712345678"],
    }


@pytest.mark.django_db
def test_values_from_skip_invalid_values_and_rejected_records() -> None:
    customer = Customer.objects.create(full_name="Budi")
    stored = SourceRecord.objects.create(
        customer=customer,
        source="api",
        data={
            "full_name": "Budi",
            "birth_date": "1991-02-30",
            "emails": ["budi@contoh.id", "budi@"],
            "owner": "nobody",
            "nickname": "Bud",
        },
        status=SourceRecord.Status.APPLIED,
    )
    assert survivorship.values_from(stored) == {
        "full_name": "Budi",
        "emails": ["budi@contoh.id"],
    }
    stored.status = SourceRecord.Status.REJECTED
    assert survivorship.values_from(stored) == {}


@pytest.mark.django_db
def test_order_rows_supply_nothing_but_the_customer_they_create_does(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "pesanan.csv",
        [
            ["No Pesanan", "Nama Pembeli", "Email Pembeli", "Total", "Tanggal"],
            ["INV-1", "Rina Wati", "rina@contoh.id", "150000", "2025-01-05"],
        ],
    )
    run = run_import(path, "tokopedia", kind=ImportKind.ORDERS)
    row = SourceRecord.objects.get(batch_id=run.batch_id, row_number=1)
    created = SourceRecord.objects.get(batch_id=run.batch_id, row_number=None)
    assert survivorship.values_from(row) == {}
    assert survivorship.values_from(created) == {
        "full_name": "Rina Wati",
        "given_name": "Rina",
        "family_name": "Wati",
        "emails": ["rina@contoh.id"],
    }


@pytest.mark.django_db
def test_a_reverted_import_supplies_nothing(tmp_path: Path) -> None:
    customer = customer_services.create_customer(
        {"full_name": "Budi Santoso", "emails": ["budi@contoh.id"]}, Origin(source="web")
    )
    path = write_csv(tmp_path / "a.csv", [["Email", "Perusahaan"], ["budi@contoh.id", "PT X"]])
    run = run_import(path, "toko")
    record = SourceRecord.objects.get(batch_id=run.batch_id)
    assert survivorship.values_from(record) == {"emails": ["budi@contoh.id"], "company": "PT X"}
    revert_import(run)
    record.refresh_from_db()
    assert record.customer_id == customer.pk
    assert survivorship.values_from(record) == {}


# --- lineage ----------------------------------------------------------------------------------


@pytest.fixture
def budi(tmp_path: Path) -> Customer:
    """Budi, built by two imports from two sources, then edited in the UI."""
    first = write_csv(
        tmp_path / "toko.csv",
        [
            ["Nama", "HP", "Email", "Perusahaan", "Tanggal Lahir"],
            ["Budi Santoso", "0812-3456-7890", "budi@contoh.id", "PT Lama", "12/05/1990"],
        ],
    )
    received(run_import(first, "toko").batch_id, 0)
    second = write_csv(
        tmp_path / "market.csv",
        [
            ["Nama", "HP", "Email", "Perusahaan"],
            ["BUDI SANTOSO", "0813 1111 2222", "Budi@contoh.id", "PT Baru Sentosa"],
        ],
    )
    received(run_import(second, "marketplace").batch_id, 10)
    customer = Customer.objects.get()
    customer_services.update_customer(
        customer, {"company": "PT Web"}, Origin(source="web", batch_id="edit-1")
    )
    received("edit-1", 20)
    customer.refresh_from_db()
    return customer


def ids(origins: list[ValueOrigin]) -> list[tuple[Any, str, bool]]:
    return [(item.value, item.source, item.chosen) for item in origins]


@pytest.mark.django_db
def test_lineage_lists_every_value_with_its_records_newest_first(budi: Customer) -> None:
    found = survivorship.lineage(budi)
    assert set(found) == set(survivorship.LINEAGE_FIELDS)
    assert budi.company == "PT Web"
    assert ids(found["company"]) == [
        ("PT Web", "web", True),
        ("PT Baru Sentosa", "marketplace", False),
        ("PT Lama", "toko", False),
    ]
    # One value from two records: both listed, last seen first, first seen last.
    assert ids(found["full_name"]) == [
        ("Budi Santoso", "marketplace", True),
        ("Budi Santoso", "toko", True),
    ]
    assert [item.received_at for item in found["full_name"]] == [at(10), at(0)]
    records = {record.source: record.pk for record in budi.source_records.all()}
    assert [item.source_record_id for item in found["full_name"]] == [
        records["marketplace"],
        records["toko"],
    ]
    assert ids(found["birth_date"]) == [(datetime.date(1990, 5, 12), "toko", True)]
    # Every email and phone is kept: each is listed with where it came from.
    assert ids(found["phones"]) == [
        ("+6281311112222", "marketplace", True),
        ("+6281234567890", "toko", True),
    ]
    assert ids(found["emails"]) == [
        ("Budi@contoh.id", "marketplace", True),
        ("budi@contoh.id", "toko", True),
    ]
    assert found["job_title"] == []


@pytest.mark.django_db
def test_lineage_marks_nothing_chosen_for_a_value_no_record_supplied(budi: Customer) -> None:
    Customer.objects.filter(pk=budi.pk).update(company="PT Set By Hand")
    budi.refresh_from_db()
    assert [item.chosen for item in survivorship.lineage(budi)["company"]] == [False] * 3


@pytest.mark.django_db
def test_lineage_table_shows_what_the_rules_would_choose(budi: Customer) -> None:
    survivorship.set_rule("company", Rule.TRUSTED_SOURCE, ["toko"])
    rows = {row.field: row for row in survivorship.lineage_table(budi)}
    company = rows["company"]
    assert company.current == ["PT Web"]
    assert [history.value for history in company.chosen_values] == ["PT Web"]
    assert [history.value for history in company.other_values] == ["PT Baru Sentosa", "PT Lama"]
    assert company.proposed is not None
    assert company.proposed.value == "PT Lama"
    assert rows["full_name"].proposed is None
    assert rows["gender"].values == ()
    assert rows["phones"].multiple
    assert rows["phones"].current == ["+6281234567890", "+6281311112222"]


# --- recomputing ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_apply_rules_recomputes_from_the_records_and_reports_changes(budi: Customer) -> None:
    assert survivorship.apply_rules(budi) == []
    survivorship.set_rule("company", Rule.TRUSTED_SOURCE, ["toko"])
    survivorship.set_rule("full_name", Rule.MOST_COMPLETE, [])
    customer_services.update_customer(
        budi, {"full_name": "Budi"}, Origin(source="web", batch_id="edit-2")
    )
    received("edit-2", 30)
    # Set without a record: no rule has anything to say about it.
    Customer.objects.filter(pk=budi.pk).update(job_title="Pemilik")
    budi.refresh_from_db()
    assert budi.full_name == "Budi"
    changed = survivorship.apply_rules(budi)
    assert changed == ["full_name", "company"]
    stored = Customer.objects.get(pk=budi.pk)
    assert (stored.full_name, stored.company, stored.job_title) == (
        "Budi Santoso",
        "PT Lama",
        "Pemilik",
    )
    assert stored.sort_name == "budi santoso"
    tokens = set(NameToken.objects.filter(customer=budi).values_list("token", flat=True))
    assert tokens == {"budi", "santoso"}
    assert survivorship.apply_rules(stored) == []


@pytest.mark.django_db
def test_golden_values_decide_over_both_customers_records(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "a.csv",
        [["Nama", "Email", "Perusahaan"], ["Ani Wijaya", "ani@contoh.id", "PT Satu"]],
    )
    received(run_import(path, "toko").batch_id, 0)
    left = Customer.objects.get()
    Customer.objects.filter(pk=left.pk).update(job_title="Direktur")  # no record says so
    right = customer_services.create_customer(
        {"full_name": "Ani W.", "emails": ["ani.w@contoh.id"], "company": "PT Dua"},
        Origin(source="web", batch_id="web-1"),
    )
    received("web-1", 5)
    left.refresh_from_db()
    values = survivorship.golden_values([left, right])
    assert set(values) == set(survivorship.SCALAR_FIELDS)
    assert values["company"] == "PT Dua"
    assert values["full_name"] == "Ani W."
    assert values["job_title"] == "Direktur"
    assert values["birth_date"] is None
    assert values["lifecycle_stage"] == left.lifecycle_stage
    survivorship.set_rule("full_name", Rule.MOST_COMPLETE, [])
    survivorship.set_rule("company", Rule.TRUSTED_SOURCE, ["toko"])
    values = survivorship.golden_values([right, left])
    assert (values["full_name"], values["company"]) == ("Ani Wijaya", "PT Satu")
    assert survivorship.golden_values([]) == {}


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_set_rule_stores_and_cleans_the_priority() -> None:
    saved = survivorship.set_rule("company", Rule.TRUSTED_SOURCE, [" crm ", "", "toko", "crm"])
    assert (saved.rule, saved.source_priority) == ("trusted_source", ["crm", "toko"])
    again = survivorship.set_rule("company", Rule.MOST_RECENT, [])
    assert again.pk == saved.pk
    assert survivorship.rules() == {"company": again}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "kind", "priority", "error_field", "value"),
    [
        ("nickname", Rule.MOST_RECENT, [], "field", "nickname"),
        ("emails", Rule.MOST_RECENT, [], "field", "emails"),
        ("company", "newest", [], "company.rule", "newest"),
        ("company", Rule.TRUSTED_SOURCE, [], "company.source_priority", ""),
        ("company", Rule.MOST_RECENT, "web,toko", "company.source_priority", "web,toko"),
        ("company", Rule.MOST_RECENT, ["x" * 101], "company.source_priority", "x" * 101),
    ],
)
def test_set_rule_refuses_with_the_field_value_and_expectation(
    field: str, kind: str, priority: Any, error_field: str, value: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        survivorship.set_rule(field, kind, priority)
    assert (caught.value.field, caught.value.value) == (error_field, value)
    assert caught.value.expected
    assert not SurvivorshipRule.objects.exists()


@pytest.mark.django_db
def test_save_rules_keeps_all_or_nothing_and_skips_unchanged_fields() -> None:
    with pytest.raises(RulesInvalid) as caught:
        survivorship.save_rules(
            {"company": (Rule.MOST_FREQUENT, []), "gender": ("bogus", []), "x": ("", [])}
        )
    assert set(caught.value.errors) == {"gender", "x"}
    assert not SurvivorshipRule.objects.exists()
    saved = survivorship.save_rules(
        {"company": (Rule.MOST_FREQUENT, ["toko"]), "gender": (Rule.MOST_RECENT, [])}
    )
    assert [item.field for item in saved] == ["company"]
    assert survivorship.save_rules({"company": (Rule.MOST_FREQUENT, ["toko"])}) == []


@pytest.mark.django_db
def test_known_sources_are_the_distinct_record_sources() -> None:
    for source in ("web", "toko", "web"):
        customer_services.create_customer({"full_name": "Budi"}, Origin(source=source))
    assert survivorship.known_sources() == ["toko", "web"]
