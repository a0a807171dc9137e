"""The `kenal` console script's overview and each subcommand's help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from kenal.cli import KENAL_COMMANDS

KENAL = str(Path(sys.executable).with_name("kenal"))


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KENAL_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(KENAL_DATA_DIR=str(tmp_path), KENAL_DATABASE_URL="")
    return subprocess.run(
        [KENAL, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("argv", [["--help"], ["-h"], []])
def test_overview_lists_every_subcommand_with_its_description(tmp_path: Path, argv) -> None:
    result = run(tmp_path, *argv)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    commands = get_commands()
    for name in KENAL_COMMANDS:
        description = load_command_class(commands[name], name).help.strip().splitlines()[0]
        assert f"  {name:<12} {description}" in lines
    # Kenal's own commands, not Django's of the same name.
    assert (
        "  serve        Apply migrations and serve Kenal on 127.0.0.1:8000 with a "
        "production-grade server." in lines
    )
    assert (
        "  check        Check the database is reachable, migrations are applied and the "
        "data folder is writable." in lines
    )
    assert "  createuser   Create a staff user: interactively, or from options" in result.stdout
    assert "  demo         Create a demo database with realistic customers" in result.stdout


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("serve", ["--host", "--port", "--threads", "--no-migrate"]),
        ("check", ["--deploy", "--tag", "--fail-level"]),
        ("createuser", ["--username", "--email", "--role"]),
        ("demo", ["--customers", "--seed", "--reset", "--no-serve", "--host", "--port"]),
    ],
)
def test_subcommand_help_lists_its_options(tmp_path: Path, command, options) -> None:
    result = run(tmp_path, command, "--help")
    assert result.returncode == 0, result.stderr
    for option in options:
        assert option in result.stdout
