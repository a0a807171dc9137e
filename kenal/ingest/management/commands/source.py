from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kenal.ingest.models import TrackingSource
from kenal.ingest.sources import SourceError, create_source, revoke_source


class Command(BaseCommand):
    help = (
        "Manage tracking sources (websites and apps sending Segment / RudderStack calls): "
        "create (the write key is printed once), list, revoke.\n"
        "`kenal source create NAME` prints the new write key alone on standard output (the "
        "notes go to standard error), so scripts can capture it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create", help="Create a source and print its write key (only this once)."
        )
        create.add_argument("name", help="The website or app, e.g. 'online shop'.")
        actions.add_parser("list", help="List sources: name, start of the key, use, status.")
        revoke = actions.add_parser("revoke", help="Refuse a source's calls from now on.")
        revoke.add_argument("name", help="The source's name, as `kenal source list` shows.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            self._create(options["name"])
        elif options["action"] == "list":
            self._list()
        else:
            self._revoke(options["name"])

    def _create(self, name: str) -> None:
        try:
            source, key = create_source(name)
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            f"Created tracking source {source.name!r}. Its write key is shown only this once: "
            "store it now. Send calls to /v1/ on this server (Segment's host, RudderStack's "
            "dataPlaneUrl)."
        )
        self.stdout.write(key)

    def _list(self) -> None:
        found = list(TrackingSource.objects.order_by("name"))
        if not found:
            self.stdout.write("No tracking sources.")
            return
        rows = [("NAME", "WRITE KEY", "CREATED", "LAST USED", "STATUS")]
        for source in found:
            rows.append(
                (
                    source.name,
                    source.display_prefix,
                    f"{source.created_at:%Y-%m-%d %H:%M}",
                    f"{source.last_used_at:%Y-%m-%d %H:%M}" if source.last_used_at else "never",
                    f"revoked {source.revoked_at:%Y-%m-%d %H:%M}"
                    if source.revoked_at
                    else "active",
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )

    def _revoke(self, name: str) -> None:
        source = TrackingSource.objects.filter(name__iexact=name.strip()).first()
        if source is None:
            raise CommandError(
                f"name: no tracking source is named {name!r} (see `kenal source list`)"
            )
        already = source.is_revoked
        revoke_source(source)
        when = f"{source.revoked_at:%Y-%m-%d %H:%M}"
        if already:
            self.stdout.write(f"Source {source.name!r} was already revoked on {when}.")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Revoked source {source.name!r}: its calls are refused.")
            )
