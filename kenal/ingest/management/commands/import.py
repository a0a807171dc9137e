from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.timezone import localtime
from tqdm import tqdm

from kenal.customers.normalise import InvalidValue
from kenal.ingest import services
from kenal.ingest.models import Import, ImportKind, MappingPreset
from kenal.ingest.revert import revert_import
from kenal.privacy.models import ConsentStatus, Purpose

ACTIONS = ("revert", "list", "report", "rejected", "cancel")
PROBLEMS_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Import customers or orders from a CSV, XLSX or vCard file; or manage imports.\n"
        "  kenal import FILE [options]      import (columns mapped by their headers)\n"
        "  kenal import list                the latest imports\n"
        "  kenal import report ID           counts and every problem (row, field, value)\n"
        "  kenal import rejected ID [OUT]   the rejected rows as CSV, with an error column\n"
        "  kenal import revert ID           remove what the import created, restore what it "
        "changed\n"
        "  kenal import cancel ID           stop a queued or running import"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("target", help="The file to import, or one of: " + ", ".join(ACTIONS))
        parser.add_argument("args", nargs="*", help="The import id (and output file).")
        parser.add_argument(
            "--source", default=None, help="The channel or app the data comes from (file name)."
        )
        parser.add_argument(
            "--kind", choices=ImportKind.values, default=ImportKind.CUSTOMERS, help="What rows are."
        )
        parser.add_argument("--sheet", default="", help="XLSX sheet to read (default: the first).")
        parser.add_argument("--id-column", default="", help="Column holding the source's own id.")
        parser.add_argument(
            "--mapping",
            default=None,
            help="A JSON file of {column: field}, or the name of a source whose saved mapping "
            "to use (default: the source's saved mapping, else by header).",
        )
        parser.add_argument(
            "--save-mapping",
            action="store_true",
            help="Save this import's mapping as the source's preset.",
        )
        parser.add_argument(
            "--consent",
            action="append",
            default=[],
            metavar="PURPOSE=STATUS",
            help=f"What the people agreed to (repeatable). Purposes: {', '.join(Purpose.values)};"
            f" statuses: {', '.join(ConsentStatus.values)}.",
        )
        parser.add_argument("--consent-method", default="", help="How the consent was obtained.")
        parser.add_argument("--consent-wording", default="", help="The wording people agreed to.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report; change nothing."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        target: str = options["target"]
        try:
            if target in ACTIONS and not Path(target).exists():
                getattr(self, f"_{target}")(*args)
            else:
                self._import(Path(target), options)
        except InvalidValue as exc:
            raise CommandError(str(exc)) from exc

    # --- importing --------------------------------------------------------------------------

    def _import(self, path: Path, options: dict[str, Any]) -> None:
        if not path.is_file():
            raise CommandError(f"FILE: {str(path)!r} is not a file")
        setup = services.ImportSetup(
            kind=options["kind"],
            source=options["source"] or path.stem,
            sheet=options["sheet"],
            mapping=self._mapping(options["mapping"], options["kind"]),
            id_column=options["id_column"],
            consent=services.consent_from_options(
                options["consent"], options["consent_method"], options["consent_wording"]
            ),
            dry_run=options["dry_run"],
        )
        run = services.prepare_import(path, setup, path.name)
        if options["save_mapping"]:
            services.save_preset(run)
        self._describe(run)
        bar = None
        if not options["no_progress"]:
            # tqdm's monitor thread would make the import skip its forked cleaning process,
            # which is only used by single-threaded processes.
            tqdm.monitor_interval = 0
            bar = tqdm(total=run.total_rows, unit=" rows", file=sys.stderr, smoothing=0.1)
        done = 0

        def progress(current: Import) -> None:
            nonlocal done
            if bar is not None:
                bar.update(current.rows_done - done)
            done = current.rows_done

        try:
            services.run_import(run, progress)
        finally:
            if bar is not None:
                bar.close()
        self._print_report(run)

    def _mapping(self, value: str | None, kind: str) -> dict[str, str] | None:
        if value is None:
            return None
        path = Path(value)
        if path.is_file():
            return services.load_mapping_file(path)
        preset = MappingPreset.objects.filter(source=value, kind=kind).first()
        if preset is None:
            known = ", ".join(MappingPreset.objects.values_list("source", flat=True)) or "none"
            raise CommandError(
                f"--mapping: {value!r} is neither a JSON file nor a saved preset (presets: {known})"
            )
        return dict(preset.mapping)

    def _describe(self, run: Import) -> None:
        mapped = {column: target for column, target in run.mapping.items() if target}
        ignored = [column for column, target in run.mapping.items() if not target]
        self.stdout.write(
            f"Import #{run.pk}: {run.file_name} ({run.get_file_format_display()}"
            f"{', ' + run.encoding if run.encoding else ''}"
            f"{', sheet ' + run.sheet if run.sheet else ''}), {run.total_rows} rows, "
            f"source {run.source!r}{' — dry run, nothing is saved' if run.dry_run else ''}"
        )
        for column, target in mapped.items():
            self.stdout.write(f"  {column} → {target}")
        if ignored:
            self.stdout.write(f"  not imported (kept as received): {', '.join(ignored)}")

    # --- managing ---------------------------------------------------------------------------

    def _get(self, *args: str) -> Import:
        if not args or not args[0].isdigit():
            raise CommandError("ID: expected the number of an import (kenal import list)")
        run = Import.objects.filter(pk=int(args[0])).first()
        if run is None:
            raise CommandError(f"ID: there is no import #{args[0]}")
        return run

    def _list(self, *args: str) -> None:
        for run in Import.objects.all()[:50]:
            self.stdout.write(
                f"#{run.pk:<5} {localtime(run.created_at):%Y-%m-%d %H:%M}  "
                f"{run.get_status_display():<14} "
                f"{run.kind:<9} {run.source:<16} {run.file_name}  "
                f"created {run.created_count}, updated {run.updated_count}, "
                f"rejected {run.rejected_count}"
            )

    def _report(self, *args: str) -> None:
        self._print_report(self._get(*args))

    def _print_report(self, run: Import) -> None:
        self.stdout.write(
            f"Import #{run.pk} {run.get_status_display().lower()}: "
            f"{run.rows_done} of {run.total_rows} rows — created {run.created_count}, "
            f"updated {run.updated_count}, merged within the file {run.merged_count}, "
            f"unchanged {run.unchanged_count}, rejected {run.rejected_count}, "
            f"empty rows skipped {run.empty_count}"
            + (" (dry run: nothing was saved)" if run.dry_run else "")
        )
        if run.error:
            self.stderr.write(f"Error: {run.error}")
        for shown, problem in enumerate(services.problems(run)):
            if shown == PROBLEMS_SHOWN:
                self.stdout.write(f"  … see all: kenal import rejected {run.pk} rejected.csv")
                break
            self.stdout.write(
                f"  row {problem.row}: {problem.field} {problem.value!r} — expected "
                f"{problem.reason}"
            )

    def _rejected(self, *args: str) -> None:
        run = self._get(*args)
        if len(args) > 1:
            with open(args[1], "w", encoding="utf-8-sig", newline="") as out:
                count = services.write_rejected_csv(run, out)
            self.stdout.write(f"{count} rejected rows written to {args[1]}")
        else:
            services.write_rejected_csv(run, sys.stdout)

    def _revert(self, *args: str) -> None:
        run = self._get(*args)
        result = revert_import(run)
        self.stdout.write(
            f"Import #{run.pk} reverted: {result.removed_customers} customers and "
            f"{result.removed_orders} orders removed, {result.restored} values restored."
        )
        for conflict in result.conflicts:
            self.stdout.write(
                f"  kept: customer #{conflict['customer']} ({conflict['name']}) "
                f"{conflict['field']} = {conflict['current']!r}, changed since the import "
                f"set {conflict['imported']!r}"
            )

    def _cancel(self, *args: str) -> None:
        run = services.cancel_import(self._get(*args))
        self.stdout.write(f"Import #{run.pk}: {run.get_status_display().lower()}, stopping.")
