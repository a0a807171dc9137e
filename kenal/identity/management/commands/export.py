from __future__ import annotations

import csv
import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError

from kenal.customers.models import SourceRecord
from kenal.identity.links import source_links

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

WHAT = ("links",)


class Command(BaseCommand):
    help = (
        "Export data as CSV.\n"
        "`kenal export links --source NAME [--output FILE]` writes source_id,customer_id: each "
        "record imported from the source with its own id (--id-column) and the customer it "
        "belongs to now, after matching and merges. Compare it with the ids you know belong "
        "together to measure matching."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("what", choices=WHAT, help="What to export.")
        parser.add_argument("--source", required=True, help="The source the records came from.")
        parser.add_argument(
            "--output", type=Path, default=None, help="The CSV file to write (default: stdout)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        if not SourceRecord.objects.filter(source=source).exists():
            # Ordered by the source alone: the default ordering would make DISTINCT see
            # every record as different.
            known = ", ".join(
                SourceRecord.objects.order_by("source").values_list("source", flat=True).distinct()
            )
            raise CommandError(
                f"--source: no records come from {source!r} (sources: {known or 'none'})"
            )
        output: Path | None = options["output"]
        if output is None:
            try:
                self._write(source, self.stdout)
            except BrokenPipeError:
                # The reader stopped early (`| head`), which is no error. Python would report
                # it again when flushing stdout at exit, so what is left goes nowhere.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        # Plain UTF-8 without a byte order mark: the file is read by scripts, not Excel, and a
        # mark would become part of the first header for most CSV readers.
        try:
            with output.open("w", encoding="utf-8", newline="") as out:
                count = self._write(source, out)
        except OSError as exc:
            raise CommandError(f"--output: cannot write {str(output)!r}: {exc.strerror}") from exc
        self.stdout.write(f"{count} links of source {source!r} written to {output}")

    def _write(self, source: str, out: SupportsWrite[str]) -> int:
        writer = csv.writer(out)
        writer.writerow(["source_id", "customer_id"])
        count = 0
        for external_id, customer_id in source_links(source):
            writer.writerow([external_id, customer_id])
            count += 1
        return count
