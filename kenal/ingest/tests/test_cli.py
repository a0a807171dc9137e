"""`kenal import`: every option and action, as a user at a terminal sees them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kenal.customers.models import Customer
from kenal.ingest.models import Import, MappingPreset
from kenal.ingest.tests.files import write_csv
from kenal.privacy.models import ConsentRecord

pytestmark = pytest.mark.django_db


def kenal_import(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, "--no-progress", stdout=out)
    return out.getvalue()


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "toko.csv",
        [
            ["Kode", "Nama Pembeli", "WA", "Catatan"],
            ["A1", "Budi", "0812-3456-7890", "langganan"],
            ["A2", "Siti", "nomor salah", ""],
        ],
    )


def test_import_prints_the_mapping_and_the_report(shop: Path) -> None:
    output = kenal_import(str(shop), "--source", "toko", "--id-column", "Kode")
    assert "Nama Pembeli → full_name" in output
    assert "WA → phone" in output
    assert "not imported (kept as received): Kode, Catatan" in output
    assert "created 1" in output
    assert "rejected 1" in output
    assert "row 2: phones[0].number 'nomor salah'" in output
    run = Import.objects.get()
    assert (run.source, run.id_column) == ("toko", "Kode")


def test_the_source_defaults_to_the_file_name(shop: Path) -> None:
    kenal_import(str(shop))
    assert Import.objects.get().source == "toko"


def test_a_mapping_file_and_a_saved_preset(shop: Path, tmp_path: Path) -> None:
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(json.dumps({"Catatan": "job_title"}), encoding="utf-8")
    kenal_import(str(shop), "--source", "kasir", "--mapping", str(mapping_file), "--save-mapping")
    assert Customer.objects.get().job_title == "langganan"
    assert MappingPreset.objects.get(source="kasir").mapping["Catatan"] == "job_title"
    output = kenal_import(str(shop), "--source", "lain", "--mapping", "kasir")
    assert "Catatan → job_title" in output
    with pytest.raises(CommandError, match="neither a JSON file nor a saved preset"):
        kenal_import(str(shop), "--mapping", "tidak-ada")


def test_dry_run_changes_nothing(shop: Path) -> None:
    output = kenal_import(str(shop), "--dry-run")
    assert "dry run" in output
    assert "created 1" in output
    assert not Customer.objects.exists()


def test_consent_options(shop: Path) -> None:
    kenal_import(
        str(shop),
        "--consent",
        "marketing_whatsapp=granted",
        "--consent-method",
        "Formulir kertas",
    )
    record = ConsentRecord.objects.get()
    assert (record.purpose, record.status, record.method) == (
        "marketing_whatsapp",
        "granted",
        "Formulir kertas",
    )
    with pytest.raises(CommandError, match=r"consent\.method"):
        kenal_import(str(shop), "--consent", "marketing_email=granted")
    with pytest.raises(CommandError, match="purpose=status"):
        kenal_import(str(shop), "--consent", "marketing_email")


def test_list_report_rejected_and_revert(shop: Path, tmp_path: Path) -> None:
    kenal_import(str(shop))
    run = Import.objects.get()
    assert f"#{run.pk}" in kenal_import("list")
    assert "nomor salah" in kenal_import("report", str(run.pk))
    out = tmp_path / "ditolak.csv"
    assert "1 rejected rows written" in kenal_import("rejected", str(run.pk), str(out))
    content = out.read_text(encoding="utf-8-sig").splitlines()
    assert content[0] == "Kode,Nama Pembeli,WA,Catatan,error"
    assert content[1].startswith("A2,Siti,nomor salah,,")
    assert "1 customers and 0 orders removed" in kenal_import("revert", str(run.pk))
    assert not Customer.objects.exists()
    with pytest.raises(CommandError, match="has not been reverted"):
        kenal_import("revert", str(run.pk))


def test_mistakes_are_named(shop: Path) -> None:
    with pytest.raises(CommandError, match="is not a file"):
        kenal_import("missing.csv")
    with pytest.raises(CommandError, match="no import #99"):
        kenal_import("revert", "99")
    with pytest.raises(CommandError, match="id_column"):
        kenal_import(str(shop), "--id-column", "Nomor")
    kenal_import(str(shop))
    with pytest.raises(CommandError, match="an import still running"):
        kenal_import("cancel", str(Import.objects.get().pk))


def test_the_progress_bar_shows_rows_per_second_and_time_left(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("import", str(shop), stdout=io.StringIO())
    bar = capsys.readouterr().err
    assert "2/2" in bar
    assert "rows/s" in bar
    assert "<00:00" in bar  # the estimated time left
