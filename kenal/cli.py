"""The ``kenal`` command: Kenal's own subcommands, and every Django management command."""

from __future__ import annotations

import os
import sys

# Kenal's subcommands, in the order ``kenal --help`` lists them.
KENAL_COMMANDS = (
    "serve",
    "worker",
    "import",
    "merge",
    "unmerge",
    "dedupe",
    "export",
    "demo",
    "createuser",
    "apikey",
    "source",
    "traits",
    "check",
    "migrate",
)


def main(argv: list[str] | None = None) -> None:
    """Run a subcommand; ``kenal``, ``kenal -h`` and ``kenal --help`` explain them all."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenal.settings")
    args = list(sys.argv if argv is None else argv)
    args[0] = "kenal"
    if len(args) == 1 or args[1] in ("-h", "--help"):
        sys.stdout.write(overview())
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


def overview() -> str:
    """The help text: each Kenal subcommand with its own one-line description."""
    import django
    from django.core.management import get_commands, load_command_class

    django.setup()
    commands = get_commands()
    lines = [
        "Usage: kenal <subcommand> [options]",
        "",
        "Kenal keeps one trustworthy record per customer. Subcommands:",
        "",
    ]
    for name in KENAL_COMMANDS:
        help_text = load_command_class(commands[name], name).help.strip().splitlines()[0]
        lines.append(f"  {name:<12} {help_text}")
    lines += [
        "",
        "Every Django management command works too (kenal help --commands lists them).",
        "`kenal <subcommand> --help` explains a subcommand's options.",
        "",
        "Configuration (environment variables):",
        "  KENAL_DATA_DIR       data folder: SQLite database and secret key (./kenal-data)",
        "  KENAL_DATABASE_URL   postgres://user:password@host:5432/name (default: SQLite)",
        "  KENAL_PHONE_REGION   country of phone numbers written without +code (ID)",
        "  KENAL_ALLOWED_HOSTS  host names the server answers to (127.0.0.1,localhost)",
        "  KENAL_SMTP_URL       smtp://user:password@host:587?tls=1 (default: files in outbox)",
        "  KENAL_EMAIL_FROM     sender of Kenal's mail (Kenal <kenal@localhost>)",
        "",
    ]
    return "\n".join(lines)
