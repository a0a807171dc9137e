"""Configuration from the environment: data folder, secret key, database URL."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.db import connection

from kenal import config


def test_data_folder_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENAL_DATA_DIR", str(tmp_path / "nested" / "data"))
    assert config.data_dir() == tmp_path / "nested" / "data"
    assert (tmp_path / "nested" / "data").is_dir()


def test_secret_key_is_generated_once_and_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KENAL_SECRET_KEY", raising=False)
    first = config.secret_key(tmp_path)
    assert len(first) >= 50
    assert config.secret_key(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / config.SECRET_KEY_FILE).stat().st_mode)
    assert mode == 0o600


def test_secret_key_from_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENAL_SECRET_KEY", "from-the-vault")
    assert config.secret_key(tmp_path) == "from-the-vault"
    assert not (tmp_path / config.SECRET_KEY_FILE).exists()


def test_default_database_is_sqlite_in_wal_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KENAL_DATABASE_URL", raising=False)
    db = config.database(tmp_path)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / config.SQLITE_FILE)
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert "foreign_keys=ON" in db["OPTIONS"]["init_command"]


@pytest.mark.django_db
def test_the_sqlite_connection_enforces_foreign_keys() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1


def test_postgres_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENAL_DATABASE_URL", "postgres://kenal:s3cret@db.internal:5433/crm")
    db = config.database(tmp_path)
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == ("db.internal", 5433, "crm", "kenal")


def test_unsupported_database_names_the_setting_and_hides_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KENAL_DATABASE_URL", "mysql://root:hunter2@localhost/crm")
    with pytest.raises(config.ConfigError) as caught:
        config.database(tmp_path)
    assert "KENAL_DATABASE_URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("region", ["IDN", "1", ""])
def test_bad_phone_region(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    monkeypatch.setenv("KENAL_PHONE_REGION", region)
    with pytest.raises(config.ConfigError, match="KENAL_PHONE_REGION"):
        config.phone_region()
