"""Running Kenal: migrations, the web server and health checks.

The commands (``kenal serve``, ``kenal check``) only parse options and print;
everything they do is here, so other interfaces (an admin page, a monitoring
endpoint) can reuse it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one health check; ``detail`` never holds a secret."""

    name: str
    ok: bool
    detail: str


# --- migrations -----------------------------------------------------------------------------


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Migrations not yet applied to the database, as "app_label.name", in apply order."""
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def apply_migrations(verbosity: int = 1, alias: str = DEFAULT_DB_ALIAS) -> int:
    """Bring the database schema up to date; returns how many migrations were applied."""
    pending = unapplied_migrations(alias)
    if pending:
        call_command("migrate", database=alias, interactive=False, verbosity=verbosity)
    return len(pending)


# --- serving --------------------------------------------------------------------------------


def server_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def host_allowed(host: str) -> bool:
    """Whether Django will answer requests addressed to ``host`` (KENAL_ALLOWED_HOSTS).

    Binding to every interface (0.0.0.0, ::) says nothing about the names clients
    will use, so those are not judged here.
    """
    if host in ("0.0.0.0", "::"):  # noqa: S104 - comparing, not binding
        return True
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = ["localhost", "127.0.0.1", "[::1]"]
    return any(
        pattern == "*"
        or pattern == host
        or (pattern.startswith(".") and (host.endswith(pattern) or host == pattern[1:]))
        for pattern in allowed
    )


def run_server(host: str, port: int, threads: int) -> None:
    """Serve the WSGI application with waitress until interrupted (Ctrl-C)."""
    import waitress

    from kenal.wsgi import application

    # waitress prints its own "Serving on …" line and stops cleanly on Ctrl-C.
    waitress.serve(application, host=host, port=port, threads=threads)


# --- health checks --------------------------------------------------------------------------


def check_database(alias: str = DEFAULT_DB_ALIAS) -> CheckResult:
    """The database answers a query; the detail names it, never with the password."""
    connection = connections[alias]
    where = describe_database(alias)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not reachable"; the message says why
        return CheckResult("database", False, f"{where}: {_first_line(exc)}")
    return CheckResult("database", True, where)


def describe_database(alias: str = DEFAULT_DB_ALIAS) -> str:
    """ "sqlite /path/kenal.sqlite3" or "postgresql kenal on db.example:5432 as kenal"."""
    connection = connections[alias]
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite {config['NAME']}"
    host = config.get("HOST") or "localhost"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    user = f" as {config['USER']}" if config.get("USER") else ""
    return f"{connection.vendor} {config['NAME']} on {host}{port}{user}"


def check_migrations(alias: str = DEFAULT_DB_ALIAS) -> CheckResult:
    """Every migration is applied; lists the ones that are not."""
    try:
        pending = unapplied_migrations(alias)
    except Exception as exc:  # an unreachable database cannot be inspected either
        return CheckResult("migrations", False, f"cannot read migration state: {_first_line(exc)}")
    if not pending:
        return CheckResult("migrations", True, "all applied")
    shown = ", ".join(pending[:5]) + (", …" if len(pending) > 5 else "")
    return CheckResult(
        "migrations", False, f"{len(pending)} unapplied: {shown} (run `kenal migrate`)"
    )


def check_data_dir(path: Path | None = None) -> CheckResult:
    """A file can be written to and deleted from the data folder (backups, the SQLite file)."""
    folder = Path(settings.DATA_DIR if path is None else path)
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".kenal-check-") as handle:
            handle.write(b"ok")
            handle.flush()
    except OSError as exc:
        return CheckResult("data-dir", False, f"{folder} is not writable: {exc.strerror or exc}")
    return CheckResult("data-dir", True, f"{folder} is writable")


def check_secret_key() -> CheckResult:
    """A secret key is set (it signs sessions and password-reset links); never shown."""
    try:
        key = str(settings.SECRET_KEY or "")
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        key = ""
    if not key.strip():
        return CheckResult(
            "secret-key",
            False,
            "empty: set KENAL_SECRET_KEY, or unset it to use the key in the data folder",
        )
    return CheckResult("secret-key", True, f"present ({len(key)} characters)")


HEALTH_CHECKS: tuple[Callable[[], CheckResult], ...] = (
    check_database,
    check_migrations,
    check_data_dir,
    check_secret_key,
)


def run_health_checks() -> list[CheckResult]:
    return [check() for check in HEALTH_CHECKS]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
