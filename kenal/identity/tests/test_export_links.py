"""`kenal export links`: each record of a source and the customer it belongs to now."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError

from kenal.customers.models import Customer, SourceRecord
from kenal.identity import links, services
from kenal.identity.merging import merge_customers, unmerge
from kenal.identity.tests.helpers import kenal
from kenal.ingest.tests.files import write_csv

pytestmark = pytest.mark.django_db


def read_links(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def imported(tmp_path: Path) -> dict[str, int]:
    """Four people from the source "toko", one refused row and one row without an id."""
    shop = write_csv(
        tmp_path / "toko.csv",
        [
            ["id", "nama", "email", "no_hp"],
            ["T1", "Budi Santoso", "budi@contoh.co.id", "0812-1111-2222"],
            ["T2", "Siti Aminah", "siti@contoh.co.id", "0813-3333-4444"],
            ["T3", "Agus Setiawan", "agus@contoh.co.id", "0821-5555-6666"],
            ["T4", "Dewi Lestari", "dewi@contoh.co.id", "0852-7777-8888"],
            ["T5", "Rina Wati", "", "nomor salah"],
            ["", "Eko Prasetyo", "eko@contoh.co.id", "0857-9999-0000"],
        ],
    )
    output = kenal("import", str(shop), "--source", "toko", "--id-column", "id", "--no-progress")
    assert "rejected 1" in output
    other = write_csv(
        tmp_path / "pos.csv", [["id", "nama", "no_hp"], ["P1", "Joko Widodo", "0811-2345-6789"]]
    )
    kenal("import", str(other), "--source", "pos", "--id-column", "id", "--no-progress")
    records = SourceRecord.objects.filter(source="toko").exclude(external_id="")
    return {
        record.external_id: record.customer_id
        for record in records
        if record.customer_id is not None
    }


def test_every_applied_record_with_an_id_and_its_customer(
    imported: dict[str, int], tmp_path: Path
) -> None:
    target = tmp_path / "links.csv"
    output = kenal("export", "links", "--source", "toko", "--output", str(target))
    assert output == f"4 links of source 'toko' written to {target}\n"
    rows = read_links(target.read_text(encoding="utf-8"))
    assert rows[0] == ["source_id", "customer_id"]
    # In the order received; the refused row, the row without an id and the other source's
    # record are left out.
    assert rows[1:] == [[key, str(imported[key])] for key in ("T1", "T2", "T3", "T4")]
    assert len(set(imported.values())) == 4


def customer(pk: int) -> Customer:
    return Customer.objects.get(pk=pk)


def test_merges_and_their_undoing_show_in_the_links(imported: dict[str, int]) -> None:
    first, second, third = (imported[key] for key in ("T1", "T2", "T3"))
    merge_customers(customer(second), customer(first), actor=None, reason="same person")
    later = merge_customers(customer(third), customer(second), actor=None, reason="same person")
    rows = read_links(kenal("export", "links", "--source", "toko"))
    assert dict(rows[1:]) == {
        "T1": str(third),
        "T2": str(third),
        "T3": str(third),
        "T4": str(imported["T4"]),
    }
    unmerge(later, actor=None)
    rows = read_links(kenal("export", "links", "--source", "toko"))
    assert dict(rows[1:]) == {
        "T1": str(second),
        "T2": str(second),
        "T3": str(third),
        "T4": str(imported["T4"]),
    }


def test_a_merged_customer_is_followed_to_the_survivor(imported: dict[str, int]) -> None:
    # A merge moves the records to the survivor; set directly, they stay on the merged
    # customers, and the export follows the chain T1 → T2 → T3.
    Customer.objects.filter(pk=imported["T1"]).update(merged_into=imported["T2"])
    Customer.objects.filter(pk=imported["T2"]).update(merged_into=imported["T3"])
    rows = read_links(kenal("export", "links", "--source", "toko"))
    assert dict(rows[1:]) == {
        "T1": str(imported["T3"]),
        "T2": str(imported["T3"]),
        "T3": str(imported["T3"]),
        "T4": str(imported["T4"]),
    }


def test_survivors_resolve_many_customers_and_stop_on_a_cycle(imported: dict[str, int]) -> None:
    first, second, third, fourth = (imported[key] for key in ("T1", "T2", "T3", "T4"))
    Customer.objects.filter(pk=first).update(merged_into=second)
    assert services.survivors([first, second, fourth]) == {
        first: second,
        second: second,
        fourth: fourth,
    }
    # A cycle cannot come from merging, but a corrupt database must not hang the export.
    Customer.objects.filter(pk=third).update(merged_into=fourth)
    Customer.objects.filter(pk=fourth).update(merged_into=third)
    assert set(services.survivors([third])) == {third}


def test_records_stream_in_chunks(
    imported: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(links, "CHUNK", 3)
    assert list(links.source_links("toko")) == [
        (key, imported[key]) for key in ("T1", "T2", "T3", "T4")
    ]


def test_an_unknown_source_names_the_known_ones(imported: dict[str, int]) -> None:
    with pytest.raises(CommandError, match=r"no records come from 'kasir' \(sources: pos, toko\)"):
        kenal("export", "links", "--source", "kasir")


def test_an_unwritable_output_is_a_clear_error(imported: dict[str, int], tmp_path: Path) -> None:
    target = tmp_path / "missing" / "links.csv"
    with pytest.raises(CommandError, match="--output: cannot write"):
        kenal("export", "links", "--source", "toko", "--output", str(target))
