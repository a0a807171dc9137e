"""Importing customers: nothing received is lost, matching, the report, idempotence, revert."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path
from typing import Any

import pytest

from kenal.customers import custom_fields
from kenal.customers import services as customer_services
from kenal.customers.models import Customer, FieldType, SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import Origin
from kenal.ingest import services
from kenal.ingest.models import Import, ImportChange
from kenal.ingest.revert import revert_import
from kenal.ingest.tests.files import write_csv, write_vcf, write_xlsx
from kenal.privacy.models import ConsentRecord
from kenal.privacy.services import parse_declaration

pytestmark = pytest.mark.django_db

HEADER = ["Nama Lengkap", "No HP", "Surel", "Kota", "Tanggal Lahir", "Jenis Kelamin", "ID Member"]
ROWS = [
    ["Budi Santoso", "0812-3456-7890", "Budi@Contoh.id", "Bandung", "12/05/1990", "L", "M-1"],
    ["SITI RAHAYU", "+62 813 1111 2222", "siti@contoh.id", "Depok", "1991-02-30", "P", "M-2"],
    ["Dewi", "0857 1234 5678", "", "Medan", "", "perempuan", "M-3"],
    ["", "", "", "", "", "", ""],
    ["Ani", "12ab", "ani@", "", "", "", "M-4"],
    ["budi santoso", "6281234567890", "", "", "", "", "M-1"],
]


NAMES = ["Ani", "Budi", "Citra", "Dedi", "Eka", "Fajar"]


def run_file(path: Path, **setup: Any) -> Import:
    options = {"source": "toko", **setup}
    return services.run_import(services.prepare_import(path, services.ImportSetup(**options)))


@pytest.fixture
def members(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "anggota.csv", [HEADER, *ROWS], delimiter=";", bom=True)


def test_rows_become_customers_with_normalised_values(members: Path) -> None:
    run = run_file(members, id_column="ID Member")
    assert run.status == Import.Status.DONE
    counts = (
        run.created_count,
        run.merged_count,
        run.rejected_count,
        run.empty_count,
        run.rows_done,
    )
    assert counts == (2, 1, 2, 1, 6)
    budi = Customer.objects.get(full_name="Budi Santoso")
    assert (budi.given_name, budi.family_name, budi.gender) == ("Budi", "Santoso", "male")
    assert budi.birth_date == datetime.date(1990, 5, 12)
    assert [row.number for row in budi.phones.all()] == ["+6281234567890"]
    assert [row.email for row in budi.emails.all()] == ["Budi@contoh.id"]
    assert budi.addresses.get().city == "Bandung"
    dewi = Customer.objects.get(full_name="Dewi")
    assert (dewi.given_name, dewi.family_name, dewi.gender) == ("Dewi", "", "female")


def test_every_row_is_kept_as_received_with_its_row_number(members: Path) -> None:
    run = run_file(members, id_column="ID Member")
    records = SourceRecord.objects.filter(batch_id=run.batch_id).order_by("row_number")
    assert [record.row_number for record in records] == [1, 2, 3, 5, 6]
    first = records[0]
    assert first.data == dict(zip(HEADER, ROWS[0], strict=True))
    assert (first.source, first.external_id, first.action) == ("toko", "M-1", "created")
    assert records[4].action == "merged"
    assert records[4].customer_id == first.customer_id
    rejected = records.filter(status=SourceRecord.Status.REJECTED)
    assert [record.row_number for record in rejected] == [2, 5]


def test_the_report_names_row_field_value_and_reason(members: Path) -> None:
    run = run_file(members)
    found = [(p.row, p.field, p.value) for p in services.problems(run)]
    assert found == [
        (2, "birth_date", "1991-02-30"),
        (5, "emails[0].email", "ani@"),
        (5, "phones[0].number", "12ab"),
    ]
    reasons = [problem.reason for problem in services.problems(run)]
    assert "31/03/2024" in reasons[0]
    assert "nama@contoh.co.id" in reasons[1]


def test_rejected_rows_download_in_the_original_columns_and_reimport_once_fixed(
    members: Path, tmp_path: Path
) -> None:
    run = run_file(members, id_column="ID Member")
    out = io.StringIO()
    assert services.write_rejected_csv(run, out) == 2
    table = list(csv.reader(io.StringIO(out.getvalue()), delimiter=";"))
    assert table[0] == [*HEADER, "error"]
    assert table[1][:7] == ROWS[1]
    assert "birth_date" in table[1][7]
    assert "1991-02-30" in table[1][7]
    assert table[2][:7] == ROWS[4]
    table[1][4] = "1991-02-28"
    table[2][1], table[2][2] = "0811-2222-3333", "ani@contoh.id"
    fixed = write_csv(tmp_path / "fixed.csv", table, delimiter=";")
    again = run_file(fixed, id_column="ID Member")
    assert (again.created_count, again.rejected_count) == (2, 0)
    siti = Customer.objects.get(full_name="Siti Rahayu")
    assert siti.birth_date == datetime.date(1991, 2, 28)


def test_reimporting_the_same_file_changes_nothing(members: Path) -> None:
    run_file(members, id_column="ID Member")
    before = (Customer.objects.count(), ImportChange.objects.count())
    again = run_file(members, id_column="ID Member")
    assert (again.created_count, again.updated_count, again.merged_count) == (0, 0, 0)
    assert again.unchanged_count == 3
    assert (Customer.objects.count(), ImportChange.objects.count()) == before


def existing_customer() -> Customer:
    return customer_services.create_customer(
        {
            "full_name": "Budi Santoso",
            "emails": ["budi.s@contoh.id"],
            "phones": ["0812-3456-7890"],
            "job_title": "Pedagang",
            "addresses": [{"city": "Bandung"}],
        },
        Origin(source="web"),
    )


@pytest.mark.parametrize(
    ("column", "value"),
    [("Surel", "BUDI.S@CONTOH.ID"), ("No HP", "+62 812-3456-7890"), ("No HP", "6281234567890")],
)
def test_an_existing_customer_is_found_by_email_or_phone_in_any_format(
    tmp_path: Path, column: str, value: str
) -> None:
    budi = existing_customer()
    path = write_csv(tmp_path / "a.csv", [["Nama", column, "Pekerjaan"], ["Budi", value, "Guru"]])
    run = run_file(path)
    assert (run.created_count, run.updated_count) == (0, 1)
    budi.refresh_from_db()
    assert (budi.full_name, budi.job_title) == ("Budi", "Guru")
    assert Customer.objects.count() == 1


def test_the_sources_own_id_finds_the_customer_it_sent_before(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", [["ID", "Nama"], ["C-9", "Ani"]])
    run_file(first, id_column="ID")
    second = write_csv(tmp_path / "b.csv", [["ID", "Nama", "Surel"], ["C-9", "Ani", "ani@x.id"]])
    run = run_file(second, id_column="ID")
    assert (run.created_count, run.updated_count) == (0, 1)
    assert Customer.objects.get().primary_email == "ani@x.id"
    other_source = run_file(second, id_column="ID", source="pos")
    assert other_source.updated_count == 0
    assert other_source.unchanged_count == 1  # found by the email instead


def test_updates_add_contacts_and_never_clear_with_blanks(tmp_path: Path) -> None:
    budi = existing_customer()
    path = write_csv(
        tmp_path / "a.csv",
        [
            ["Nama", "HP", "HP 2", "Email", "Pekerjaan", "Kota"],
            ["", "0812-3456-7890", "0819 9999 8888", "b@x.id", "", "Bandung"],
        ],
    )
    run = run_file(path)
    assert run.updated_count == 1
    budi.refresh_from_db()
    assert budi.full_name == "Budi Santoso"
    assert budi.job_title == "Pedagang"
    assert sorted(row.number for row in budi.phones.all()) == ["+6281234567890", "+6281999998888"]
    assert sorted(row.email for row in budi.emails.all()) == ["b@x.id", "budi.s@contoh.id"]
    assert budi.primary_email == "budi.s@contoh.id"
    assert budi.addresses.count() == 1


def test_rows_of_one_person_in_one_file_are_merged_into_one_customer(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "a.csv",
        [
            ["Nama", "HP", "Email", "Kota"],
            ["Rina", "0812-1111-0000", "", "Bogor"],
            ["Andi", "", "andi@x.id", ""],
            ["Rina Wati", "+62 812 1111 0000", "rina@x.id", "Bogor"],
        ],
    )
    run = run_file(path)
    assert (run.created_count, run.merged_count) == (2, 1)
    rina = Customer.objects.get(phones__number="+6281211110000")
    assert (rina.full_name, rina.primary_email) == ("Rina Wati", "rina@x.id")
    assert rina.addresses.count() == 1


def test_batches_of_one_file_still_merge_into_customers_created_earlier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    rows = [["Nama", "HP"]] + [[name, f"0812-3456-{i:04d}"] for i, name in enumerate(NAMES[:5])]
    rows.append(["Ani Lestari", "0812 3456 0000"])
    run = run_file(write_csv(tmp_path / "a.csv", rows))
    assert (run.created_count, run.merged_count, run.rows_done) == (5, 1, 6)
    assert Customer.objects.get(phones__number="+6281234560000").full_name == "Ani Lestari"


def test_revert_removes_what_it_created_and_restores_what_it_changed(tmp_path: Path) -> None:
    budi = existing_customer()
    path = write_csv(
        tmp_path / "a.csv",
        [
            ["Nama", "HP", "Pekerjaan", "Email"],
            ["Budi S", "0812-3456-7890", "Guru", "bs@x.id"],
            ["Ani", "0813-2222-3333", "", ""],
        ],
    )
    run = run_file(path)
    assert Customer.objects.count() == 2
    result = revert_import(run)
    assert (result.removed_customers, result.conflicts) == (1, [])
    budi.refresh_from_db()
    assert (budi.full_name, budi.job_title) == ("Budi Santoso", "Pedagang")
    assert [row.email for row in budi.emails.all()] == ["budi.s@contoh.id"]
    assert list(budi.name_tokens.values_list("token", flat=True).order_by("token")) == [
        "budi",
        "santoso",
    ]
    run.refresh_from_db()
    assert run.status == Import.Status.REVERTED
    assert SourceRecord.objects.filter(batch_id=run.batch_id).count() == 2  # still kept
    with pytest.raises(InvalidValue):
        revert_import(run)


def test_revert_keeps_values_changed_since_and_lists_them(tmp_path: Path) -> None:
    budi = existing_customer()
    path = write_csv(
        tmp_path / "a.csv", [["HP", "Pekerjaan", "Perusahaan"], ["0812-3456-7890", "Guru", "SDN 1"]]
    )
    run = run_file(path)
    budi.refresh_from_db()
    customer_services.update_customer(budi, {"job_title": "Kepala Sekolah"}, Origin(source="web"))
    result = revert_import(run)
    budi.refresh_from_db()
    assert (budi.job_title, budi.company) == ("Kepala Sekolah", "")
    assert result.conflicts == [
        {
            "customer": budi.pk,
            "name": "Budi Santoso",
            "field": "job_title",
            "imported": "Guru",
            "current": "Kepala Sekolah",
        }
    ]
    run.refresh_from_db()
    assert run.revert_conflicts == result.conflicts


def test_custom_fields_import_convert_and_revert(tmp_path: Path) -> None:
    custom_fields.define_field(key="poin", label="Poin", field_type=FieldType.INTEGER)
    custom_fields.define_field(
        key="kartu", label="No Kartu", field_type=FieldType.TEXT, unique=True
    )
    budi = existing_customer()
    path = write_csv(
        tmp_path / "a.csv",
        [
            ["HP", "Poin", "No Kartu"],
            ["0812-3456-7890", "1.250", "K-1"],
            ["0813-1111-2222", "banyak", "K-2"],
            ["0813-1111-3333", "5", "K-1"],
        ],
    )
    run = run_file(path)
    # The third row's card number is Budi's: a unique value identifies its holder, so the
    # row reaches Budi (with a new phone) rather than making a second customer.
    assert (run.updated_count, run.rejected_count) == (2, 1)
    fields = {field.key: values for field, values in custom_fields.values_for(budi)}
    assert [value.value for value in fields["poin"]] == [5]
    assert "+6281311113333" in {phone.number for phone in budi.phones.all()}
    problems = {(problem.row, problem.field) for problem in services.problems(run)}
    assert problems == {(2, "custom.poin")}
    revert_import(run)
    fields = {field.key: values for field, values in custom_fields.values_for(budi)}
    assert fields["poin"] == []


def test_a_unique_value_identifies_its_holder_and_a_conflicting_row_is_refused(
    tmp_path: Path,
) -> None:
    custom_fields.define_field(
        key="kartu", label="No Kartu", field_type=FieldType.TEXT, unique=True
    )
    budi = existing_customer()
    custom_fields.write_values(budi, custom_fields.clean_values({"kartu": "K-1"})[0])
    first = write_csv(
        tmp_path / "a.csv", [["ID", "Nama", "No Kartu"], ["m-7", "Siti Aminah", "K-9"]]
    )
    run_file(first, id_column="ID")
    siti = Customer.objects.get(full_name="Siti Aminah")
    again = write_csv(
        tmp_path / "b.csv",
        [["ID", "Nama", "No Kartu"], ["m-7", "Siti Aminah", "K-1"], ["", "B. Santoso", "K-1"]],
    )
    run = run_file(again, id_column="ID")
    # Row 1: the source's id says Siti, the card says Budi: refused, naming the holder.
    problems = list(services.problems(run))
    assert [(p.row, p.field, p.value) for p in problems] == [(1, "custom.kartu", "K-1")]
    assert f"customer #{budi.pk} has it" in problems[0].reason
    # Row 2 has nothing but the card to go by: it reaches Budi.
    assert (run.updated_count, run.created_count, run.rejected_count) == (1, 0, 1)
    assert Customer.objects.filter(merged_into=None).count() == 2
    assert siti.custom_values.get().text == "K-9"


def test_a_unique_value_seen_in_an_earlier_batch_reaches_the_same_customer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    custom_fields.define_field(key="nik", label="NIK", field_type=FieldType.TEXT, unique=True)
    rows = [["Nama", "NIK"], ["Siti Aminah", "3201"], ["Budi Santoso", "3202"]]
    rows += [["Siti A.", "3201"], ["Budi S.", "3202"], ["Ani", "3203"]]
    run = run_file(write_csv(tmp_path / "a.csv", rows))
    assert (run.created_count, run.merged_count, run.rejected_count) == (3, 2, 0)


def test_a_unique_value_leads_to_its_customer_after_a_later_row_changed_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    custom_fields.define_field(key="nik", label="NIK", field_type=FieldType.TEXT, unique=True)
    rows = [["Nama", "Email", "NIK"], ["Siti Aminah", "siti@contoh.id", "3201"]]
    # The same person again, by email, with another number: it replaces the first one...
    rows += [["Siti Aminah", "siti@contoh.id", "3299"], ["Ani", "", "3203"]]
    # ...yet a row with the first number, in a later batch, still reaches her.
    rows += [["S. Aminah", "", "3201"]]
    run = run_file(write_csv(tmp_path / "a.csv", rows))
    assert (run.created_count, run.merged_count, run.rejected_count) == (2, 2, 0)


def test_a_unique_value_alone_identifies_a_new_customer(tmp_path: Path) -> None:
    custom_fields.define_field(key="nik", label="NIK", field_type=FieldType.TEXT, unique=True)
    run = run_file(write_csv(tmp_path / "a.csv", [["Kota", "NIK"], ["Bandung", "3273"]]))
    assert (run.created_count, run.rejected_count) == (1, 0)


def test_declared_consent_is_recorded_per_customer_and_none_stays_unknown(
    members: Path, tmp_path: Path
) -> None:
    declaration = parse_declaration(
        {"marketing_email": "granted", "marketing_whatsapp": "Refused"},
        method="Paper form at Jakarta Fair",
        wording="Saya setuju menerima promo.",
    )
    run = run_file(members, consent=declaration)
    records = ConsentRecord.objects.filter(batch_id=run.batch_id)
    assert records.count() == 2 * 2  # two purposes for each of the two customers
    budi = records.filter(customer__full_name="Budi Santoso", purpose="marketing_email").get()
    assert (budi.status, budi.method, budi.source) == (
        "granted",
        "Paper form at Jakarta Fair",
        "toko",
    )
    assert budi.wording == "Saya setuju menerima promo."
    assert budi.source_record is not None
    assert budi.source_record.batch_id == run.batch_id
    silent = run_file(write_csv(tmp_path / "b.csv", [["Nama"], ["Joko"]]))
    assert not ConsentRecord.objects.filter(batch_id=silent.batch_id).exists()


def test_a_consent_declaration_needs_known_purposes_and_a_method() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_declaration({"newsletter": "granted"}, method="form")
    assert caught.value.field == "consent.newsletter"
    with pytest.raises(InvalidValue) as caught:
        parse_declaration({"marketing_email": "maybe"}, method="form")
    assert "granted" in caught.value.expected
    with pytest.raises(InvalidValue) as caught:
        parse_declaration({"marketing_email": "granted"})
    assert caught.value.field == "consent.method"


def test_a_dry_run_reports_and_changes_nothing(members: Path) -> None:
    run = run_file(members, dry_run=True)
    assert (run.status, run.created_count, run.rejected_count) == (Import.Status.DONE, 2, 2)
    assert not Customer.objects.exists()
    assert not SourceRecord.objects.exists()
    with pytest.raises(InvalidValue):
        revert_import(run)


def test_a_cancel_stops_between_batches_and_keeps_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    rows = [["Nama", "HP"]] + [[name, f"0812-3456-{i:04d}"] for i, name in enumerate(NAMES)]
    run = services.prepare_import(write_csv(tmp_path / "a.csv", rows), services.ImportSetup())

    def press_cancel(current: Import) -> None:  # while the first batch is being written
        services.cancel_import(current)

    services.run_import(run, progress=press_cancel)
    run.refresh_from_db()
    assert (run.status, run.rows_done, Customer.objects.count()) == (Import.Status.CANCELLED, 2, 2)
    revert_import(run)
    assert not Customer.objects.exists()


def test_xlsx_sheets_and_vcards_import(tmp_path: Path) -> None:
    workbook = write_xlsx(
        tmp_path / "data.xlsx",
        {
            "Catatan": [["Dibuat", "2026-01-01"]],
            "Pelanggan": [
                ["Nama", "No HP", "Tgl Lahir"],
                ["Joko", 81298765432, datetime.datetime(1985, 1, 2)],
            ],
        },
    )
    run = run_file(workbook, sheet="Pelanggan")
    joko = Customer.objects.get(full_name="Joko")
    assert (run.created_count, joko.primary_phone) == (1, "+6281298765432")
    assert joko.birth_date == datetime.date(1985, 1, 2)
    cards = write_vcf(
        tmp_path / "kontak.vcf",
        [
            "BEGIN:VCARD",
            "VERSION:3.0",
            "FN:Rudi Hartono",
            "N:Hartono;Rudi;;;",
            "TEL;TYPE=CELL:0811-1234-5678",
            "TEL;TYPE=HOME:+62 21 555 1234",
            "EMAIL:rudi@x.id",
            "EMAIL:rudi@kantor.id",
            "END:VCARD",
        ],
    )
    run = run_file(cards, source="hp-kasir")
    rudi = Customer.objects.get(full_name="Rudi Hartono")
    assert (rudi.given_name, rudi.family_name) == ("Rudi", "Hartono")
    assert sorted(rudi.phones.values_list("number", flat=True)) == [
        "+62215551234",
        "+6281112345678",
    ]
    assert sorted(rudi.emails.values_list("email", flat=True)) == ["rudi@kantor.id", "rudi@x.id"]


def test_a_saved_mapping_is_used_for_the_next_file_of_the_source(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [["Nm", "Hp"], ["Ani", "0812-1111-2222"]])
    run = services.prepare_import(path, services.ImportSetup(source="kasir"))
    assert run.mapping == {"Nm": "", "Hp": "phone"}
    services.save_preset(services.configure(run, {"Nm": "full_name", "Hp": "phone"}, ""))
    second = services.prepare_import(path, services.ImportSetup(source="kasir"))
    assert second.mapping == {"Nm": "full_name", "Hp": "phone"}
    other = services.prepare_import(path, services.ImportSetup(source="toko"))
    assert other.mapping["Nm"] == ""


def test_bad_options_are_refused_naming_the_option(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [["Nama"], ["Ani"]])
    for setup, field in [
        (services.ImportSetup(source=" "), "source"),
        (services.ImportSetup(id_column="Kode"), "id_column"),
        (services.ImportSetup(mapping={"Nama": "nick"}), "mapping.Nama"),
        (services.ImportSetup(kind="invoices"), "kind"),
    ]:
        with pytest.raises(InvalidValue) as caught:
            services.prepare_import(path, setup)
        assert caught.value.field == field
    assert not Import.objects.exists()
