"""Imports: set one up from a file, run it (now or in the background), report on it, undo it.

The CLI, the web wizard and the background worker all call these functions.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any, Protocol, TextIO, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.customers import custom_fields
from kenal.customers.models import SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.ingest import mapping as mappings
from kenal.ingest import readers
from kenal.ingest.customer_rows import CleanBatch, Counts, CustomerRowWriter, RowCleaner
from kenal.ingest.models import Import, ImportKind, MappingPreset
from kenal.ingest.order_rows import OrderRowWriter
from kenal.ingest.readers import FileInfo, Row
from kenal.ingest.tasks import run_import_task
from kenal.privacy.services import ConsentDeclaration, parse_declaration

__all__ = [
    "BATCH_SIZE",
    "ImportSetup",
    "Problem",
    "cancel_import",
    "first_rows",
    "inspect_file",
    "prepare_import",
    "problems",
    "queue_import",
    "rejected_rows",
    "run_import",
    "save_preset",
    "sheets",
    "store_upload",
    "write_rejected_csv",
]

BATCH_SIZE = 2000
# Batches the cleaning process may get ahead of the writer: enough to keep both busy, few
# enough that memory stays flat whatever the file's size.
CLEANED_AHEAD = 4
Batch = TypeVar("Batch")
NO_CONSENT_INFORMATION = ConsentDeclaration()
UPLOADS = "imports"


class RowWriter(Protocol):
    def write(self, rows: list[tuple[int, Row]]) -> Counts: ...


@dataclass(frozen=True)
class ImportSetup:
    """Everything an import needs besides the file; checked by :func:`prepare_import`."""

    kind: str = ImportKind.CUSTOMERS
    source: str = "import"
    sheet: str = ""
    mapping: Mapping[str, str] | None = None  # None: the source's preset, else automatic
    id_column: str = ""
    consent: ConsentDeclaration = NO_CONSENT_INFORMATION
    dry_run: bool = False
    actor: User | None = None


# --- setting up -----------------------------------------------------------------------------


def store_upload(chunks: Iterable[bytes], file_name: str) -> Path:
    """Keep an uploaded file in the data folder, so a queued import can read it later."""
    folder = Path(settings.DATA_DIR) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{uuid.uuid4().hex}{Path(file_name).suffix.lower()[:10]}"
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return path


def inspect_file(path: Path, file_name: str = "", sheet: str = "") -> FileInfo:
    return readers.inspect(path, file_name or path.name, sheet)


def prepare_import(path: Path, setup: ImportSetup, file_name: str = "") -> Import:
    """Read the file's shape and settle the mapping; the import is saved, ready to run.

    Raises :class:`InvalidValue` naming the option at fault (source, sheet, mapping, id
    column, consent) before anything is written.
    """
    source = setup.source.strip()
    if not source or len(source) > 100:
        raise InvalidValue("source", setup.source, _("a name for the channel, 1 to 100 characters"))
    if setup.kind not in ImportKind.values:
        raise InvalidValue("kind", setup.kind, ", ".join(ImportKind.values))
    info = inspect_file(path, file_name, setup.sheet)
    if not info.columns:
        raise InvalidValue("file", file_name or path.name, _("a header row naming the columns"))
    fields = list(custom_fields.active_fields())
    mapping = setup.mapping
    id_column = setup.id_column
    if mapping is None:
        preset = MappingPreset.objects.filter(source=source, kind=setup.kind).first()
        if preset is not None:
            mapping = {key: value for key, value in preset.mapping.items() if key in info.columns}
            id_column = id_column or (preset.id_column if preset.id_column in info.columns else "")
    checked = mappings.check_mapping(
        mapping or {},
        info.columns,
        setup.kind,
        fields,
        mappings.auto_mapping(info.columns, setup.kind, fields),
    )
    if id_column and id_column not in info.columns:
        expected = _("a column of the file: %(columns)s") % {"columns": ", ".join(info.columns)}
        raise InvalidValue("id_column", id_column, expected)
    return Import.objects.create(
        kind=setup.kind,
        source=source,
        file_name=file_name or path.name,
        file_path=str(path),
        file_format=info.file_format,
        sheet=info.sheet,
        encoding=info.encoding,
        delimiter=info.delimiter,
        columns=info.columns,
        mapping=checked,
        id_column=id_column,
        consent=setup.consent.as_dict() if not setup.consent.is_empty else {},
        dry_run=setup.dry_run,
        total_rows=info.total_rows,
        created_by=setup.actor,
    )


def configure(run: Import, mapping: Mapping[str, str], id_column: str) -> Import:
    """Change a set-up import's mapping and id column (the wizard's mapping step)."""
    fields = list(custom_fields.active_fields())
    checked = mappings.check_mapping(mapping, run.columns, run.kind, fields)
    if id_column and id_column not in run.columns:
        expected = _("a column of the file: %(columns)s") % {"columns": ", ".join(run.columns)}
        raise InvalidValue("id_column", id_column, expected)
    run.mapping, run.id_column = checked, id_column
    run.save(update_fields=["mapping", "id_column"])
    return run


def save_preset(run: Import) -> MappingPreset:
    """Remember the import's mapping for the next file from the same source."""
    preset, _created = MappingPreset.objects.update_or_create(
        source=run.source,
        kind=run.kind,
        defaults={"mapping": run.mapping, "id_column": run.id_column},
    )
    return preset


def load_mapping_file(path: Path) -> dict[str, str]:
    """A mapping saved as JSON: ``{"column header": "target", …}``."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise InvalidValue("mapping", str(path), _("a JSON file of column → field")) from exc
    if not isinstance(loaded, dict) or not all(
        isinstance(key, str) and isinstance(value, str | None) for key, value in loaded.items()
    ):
        raise InvalidValue("mapping", str(path), _("a JSON object of column → field"))
    return {key: value or "" for key, value in loaded.items()}


def consent_from_options(
    statuses: Iterable[str], method: str = "", wording: str = ""
) -> ConsentDeclaration:
    """``purpose=status`` pairs (``marketing_email=granted``) as a checked declaration."""
    pairs: dict[str, str] = {}
    for item in statuses:
        purpose, sep, status = item.partition("=")
        if not sep:
            raise InvalidValue("consent", item, _("purpose=status, e.g. marketing_email=granted"))
        pairs[purpose.strip()] = status.strip()
    return parse_declaration(pairs, method, wording)


# --- running --------------------------------------------------------------------------------


class _DryRunRollback(Exception):
    """Raised inside a dry run's transaction so nothing it wrote stays."""


def run_import(run: Import, progress: Callable[[Import], None] | None = None) -> Import:
    """Read and write every row, batch by batch; progress is saved after each batch.

    A cancel request is honoured between batches (what was written stays, and can be
    reverted). A dry run does all the work in a transaction that is rolled back.
    """
    run.status, run.started_at, run.error = Import.Status.RUNNING, timezone.now(), ""
    run.save(update_fields=["status", "started_at", "error"])
    totals = Counts()
    try:
        if run.dry_run:
            try:
                with transaction.atomic():
                    _run_batches(run, totals, progress)
                    raise _DryRunRollback
            except _DryRunRollback:
                pass
        else:
            _run_batches(run, totals, progress)
    except Exception as exc:
        _finish(run, totals, Import.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    cancelled = Import.objects.filter(pk=run.pk, cancel_requested=True).exists()
    _finish(run, totals, Import.Status.CANCELLED if cancelled else Import.Status.DONE)
    return run


def _rows(run: Import) -> Iterator[tuple[int, Row]]:
    """The import's rows, read as inspecting the file found them (no second detection)."""
    info = FileInfo(
        file_format=run.file_format,
        columns=run.columns,
        sheet=run.sheet,
        encoding=run.encoding,
        delimiter=run.delimiter,
    )
    return readers.read_rows(Path(run.file_path), info)


def sheets(run: Import) -> list[str]:
    """The workbook's sheets (none for CSV and vCard), to let the user pick another."""
    if run.file_format != "xlsx":
        return []
    return readers.sheet_names(Path(run.file_path), run.file_name)


def first_rows(run: Import, count: int) -> list[Row]:
    """The first ``count`` rows, for a preview: reads no further into the file."""
    return [row for _number, row in islice(_rows(run), count)]


def _run_batches(run: Import, totals: Counts, progress: Callable[[Import], None] | None) -> None:
    writer = _writer(run)
    batches = _batches(_rows(run))
    if (
        isinstance(writer, CustomerRowWriter)
        and (run.total_rows or 0) > BATCH_SIZE
        and threading.active_count() == 1
    ):
        # Cleaning (phone numbers above all) costs as much as matching and writing: a second
        # process reads and cleans the next batches while this one writes. Only forked from
        # a single-threaded process (the CLI, the standalone worker): a lock another thread
        # holds at the fork would stay locked in the child for ever.
        for batch in _cleaned_elsewhere(writer.cleaner, batches):
            if not _write(run, totals, progress, batch.last_number, writer.write_clean, batch):
                return
    else:
        for rows in batches:
            if not _write(run, totals, progress, rows[-1][0], writer.write, rows):
                return


def _write(
    run: Import,
    totals: Counts,
    progress: Callable[[Import], None] | None,
    last_number: int,
    write: Callable[[Batch], Counts],
    batch: Batch,
) -> bool:
    """Write one batch in its own transaction; False when the import was cancelled."""
    if Import.objects.filter(pk=run.pk, cancel_requested=True).exists():
        return False
    with transaction.atomic():
        totals.add(write(batch))
        run.rows_done = last_number
        _store_counts(run, totals)
        Import.objects.filter(pk=run.pk).update(rows_done=run.rows_done, **_count_fields(totals))
    if progress is not None:
        progress(run)
    return True


def _batches(rows: Iterator[tuple[int, Row]]) -> Iterator[list[tuple[int, Row]]]:
    while batch := list(islice(rows, BATCH_SIZE)):
        yield batch


def _cleaned_elsewhere(
    cleaner: RowCleaner, batches: Iterator[list[tuple[int, Row]]]
) -> Iterator[CleanBatch]:
    """The batches, read and cleaned in a forked process, in order.

    The child inherits the set-up Django, the cleaner (custom field definitions included) and
    the unread file iterator; it never uses the database connection. It is stopped when the
    caller stops early (a cancel, an error).
    """
    context = multiprocessing.get_context("fork")
    results: Queue[tuple[str, Any]] = context.Queue(maxsize=CLEANED_AHEAD)
    child = context.Process(target=_clean_batches, args=(cleaner, batches, results), daemon=True)
    child.start()
    try:
        while True:
            try:
                kind, item = results.get(timeout=1)
            except queue.Empty:
                if child.is_alive():
                    continue
                # It flushes everything it sent before exiting: a last look, then it is lost.
                try:
                    kind, item = results.get(timeout=1)
                except queue.Empty:
                    raise RuntimeError(
                        f"the cleaning process stopped (exit code {child.exitcode})"
                    ) from None
            if kind == "error":
                raise item
            if kind == "done":
                return
            yield item
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        results.close()


def _clean_batches(
    cleaner: RowCleaner,
    batches: Iterator[list[tuple[int, Row]]],
    results: Queue[tuple[str, Any]],
) -> None:
    try:
        for batch in batches:
            results.put(("batch", cleaner(batch)))
    except Exception as exc:  # handed to the writing process, which raises it
        results.put(("error", exc))
    else:
        results.put(("done", None))
    results.close()
    results.join_thread()


def _writer(run: Import) -> RowWriter:
    declaration = parse_declaration(
        run.consent.get("statuses", {}),
        run.consent.get("method", ""),
        run.consent.get("wording", ""),
    )
    if run.kind == ImportKind.ORDERS:
        return OrderRowWriter(run, declaration=declaration, actor=run.created_by)
    return CustomerRowWriter(run, declaration=declaration, actor=run.created_by)


def _count_fields(totals: Counts) -> dict[str, int]:
    return {
        "created_count": totals.created,
        "updated_count": totals.updated,
        "merged_count": totals.merged,
        "unchanged_count": totals.unchanged,
        "rejected_count": totals.rejected,
        "empty_count": totals.empty,
    }


def _store_counts(run: Import, totals: Counts) -> None:
    for name, value in _count_fields(totals).items():
        setattr(run, name, value)


def _finish(run: Import, totals: Counts, status: str, error: str = "") -> None:
    _store_counts(run, totals)
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save()


def queue_import(run: Import) -> Import:
    """Hand the import to the background worker."""
    run.status = Import.Status.QUEUED
    run.save(update_fields=["status"])
    transaction.on_commit(lambda: run_import_task.enqueue(run.pk))
    return run


def cancel_import(run: Import) -> Import:
    """Ask a queued or running import to stop after its current batch."""
    if run.is_finished:
        raise InvalidValue("status", run.get_status_display(), _("an import still running"))
    Import.objects.filter(pk=run.pk).update(cancel_requested=True)
    if run.status in (Import.Status.DRAFT, Import.Status.QUEUED):
        # Nothing has been written: it can stop at once.
        run.status, run.finished_at = Import.Status.CANCELLED, timezone.now()
        run.save(update_fields=["status", "finished_at"])
    run.cancel_requested = True
    return run


# --- reporting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: int | None
    field: str
    value: str
    reason: str


def rejected_rows(run: Import) -> QuerySet[SourceRecord]:
    return SourceRecord.objects.filter(
        batch_id=run.batch_id, status=SourceRecord.Status.REJECTED
    ).order_by("row_number", "id")


def problems(run: Import) -> Iterator[Problem]:
    """Every problem of every rejected row: row number, field, value and reason."""
    for record in rejected_rows(run).iterator(chunk_size=2000):
        for error in record.errors:
            yield Problem(
                record.row_number,
                error.get("field", ""),
                error.get("value", ""),
                error.get("expected", ""),
            )


def error_text(errors: list[dict[str, Any]]) -> str:
    return "; ".join(
        _("%(field)s: %(value)r — expected %(expected)s")
        % {
            "field": error.get("field"),
            "value": error.get("value"),
            "expected": error.get("expected"),
        }
        for error in errors
    )


def write_rejected_csv(run: Import, out: TextIO) -> int:
    """The rejected rows in the file's own columns plus ``error``: fix them and import again."""
    columns = list(run.columns)
    writer = csv.writer(out, delimiter=run.delimiter or ",")
    writer.writerow([*columns, "error"])
    count = 0
    for record in rejected_rows(run).iterator(chunk_size=2000):
        writer.writerow(
            [*(record.data.get(column, "") for column in columns), error_text(record.errors)]
        )
        count += 1
    return count
