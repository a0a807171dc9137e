"""`kenal check` and `kenal serve`: in-process, and as the real console script.

The subprocess tests always run on a SQLite file in a temporary data folder, whichever
database the rest of the suite uses: they test the installed command, not a database.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

from kenal.ops import services

KENAL = str(Path(sys.executable).with_name("kenal"))


def kenal_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KENAL_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(KENAL_DATA_DIR=str(data_dir), KENAL_DATABASE_URL="")
    env.update(extra)
    return env


def kenal(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KENAL, *args],
        env=kenal_env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- health checks, in-process --------------------------------------------------------------


@pytest.mark.django_db
def test_health_checks_pass_on_the_test_database() -> None:
    results = {result.name: result for result in services.run_health_checks()}
    assert list(results) == ["database", "migrations", "data-dir", "secret-key"]
    assert all(result.ok for result in results.values()), results
    assert results["migrations"].detail == "all applied"


@pytest.mark.django_db
def test_check_command_prints_a_line_per_check() -> None:
    out = StringIO()
    call_command("check", stdout=out)
    lines = out.getvalue().splitlines()
    assert "System check identified no issues (0 silenced)." in lines
    assert any(line.startswith("ok") and "  database " in line for line in lines)
    assert any(line.startswith("ok") and "  migrations " in line for line in lines)
    assert any(line.startswith("ok") and "  data-dir " in line for line in lines)
    assert any(line.startswith("ok") and "  secret-key " in line for line in lines)


def test_data_folder_under_a_file_is_reported_not_writable(tmp_path: Path) -> None:
    # Tests run as root, where permissions do not stop writes; a path below a regular
    # file cannot be written by anyone.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = services.check_data_dir(blocker / "data")
    assert not result.ok
    assert result.name == "data-dir"
    assert str(blocker / "data") in result.detail
    assert "not writable" in result.detail


def test_writable_data_folder_is_left_clean(tmp_path: Path) -> None:
    result = services.check_data_dir(tmp_path)
    assert result.ok
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db
def test_check_command_fails_when_the_data_folder_is_not_writable(tmp_path: Path, settings) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.DATA_DIR = blocker / "data"
    out = StringIO()
    with pytest.raises(CommandError, match="1 health check\\(s\\) failed: data-dir"):
        call_command("check", stdout=out)
    assert any(
        line.startswith("FAIL") and "data-dir" in line for line in out.getvalue().splitlines()
    )


@pytest.mark.django_db
def test_empty_secret_key_fails_without_crashing(settings) -> None:
    settings.SECRET_KEY = ""
    result = services.check_secret_key()
    assert not result.ok
    assert "KENAL_SECRET_KEY" in result.detail


@pytest.mark.django_db
def test_secret_key_is_never_shown(settings) -> None:
    settings.SECRET_KEY = "a-very-secret-value-that-must-not-leak-0123456789"
    out = StringIO()
    call_command("check", stdout=out)
    assert settings.SECRET_KEY not in out.getvalue()
    assert "present (" in out.getvalue()


@pytest.mark.django_db
def test_django_check_options_still_work() -> None:
    # --tag is Django's own option: an unknown tag is refused as Django refuses it.
    with pytest.raises(CommandError, match='no system check with the "no-such-tag" tag'):
        call_command("check", tags=["no-such-tag"], stdout=StringIO())
    out = StringIO()
    call_command("check", list_tags=True, stdout=out)
    assert "models" in out.getvalue().split()
    # Listing tags checks nothing, so no health lines follow.
    assert not any(line.startswith(("ok", "FAIL")) for line in out.getvalue().splitlines())


@pytest.mark.django_db
def test_deploy_warnings_fail_at_warning_level_and_health_is_still_reported(settings) -> None:
    settings.SECURE_SSL_REDIRECT = False  # a deployment warning (security.W008)
    out = StringIO()
    with pytest.raises(SystemCheckError, match=r"security\.W008"):
        call_command("check", deploy=True, fail_level="WARNING", stdout=out, stderr=StringIO())
    assert any(line.startswith("ok") and "database" in line for line in out.getvalue().splitlines())


# --- the real console script ----------------------------------------------------------------


def test_check_after_migrate_passes(tmp_path: Path) -> None:
    migrate = kenal(tmp_path, "migrate", "-v", "0")
    assert migrate.returncode == 0, migrate.stderr
    result = kenal(tmp_path, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    database = next(line for line in lines if "database" in line)
    assert database.startswith("ok")
    assert f"sqlite {tmp_path / 'kenal.sqlite3'}" in database
    assert any(line.startswith("ok") and "all applied" in line for line in lines)


def test_check_without_migrate_fails_and_lists_migrations(tmp_path: Path) -> None:
    result = kenal(tmp_path, "check")
    assert result.returncode != 0
    migrations = next(line for line in result.stdout.splitlines() if "migrations" in line)
    assert migrations.startswith("FAIL")
    assert re.search(r"\b[0-9]+ unapplied: contenttypes\.0001_initial, ", migrations)
    assert "kenal migrate" in migrations
    assert "health check(s) failed: migrations" in result.stderr


def test_check_reports_an_unreachable_database_without_its_password(tmp_path: Path) -> None:
    url = "postgres://kenal:s3cret-Pa55word@127.0.0.1:1/kenal"
    result = kenal(tmp_path, "check", KENAL_DATABASE_URL=url)
    assert result.returncode != 0
    database = next(line for line in result.stdout.splitlines() if " database " in line)
    assert database.startswith("FAIL")
    assert "postgresql kenal on 127.0.0.1:1 as kenal" in database
    assert "s3cret-Pa55word" not in result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[str], seconds: float = 60) -> tuple[int, str]:
    """The first answer from ``url`` (status, body), polling until the server is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local test URL
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_serve_migrates_and_serves_the_login_page_and_static_files(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [KENAL, "serve", "--port", str(port), "--threads", "2"],
        env=kenal_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status, body = wait_for(f"http://127.0.0.1:{port}/login/", process)
        assert status == 200
        assert 'type="password"' in body
        assert "csrfmiddlewaretoken" in body
        # WhiteNoise serves static files from the installed packages: no collectstatic.
        static_status, css = wait_for(f"http://127.0.0.1:{port}/static/admin/css/base.css", process)
        assert static_status == 200
        assert "{" in css
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Applied" in stdout
    assert f"Kenal is running at http://127.0.0.1:{port}/" in stdout
    assert (tmp_path / "kenal.sqlite3").exists()


def test_serve_refuses_a_bad_port(tmp_path: Path) -> None:
    result = kenal(tmp_path, "serve", "--port", "70000", "--no-migrate")
    assert result.returncode != 0
    assert "--port: 70000" in result.stderr


def test_serve_reports_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = kenal(tmp_path, "serve", "--port", str(port), "--no-migrate")
    assert result.returncode != 0
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr
