"""Writing the kinds of files people import, as their programs save them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

Table = Sequence[Sequence[object]]


def write_csv(
    path: Path, rows: Table, *, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(path: Path, sheets: dict[str, Table]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


def write_vcf(path: Path, cards: Sequence[str]) -> Path:
    path.write_text("\r\n".join(cards), encoding="utf-8")
    return path
