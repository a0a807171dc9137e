"""Reading rows out of spreadsheets and contact files, streamed: never the whole file in memory.

Every reader yields ``(row number, {header: text})`` with the cell text exactly as the file
holds it (numbers and dates written out as text), so what is kept as received is faithful.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes
from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook

from kenal.customers.normalise import InvalidValue

__all__ = ["FileInfo", "detect_format", "inspect", "read_rows", "sheet_names"]

Row = dict[str, str]
SAMPLE_BYTES = 256 * 1024
DELIMITERS = ",;\t|"
# Excel, LibreOffice and Google Sheets save CSV in one of these when not in UTF-8.
FALLBACK_ENCODING = "cp1252"
VCARD_SUFFIXES = (".vcf", ".vcard")


@dataclass
class FileInfo:
    """What a file holds, found without reading it whole."""

    file_format: str  # "csv" | "xlsx" | "vcf"
    columns: list[str]
    sheets: list[str] = field(default_factory=list)
    sheet: str = ""
    encoding: str = ""
    delimiter: str = ""
    total_rows: int = 0
    sample: list[Row] = field(default_factory=list)


def detect_format(path: Path, file_name: str = "") -> str:
    name = (file_name or path.name).lower()
    with path.open("rb") as handle:
        head = handle.read(512)
    if head.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name.endswith(VCARD_SUFFIXES) or head.lstrip(b"\xef\xbb\xbf").upper().startswith(
        b"BEGIN:VCARD"
    ):
        return "vcf"
    if name.endswith(".xls") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InvalidValue(
            "file", file_name or path.name, _("a CSV, XLSX or vCard file (save .xls as .xlsx)")
        )
    return "csv"


def inspect(path: Path, file_name: str = "", sheet: str = "", sample_size: int = 5) -> FileInfo:
    """The format, encoding, delimiter, sheets, columns, row count and the first rows."""
    file_format = detect_format(path, file_name)
    info = FileInfo(file_format=file_format, columns=[])
    if file_format == "csv":
        info.encoding = detect_encoding(path)
        info.delimiter = detect_delimiter(path, info.encoding)
    elif file_format == "xlsx":
        info.sheets = sheet_names(path, file_name)
        info.sheet = sheet or info.sheets[0]
        if info.sheet not in info.sheets:
            expected = _("one of the sheets: %(sheets)s") % {"sheets": ", ".join(info.sheets)}
            raise InvalidValue("sheet", sheet, expected)
    info.columns = read_columns(path, info)
    for number, row in read_rows(path, info):
        if len(info.sample) < sample_size:
            info.sample.append(row)
        info.total_rows = number
    return info


def read_columns(path: Path, info: FileInfo) -> list[str]:
    if info.file_format == "vcf":
        return _vcard_columns(path)
    header = next(_raw_rows(path, info), [])
    return unique_headers(header)


def read_rows(path: Path, info: FileInfo) -> Iterator[tuple[int, Row]]:
    """Each data row with its number (1 = the first row after the header), blank rows too."""
    if info.file_format == "vcf":
        yield from _vcard_rows(path, info.columns)
        return
    rows = _raw_rows(path, info)
    next(rows, None)
    width = len(info.columns)
    for number, cells in enumerate(rows, start=1):
        if len(cells) > width:
            # Cells past the last header are kept under their own names, never dropped.
            extra = [f"{_('Column')} {index + 1}" for index in range(width, len(cells))]
            yield number, dict(zip([*info.columns, *extra], cells, strict=True))
        else:
            yield number, dict(zip(info.columns, cells, strict=False))


def unique_headers(cells: list[str]) -> list[str]:
    """Header texts made unique and non-empty ("Phone", "Phone (2)", "Column 3")."""
    seen: dict[str, int] = {}
    headers = []
    for index, cell in enumerate(cells):
        name = " ".join(str(cell).split()) or f"{_('Column')} {index + 1}"
        seen[name] = seen.get(name, 0) + 1
        headers.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return headers


def _raw_rows(path: Path, info: FileInfo) -> Iterator[list[str]]:
    if info.file_format == "xlsx":
        yield from _xlsx_rows(path, info.sheet)
        return
    with path.open(encoding=info.encoding, newline="") as handle:
        yield from csv.reader(handle, delimiter=info.delimiter or ",")


# --- CSV ------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else a guess."""
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            chunk = head
            while chunk:
                decoder.decode(chunk)
                chunk = handle.read(1 << 20)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    guess = from_bytes(head).best()
    # Single-byte Western text is far more likely to be Windows-1252 than the exotic
    # code pages a detector may name for short samples.
    if guess is None or guess.encoding in ("ascii", "utf_8") or not _is_latin(guess.encoding):
        return FALLBACK_ENCODING
    return str(guess.encoding)


def _is_latin(encoding: str) -> bool:
    return encoding in ("cp1252", "latin_1", "iso8859_15", "iso8859_1")


def detect_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="", errors="replace") as handle:
        sample = handle.read(SAMPLE_BYTES // 4)
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first_line = sample.splitlines()[0] if sample else ""
        counts = {delimiter: first_line.count(delimiter) for delimiter in DELIMITERS}
        best = max(counts, key=lambda delimiter: counts[delimiter])
        return best if counts[best] else ","


# --- XLSX -----------------------------------------------------------------------------------


def _workbook(path: Path, file_name: str = "") -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(path))
    except (CalamineError, ValueError) as exc:  # a damaged or mislabelled file
        raise _damaged(file_name or path.name) from exc


def _damaged(file_name: str) -> InvalidValue:
    return InvalidValue("file", file_name, _("an XLSX workbook that Excel can open"))


def sheet_names(path: Path, file_name: str) -> list[str]:
    workbook = _workbook(path, file_name)
    try:
        return list(workbook.sheet_names)
    finally:
        workbook.close()


def _xlsx_rows(path: Path, sheet: str) -> Iterator[list[str]]:
    workbook = _workbook(path)
    try:
        for cells in workbook.get_sheet_by_name(sheet).iter_rows():
            yield [cell_text(cell) for cell in cells]
    except CalamineError as exc:
        raise _damaged(path.name) from exc
    finally:
        workbook.close()


def cell_text(cell: object) -> str:
    """A spreadsheet cell as text: 81234567890.0 → "81234567890", dates in ISO form."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15:
        return str(int(cell))
    if isinstance(cell, datetime.datetime):
        return (
            cell.isoformat(sep=" ") if cell.time() != datetime.time() else cell.date().isoformat()
        )
    if isinstance(cell, datetime.date | datetime.time):
        return cell.isoformat()
    return str(cell)


# --- vCard ----------------------------------------------------------------------------------

# Columns a contact card becomes; phones and emails get one column each ("TEL", "TEL 2", …).
VCARD_FIXED = (
    "FN",
    "N.given",
    "N.family",
    "ORG",
    "TITLE",
    "BDAY",
    "ADR.street",
    "ADR.city",
    "ADR.region",
    "ADR.code",
    "ADR.country",
    "NOTE",
    "UID",
)


def _vcards(path: Path) -> Iterator[object]:
    import vobject

    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    try:
        yield from vobject.readComponents(io.StringIO(text), ignoreUnreadable=True)
    except Exception as exc:  # vobject raises its own ParseError and plain errors alike
        raise InvalidValue("file", path.name, _("a vCard file (BEGIN:VCARD … END:VCARD)")) from exc


def _vcard_columns(path: Path) -> list[str]:
    phones = emails = 0
    for card in _vcards(path):
        contents = getattr(card, "contents", {})
        phones = max(phones, len(contents.get("tel", [])))
        emails = max(emails, len(contents.get("email", [])))
    numbered = [
        *(_numbered("TEL", index) for index in range(max(phones, 1))),
        *(_numbered("EMAIL", index) for index in range(max(emails, 1))),
    ]
    return [*VCARD_FIXED[:3], *numbered, *VCARD_FIXED[3:]]


def _numbered(name: str, index: int) -> str:
    return name if index == 0 else f"{name} {index + 1}"


def _vcard_rows(path: Path, columns: list[str]) -> Iterator[tuple[int, Row]]:
    for number, card in enumerate(_vcards(path), start=1):
        contents: dict[str, list[object]] = getattr(card, "contents", {})
        row = dict.fromkeys(columns, "")
        row["FN"] = _line_text(contents, "fn")
        if names := contents.get("n"):
            value = getattr(names[0], "value", None)
            row["N.given"] = " ".join(
                part
                for part in (getattr(value, "given", ""), getattr(value, "additional", ""))
                if part
            )
            row["N.family"] = str(getattr(value, "family", "") or "")
        for key, name in (("tel", "TEL"), ("email", "EMAIL")):
            for index, line in enumerate(contents.get(key, [])):
                row[_numbered(name, index)] = str(getattr(line, "value", "")).strip()
        row["ORG"] = _line_text(contents, "org")
        row["TITLE"] = _line_text(contents, "title")
        row["BDAY"] = _line_text(contents, "bday")
        row["NOTE"] = _line_text(contents, "note")
        row["UID"] = _line_text(contents, "uid")
        if addresses := contents.get("adr"):
            value = getattr(addresses[0], "value", None)
            for part, attribute in (
                ("street", "street"),
                ("city", "city"),
                ("region", "region"),
                ("code", "code"),
                ("country", "country"),
            ):
                row[f"ADR.{part}"] = str(getattr(value, attribute, "") or "").strip()
        yield number, row


def _line_text(contents: dict[str, list[object]], key: str) -> str:
    lines = contents.get(key)
    if not lines:
        return ""
    value = getattr(lines[0], "value", "")
    if isinstance(value, list):  # ORG is a list of units
        return " ".join(str(part) for part in value if part)
    return str(value).strip()
