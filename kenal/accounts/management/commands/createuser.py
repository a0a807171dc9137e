from __future__ import annotations

import getpass
import os
import sys
from argparse import ArgumentParser
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError

from kenal.accounts.models import Role, User
from kenal.accounts.services import UserError, create_user

PASSWORD_VARIABLE = "KENAL_PASSWORD"  # noqa: S105 - the variable's name, not a password


class Command(BaseCommand):
    help = (
        "Create a staff user: interactively, or from options and KENAL_PASSWORD / standard "
        "input for scripts.\n"
        "With --username the user is created from the options; the password comes from "
        "KENAL_PASSWORD, else from the first line of standard input (or a prompt at a "
        "terminal). Without --username, at a terminal, every value is asked for."
    )
    # call_command(..., stdin=...) lets tests and scripts hand in their own input.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--username", help="Log-in name; without it the command asks.")
        parser.add_argument("--email", default="", help="Email address (optional).")
        parser.add_argument(
            "--role",
            choices=Role.values,
            default=None,
            help=f"What the user may do: {', '.join(Role.values)} (default {Role.AGENT.value}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stdin: TextIO = options.get("stdin") or sys.stdin
        values = {
            "username": options["username"] or "",
            "email": options["email"] or "",
            "role": options["role"] or Role.AGENT.value,
        }
        if options["username"]:
            values["password"] = self._script_password(stdin)
            user = self._create(values)
        elif stdin.isatty():
            user = self._create_interactively(values, stdin, ask_role=options["role"] is None)
        else:
            raise CommandError(
                "no --username given and standard input is not a terminal: run "
                "`kenal createuser --username NAME [--email ADDRESS] [--role ROLE]` with the "
                f"password in {PASSWORD_VARIABLE} or on standard input, or run it at a terminal "
                "to be asked for each value"
            )
        self.stdout.write(self.style.SUCCESS(f"Created user {user.username} ({user.role})"))

    def _create(self, values: dict[str, str]) -> User:
        try:
            return create_user(**values)
        except UserError as exc:
            raise CommandError(str(exc)) from exc

    def _script_password(self, stdin: TextIO) -> str:
        """The password for a non-interactive run: environment, piped input, or a prompt."""
        if password := os.environ.get(PASSWORD_VARIABLE):
            return password
        if stdin.isatty():
            return self._ask_password(stdin)
        # Only the line ending is removed: spaces may be part of a password.
        password = stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError(
                f"password: none given; set {PASSWORD_VARIABLE} or pipe it on standard input "
                f"(e.g. `printf '%s\\n' \"$PASSWORD\" | kenal createuser --username NAME`)"
            )
        return password

    def _create_interactively(
        self, values: dict[str, str], stdin: TextIO, *, ask_role: bool
    ) -> User:
        """Ask for each value, and again for any value the service refuses."""
        try:
            values["username"] = self._ask(stdin, "Username: ")
            values["email"] = self._ask(stdin, "Email address (optional): ")
            if ask_role:
                values["role"] = self._ask_role(stdin)
            values["password"] = self._ask_password(stdin)
            while True:
                try:
                    return create_user(**values)
                except UserError as exc:
                    self.stderr.write(f"Error: {exc}")
                    field = str(exc).split(":", 1)[0]
                    if field == "username":
                        values["username"] = self._ask(stdin, "Username: ")
                    elif field == "email":
                        values["email"] = self._ask(stdin, "Email address (optional): ")
                    elif field == "role":
                        values["role"] = self._ask_role(stdin)
                    elif field == "password":
                        values["password"] = self._ask_password(stdin)
                    else:
                        raise CommandError(str(exc)) from exc
        except (KeyboardInterrupt, EOFError):
            raise CommandError("cancelled; no user was created") from None

    def _ask(self, stdin: TextIO, prompt: str) -> str:
        self.stdout.write(prompt, ending="")
        self.stdout.flush()
        line = stdin.readline()
        if not line:
            raise EOFError
        return line.strip()

    def _ask_role(self, stdin: TextIO) -> str:
        choices = ", ".join(f"{value} ({label})" for value, label in Role.choices)
        self.stdout.write(f"Roles: {choices}")
        return self._ask(stdin, f"Role [{Role.AGENT.value}]: ") or Role.AGENT.value

    def _ask_password(self, stdin: TextIO) -> str:
        while True:
            first = getpass.getpass("Password: ")
            second = getpass.getpass("Password (again): ")
            if first == second:
                return first
            self.stderr.write("Error: the two passwords differ; try again.")
