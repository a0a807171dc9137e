from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, SystemCheckError
from django.core.management.commands import check

from kenal.ops import services


class Command(check.Command):
    """Django's system checks (with all their options), then Kenal's health checks."""

    help = (
        "Check the database is reachable, migrations are applied and the data folder is "
        "writable.\nDjango's system checks run first; --deploy, --tag and the other options "
        "work as in Django's own check command."
    )

    def handle(self, *app_labels: Any, **options: Any) -> None:
        if options["list_tags"]:
            super().handle(*app_labels, **options)
            return
        # Both kinds of check are reported before failing: a broken setting and an
        # unreachable database are worth knowing about at the same time.
        system_error: SystemCheckError | None = None
        try:
            super().handle(*app_labels, **options)
        except SystemCheckError as exc:
            system_error = exc
        results = services.run_health_checks()
        for result in results:
            if result.ok:
                self.stdout.write(
                    f"{self.style.SUCCESS('ok  ')}  {result.name:<11} {result.detail}"
                )
            else:
                self.stdout.write(f"{self.style.ERROR('FAIL')}  {result.name:<11} {result.detail}")
        if system_error is not None:
            raise system_error
        failed = [result.name for result in results if not result.ok]
        if failed:
            raise CommandError(f"{len(failed)} health check(s) failed: {', '.join(failed)}")
