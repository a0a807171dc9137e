from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kenal.ops import services
from kenal.ops.worker import start_background_worker


class Command(BaseCommand):
    help = (
        "Apply migrations and serve Kenal on 127.0.0.1:8000 with a production-grade server.\n"
        "The server is waitress; static files are served by WhiteNoise, so no web server "
        "or collectstatic step is needed. A background worker runs queued imports beside it "
        "(--no-worker when `kenal worker` runs elsewhere)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (8000).")
        parser.add_argument(
            "--threads", type=int, default=8, help="Requests handled at the same time (8)."
        )
        parser.add_argument(
            "--no-migrate",
            action="store_true",
            help="Do not apply pending migrations before serving.",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not run the background worker (run `kenal worker` separately).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        threads: int = options["threads"]
        verbosity: int = options["verbosity"]
        if not 0 < port < 65536:
            raise CommandError(f"--port: {port} is not a port number (1-65535)")
        if threads < 1:
            raise CommandError(f"--threads: {threads} must be at least 1")
        if not options["no_migrate"]:
            # Django's per-migration lines only with -v 2: a first run applies dozens.
            applied = services.apply_migrations(verbosity=max(verbosity - 1, 0))
            if applied and verbosity:
                self.stdout.write(f"Applied {applied} migration(s).")
        if not services.host_allowed(host):
            self.stderr.write(
                f"Warning: {host} is not in KENAL_ALLOWED_HOSTS; requests to it will be refused "
                f"(Bad Request 400). Set KENAL_ALLOWED_HOSTS={host} to allow it."
            )
        url = services.server_url(host, port)
        self.stdout.write(self.style.SUCCESS(f"Kenal is running at {url}") + "  (Ctrl-C stops it)")
        self.stdout.flush()
        background = None if options["no_worker"] else start_background_worker()
        try:
            services.run_server(host, port, threads)
        except OSError as exc:  # the port is taken or the address is not ours
            raise CommandError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from exc
        finally:
            if background is not None:
                # A task still running after the wait is failed by the next worker to start.
                background.stop()
