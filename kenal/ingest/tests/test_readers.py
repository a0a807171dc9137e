"""Files are read as their programs wrote them: any delimiter, encoding, sheet or contact card."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from kenal.customers.normalise import InvalidValue
from kenal.ingest import readers
from kenal.ingest.tests.files import write_csv, write_vcf, write_xlsx

HEADER = ["Nama", "No HP", "Kota"]
ROWS = [["José Ramírez", "0812-3456-7890", "Bandung"], ["Siti", "0813 1111 2222", "Depok"]]


def rows_of(path: Path, sheet: str = "") -> tuple[readers.FileInfo, list[dict[str, str]]]:
    info = readers.inspect(path, sheet=sheet)
    return info, [row for _number, row in readers.read_rows(path, info)]


@pytest.mark.parametrize(
    ("delimiter", "encoding", "bom", "expected_encoding"),
    [
        (",", "utf-8", False, "utf-8"),
        (";", "utf-8", True, "utf-8-sig"),
        ("\t", "utf-8", False, "utf-8"),
        ("|", "utf-8", False, "utf-8"),
        (";", "cp1252", False, "cp1252"),
    ],
)
def test_csv_delimiters_and_encodings_are_detected(
    tmp_path: Path, delimiter: str, encoding: str, bom: bool, expected_encoding: str
) -> None:
    path = write_csv(
        tmp_path / "pelanggan.csv", [HEADER, *ROWS], delimiter=delimiter, encoding=encoding, bom=bom
    )
    info, rows = rows_of(path)
    assert (info.file_format, info.delimiter, info.encoding) == (
        "csv",
        delimiter,
        expected_encoding,
    )
    assert info.columns == HEADER
    assert rows[0] == {"Nama": "José Ramírez", "No HP": "0812-3456-7890", "Kota": "Bandung"}
    assert info.total_rows == 2


def test_latin1_text_that_is_not_utf8_still_reads_its_accents(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("Name,City\nFrançois Müller,Zürich\n".encode("latin-1"))
    _info, rows = rows_of(path)
    assert rows == [{"Name": "François Müller", "City": "Zürich"}]


def test_quoted_cells_keep_delimiters_and_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('Nama,Alamat\n"Budi","Jl. Merdeka 1,\nRT 02"\n', encoding="utf-8")
    _info, rows = rows_of(path)
    assert rows == [{"Nama": "Budi", "Alamat": "Jl. Merdeka 1,\nRT 02"}]


def test_duplicate_and_blank_headers_become_distinct_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [["Phone", "Phone", ""], ["1", "2", "3"]])
    info, rows = rows_of(path)
    assert info.columns == ["Phone", "Phone (2)", "Column 3"]
    assert rows == [{"Phone": "1", "Phone (2)": "2", "Column 3": "3"}]


def test_cells_beyond_the_header_are_kept_not_dropped(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [["Nama"], ["Budi", "catatan"]])
    _info, rows = rows_of(path)
    assert rows == [{"Nama": "Budi", "Column 2": "catatan"}]


def test_every_xlsx_sheet_is_selectable_and_cells_read_as_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "data.xlsx",
        {
            "Ringkasan": [["Total", 2]],
            "Pelanggan": [
                ["Nama", "No HP", "Tanggal Lahir", "Poin"],
                ["Budi", 81234567890, datetime.datetime(1990, 5, 12), 12.5],
            ],
        },
    )
    info = readers.inspect(path)
    assert info.sheets == ["Ringkasan", "Pelanggan"]
    assert info.sheet == "Ringkasan"
    info, rows = rows_of(path, sheet="Pelanggan")
    assert info.columns == ["Nama", "No HP", "Tanggal Lahir", "Poin"]
    assert rows == [
        {"Nama": "Budi", "No HP": "81234567890", "Tanggal Lahir": "1990-05-12", "Poin": "12.5"}
    ]


def test_an_unknown_sheet_is_refused_with_the_sheets_there_are(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "data.xlsx", {"Pelanggan": [["Nama"]]})
    with pytest.raises(InvalidValue) as caught:
        readers.inspect(path, sheet="Sheet9")
    assert caught.value.field == "sheet"
    assert "Pelanggan" in caught.value.expected


def test_vcards_with_several_phones_and_emails(tmp_path: Path) -> None:
    path = write_vcf(
        tmp_path / "contacts.vcf",
        [
            "BEGIN:VCARD",
            "VERSION:3.0",
            "FN:Budi Santoso",
            "N:Santoso;Budi;;;",
            "TEL;TYPE=CELL:0812-3456-7890",
            "TEL;TYPE=WORK:+62 21 555 1234",
            "EMAIL;TYPE=HOME:budi@contoh.id",
            "EMAIL;TYPE=WORK:budi@kantor.co.id",
            "ORG:Toko Maju",
            "END:VCARD",
            "BEGIN:VCARD",
            "VERSION:3.0",
            "FN:Siti",
            "TEL:0813 1111 2222",
            "END:VCARD",
        ],
    )
    info, rows = rows_of(path)
    assert info.file_format == "vcf"
    assert {"TEL", "TEL 2", "EMAIL", "EMAIL 2"} <= set(info.columns)
    assert rows[0]["FN"] == "Budi Santoso"
    assert (rows[0]["N.given"], rows[0]["N.family"]) == ("Budi", "Santoso")
    assert (rows[0]["TEL"], rows[0]["TEL 2"]) == ("0812-3456-7890", "+62 21 555 1234")
    assert (rows[0]["EMAIL"], rows[0]["EMAIL 2"]) == ("budi@contoh.id", "budi@kantor.co.id")
    assert rows[0]["ORG"] == "Toko Maju"
    assert (rows[1]["FN"], rows[1]["TEL"], rows[1]["TEL 2"]) == ("Siti", "0813 1111 2222", "")
    assert info.total_rows == 2


def test_old_excel_files_are_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(InvalidValue) as caught:
        readers.inspect(path)
    assert ".xlsx" in caught.value.expected


def test_a_damaged_workbook_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rusak.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InvalidValue) as caught:
        readers.inspect(path)
    assert (caught.value.field, caught.value.value) == ("file", "rusak.xlsx")
