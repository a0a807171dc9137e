"""Runtime configuration read from the environment, with safe defaults.

Everything a Kenal installation keeps on disk lives in one data folder
(``KENAL_DATA_DIR``): the SQLite database, the generated secret key, backups.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
SQLITE_FILE = "kenal.sqlite3"


class ConfigError(RuntimeError):
    """A setting in the environment is unusable; the message names it."""


def data_dir() -> Path:
    """The data folder, created (private to the user) when missing."""
    path = Path(os.environ.get("KENAL_DATA_DIR", "kenal-data")).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"KENAL_DATA_DIR={path}: cannot create the data folder ({exc})") from exc
    return path


def secret_key(folder: Path) -> str:
    """The secret key kept in the data folder, generated on first run.

    It is never read from the repository; ``KENAL_SECRET_KEY`` overrides it
    for deployments that manage secrets elsewhere.
    """
    if from_env := os.environ.get("KENAL_SECRET_KEY"):
        return from_env
    key_file = folder / SECRET_KEY_FILE
    if not key_file.exists():
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


def database(folder: Path) -> dict[str, Any]:
    """Django's database settings from ``KENAL_DATABASE_URL``.

    Empty means the embedded default: a SQLite file in the data folder, in WAL
    mode (readers never wait for the writer) with immediate write transactions
    (writers queue instead of failing with "database is locked" mid-transaction).
    """
    url = os.environ.get("KENAL_DATABASE_URL", "").strip()
    if not url:
        return sqlite_database(folder / SQLITE_FILE)
    try:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        )
    except ValueError as exc:
        raise ConfigError(
            f"KENAL_DATABASE_URL={_redact(url)}: {exc}; expected postgres://user:password@host:port/"
            "name or sqlite:////absolute/path.sqlite3"
        ) from exc
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        return sqlite_database(Path(config["NAME"]))
    if engine != "django.db.backends.postgresql":
        raise ConfigError(
            f"KENAL_DATABASE_URL={_redact(url)}: unsupported database; expected postgres:// or sqlite://"
        )
    return config


def sqlite_database(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        },
    }


def email(folder: Path) -> tuple[str, dict[str, Any]]:
    """Django's email backend and its settings from ``KENAL_SMTP_URL``.

    ``smtp://user:password@host:587?tls=1`` (or ``smtps://…`` for implicit TLS); without it,
    mail is written as files into the data folder's ``outbox``.
    """
    url = os.environ.get("KENAL_SMTP_URL", "").strip()
    if not url:
        return "django.core.mail.backends.filebased.EmailBackend", {
            "EMAIL_FILE_PATH": str(folder / "outbox")
        }
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            f"KENAL_SMTP_URL={_redact(url)}: expected smtp://user:password@host:port or smtps://…"
        )
    query = parse_qs(parts.query)
    return "django.core.mail.backends.smtp.EmailBackend", {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in ("1", "true", "yes"),
        "EMAIL_TIMEOUT": 20,
    }


def email_from() -> str:
    return os.environ.get("KENAL_EMAIL_FROM", "Kenal <kenal@localhost>").strip()


def phone_region() -> str:
    """Default region for phone numbers written without a country code."""
    region = os.environ.get("KENAL_PHONE_REGION", "ID").strip().upper()
    if len(region) != 2 or not region.isalpha():
        raise ConfigError(
            f"KENAL_PHONE_REGION={region!r}: expected a two-letter country code such as ID or SG"
        )
    return region


def contact_warning_days() -> int:
    """Days within which a colleague's contact warns staff before contacting a customer."""
    days = os.environ.get("KENAL_CONTACT_WARNING_DAYS", "").strip() or "7"
    if not days.isdigit():
        raise ConfigError(f"KENAL_CONTACT_WARNING_DAYS={days}: expected a whole number of days")
    return int(days)


def debug() -> bool:
    return os.environ.get("KENAL_DEBUG", "").lower() in {"1", "true", "yes"}


def allowed_hosts() -> list[str]:
    hosts = os.environ.get("KENAL_ALLOWED_HOSTS", "127.0.0.1,localhost")
    return [host.strip() for host in hosts.split(",") if host.strip()]


def _redact(url: str) -> str:
    """The URL with any password hidden, for error messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
