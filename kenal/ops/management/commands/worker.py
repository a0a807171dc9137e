from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kenal.ops import worker as workers


class Command(BaseCommand):
    help = (
        "Run background work (imports) from the database queue until stopped.\n"
        "`kenal serve` already runs a worker beside the web server; run this one when the web "
        "server runs with --no-worker, or on another machine. With --batch it runs the "
        "waiting tasks and exits (for cron and tests)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--batch", action="store_true", help="Run the waiting tasks, then exit."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=workers.INTERVAL,
            help=f"Seconds between looks at an empty queue ({workers.INTERVAL:g}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval: float = options["interval"]
        if not interval > 0:
            raise CommandError(f"--interval: {interval} must be more than 0 seconds")
        worker = workers.make_worker(batch=options["batch"], interval=interval)
        if not options["batch"]:
            # Ctrl-C or SIGTERM: the task being run finishes first (a second Ctrl-C stops it).
            worker.configure_signals()
            self.stdout.write("Kenal's worker is running queued tasks (Ctrl-C stops it).")
            self.stdout.flush()
        workers.run_worker(worker)
