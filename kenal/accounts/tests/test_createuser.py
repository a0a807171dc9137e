"""`kenal createuser`: scripted (options + KENAL_PASSWORD or standard input) and interactive."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kenal.accounts.models import Role, User

KENAL = str(Path(sys.executable).with_name("kenal"))
PASSWORD = "correct-horse-battery-staple"


class Terminal(StringIO):
    """Standard input that says it is a terminal (getpass is replaced separately)."""

    def isatty(self) -> bool:
        return True


def create(stdin: StringIO | None = None, **options: str) -> str:
    out = StringIO()
    call_command("createuser", stdout=out, stderr=StringIO(), stdin=stdin or StringIO(), **options)
    return out.getvalue()


# --- in-process -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENAL_PASSWORD", PASSWORD)
    output = create(username="rina", email="rina@contoh.co.id", role="manager")
    assert output.strip() == "Created user rina (manager)"
    user = User.objects.get(username="rina")
    assert user.role == Role.MANAGER
    assert user.email == "rina@contoh.co.id"
    assert user.check_password(PASSWORD)
    assert user.groups.filter(name="manager").exists()


@pytest.mark.django_db
def test_password_from_standard_input_keeps_inner_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KENAL_PASSWORD", raising=False)
    create(StringIO(" a pass phrase with spaces \nignored second line\n"), username="budi")
    user = User.objects.get(username="budi")
    assert user.role == Role.AGENT  # the default role
    assert user.check_password(" a pass phrase with spaces ")


@pytest.mark.django_db
def test_no_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KENAL_PASSWORD", raising=False)
    with pytest.raises(CommandError, match=r"^password: none given; set KENAL_PASSWORD"):
        create(StringIO(""), username="budi")
    assert not User.objects.filter(username="budi").exists()


@pytest.mark.django_db
def test_without_username_or_terminal_the_options_are_explained() -> None:
    with pytest.raises(CommandError, match="no --username given") as error:
        create(StringIO(PASSWORD + "\n"))
    assert "KENAL_PASSWORD" in str(error.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"username": "ani", "role": "boss"}, "^role: 'boss' is not a role"),
        ({"username": "ani", "email": "ani@"}, "^email: 'ani@' is not a valid email address"),
        ({"username": "   "}, "^username: must not be empty"),
    ],
)
def test_bad_values_name_their_field(monkeypatch: pytest.MonkeyPatch, options, message) -> None:
    monkeypatch.setenv("KENAL_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match=message):
        create(**options)


@pytest.mark.django_db
def test_weak_password_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENAL_PASSWORD", "12345")
    with pytest.raises(CommandError, match=r"^password: This password is too short"):
        create(username="ani")


@pytest.mark.django_db
def test_taken_username_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENAL_PASSWORD", PASSWORD)
    create(username="ani")
    with pytest.raises(CommandError, match=r"^username: 'ANI' is already taken"):
        create(username="ANI")


@pytest.mark.django_db
def test_interactive_asks_again_for_a_refused_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KENAL_PASSWORD", raising=False)
    passwords = iter(["short", "short", PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(passwords))
    out = StringIO()
    err = StringIO()
    answers = Terminal("dewi\ndewi@contoh.co.id\nviewer\n")
    call_command("createuser", stdin=answers, stdout=out, stderr=err)
    assert "Created user dewi (viewer)" in out.getvalue()
    assert "Roles: admin (Administrator), manager (Manager)" in out.getvalue()
    assert "Error: password: This password is too short" in err.getvalue()
    assert User.objects.get(username="dewi").check_password(PASSWORD)


@pytest.mark.django_db
def test_username_given_at_a_terminal_asks_only_for_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KENAL_PASSWORD", raising=False)
    prompts: list[str] = []

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return PASSWORD

    monkeypatch.setattr("getpass.getpass", getpass)
    output = create(Terminal(""), username="eko", role="admin")
    assert prompts == ["Password: ", "Password (again): "]
    assert output.strip() == "Created user eko (admin)"
    assert User.objects.get(username="eko").is_superuser


@pytest.mark.django_db
def test_interactive_end_of_input_cancels(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError, match="cancelled; no user was created"):
        call_command("createuser", stdin=Terminal("dewi\n"), stdout=StringIO())
    assert not User.objects.exists()


# --- the real console script ----------------------------------------------------------------


def kenal_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KENAL_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(KENAL_DATA_DIR=str(data_dir), KENAL_DATABASE_URL="")
    env.update(extra)
    return env


def kenal(
    data_dir: Path, *args: str, stdin: str = "", **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KENAL, *args],
        env=kenal_env(data_dir, **extra),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite data folder, made once and copied for each test."""
    folder = tmp_path_factory.mktemp("migrated")
    result = kenal(folder, "migrate", "-v", "0")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def data_dir(migrated: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(migrated, folder)
    return folder


def test_script_creates_a_manager_from_kenal_password(data_dir: Path) -> None:
    result = kenal(
        data_dir, "createuser", "--username", "x", "--role", "manager", KENAL_PASSWORD=PASSWORD
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Created user x (manager)"
    again = kenal(data_dir, "createuser", "--username", "x", KENAL_PASSWORD=PASSWORD)
    assert again.returncode == 1
    assert "username: 'x' is already taken" in again.stderr


def test_script_reads_the_password_from_a_pipe(data_dir: Path) -> None:
    result = kenal(data_dir, "createuser", "--username", "piped", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "Created user piped (agent)" in result.stdout


def test_script_refuses_a_weak_password_and_an_unknown_role(data_dir: Path) -> None:
    weak = kenal(data_dir, "createuser", "--username", "y", KENAL_PASSWORD="password")
    assert weak.returncode == 1
    assert "password: This password is too common." in weak.stderr
    role = kenal(data_dir, "createuser", "--username", "y", "--role", "boss")
    assert role.returncode == 2
    assert "--role: invalid choice: 'boss'" in role.stderr
    missing = kenal(data_dir, "createuser", "--username", "y")
    assert missing.returncode == 1
    assert "password: none given" in missing.stderr


def test_interactive_at_a_real_terminal(data_dir: Path) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session on the pseudo-terminal, as a user at a shell
        os.execve(KENAL, [KENAL, "createuser"], kenal_env(data_dir))  # noqa: S606
    transcript = ""

    def answer(prompt: str, text: str) -> None:
        nonlocal transcript
        deadline = time.monotonic() + 60
        while prompt not in transcript:
            assert time.monotonic() < deadline, f"no {prompt!r} in {transcript!r}"
            ready, _w, _x = select.select([fd], [], [], 1)
            if ready:
                transcript += os.read(fd, 1024).decode()
        transcript = transcript.split(prompt, 1)[1]
        os.write(fd, (text + "\n").encode())

    try:
        answer("Username: ", "tini")
        answer("Email address (optional): ", "")
        answer("Role [agent]: ", "manager")
        answer("Password: ", PASSWORD)
        answer("Password (again): ", PASSWORD)
        output = b""
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output
    assert PASSWORD not in (transcript + output.decode())  # never echoed
    assert "Created user tini (manager)" in output.decode()
