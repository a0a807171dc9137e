from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kenal.accounts.models import ApiKey, User
from kenal.accounts.services import ApiKeyError, create_api_key, revoke_api_key


class Command(BaseCommand):
    help = (
        "Manage REST API keys: create (the key is printed once), list, revoke.\n"
        "`kenal apikey create NAME --user USERNAME` prints the new key alone on standard "
        "output (the notes go to standard error), so scripts can capture it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="Create a key and print it (only this once).")
        create.add_argument("name", help="What uses the key, e.g. 'online shop'.")
        create.add_argument(
            "--user",
            required=True,
            help="Username of the staff member the key acts as (with their role).",
        )
        actions.add_parser("list", help="List keys: id, name, user, start of the key, use.")
        revoke = actions.add_parser("revoke", help="Refuse a key from now on.")
        revoke.add_argument("id", type=int, help="The key's id, as `kenal apikey list` shows.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            self._create(options["name"], options["user"])
        elif options["action"] == "list":
            self._list()
        else:
            self._revoke(options["id"])

    def _create(self, name: str, username: str) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"--user: no staff member has the username {username!r}")
        try:
            api_key, key = create_api_key(name, user)
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            f"Created API key {api_key.pk} ({api_key.name!r}) acting as {user.username} "
            f"({user.role}). It is shown only this once: store it now."
        )
        self.stdout.write(key)

    def _list(self) -> None:
        keys = list(ApiKey.objects.select_related("user").order_by("id"))
        if not keys:
            self.stdout.write("No API keys.")
            return
        rows = [("ID", "NAME", "USER", "KEY", "CREATED", "LAST USED", "STATUS")]
        for key in keys:
            rows.append(
                (
                    str(key.pk),
                    key.name,
                    key.user.username,
                    key.display_prefix,
                    f"{key.created_at:%Y-%m-%d %H:%M}",
                    f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never",
                    f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active",
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )

    def _revoke(self, key_id: int) -> None:
        api_key = ApiKey.objects.filter(pk=key_id).first()
        if api_key is None:
            raise CommandError(f"id: no API key has the id {key_id} (see `kenal apikey list`)")
        already = api_key.is_revoked
        revoke_api_key(api_key)
        when = f"{api_key.revoked_at:%Y-%m-%d %H:%M}"
        if already:
            self.stdout.write(f"API key {key_id} ({api_key.name!r}) was already revoked on {when}.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Revoked API key {key_id} ({api_key.name!r}): refused from now on."
                )
            )
