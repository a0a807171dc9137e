from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from kenal.demo import services
from kenal.identity.dedupe import dedupe
from kenal.ops import services as ops


class Command(BaseCommand):
    help = (
        "Create a demo database with realistic customers and an admin login, then serve it.\n"
        "Use a separate data folder (KENAL_DATA_DIR) for the demo. Running it again serves "
        "the existing demo; --reset replaces it (and prints a new admin password)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=5000,
            help="How many people to create (5000); about 5 %% more records are duplicates.",
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="Random seed: the same seed gives the same data."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the existing demo data first (refused if other customers exist).",
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Only create the data; do not start the server."
        )
        parser.add_argument("--host", default="127.0.0.1", help="Address to serve on (127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on (8000).")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity: int = options["verbosity"]
        if options["customers"] < 1:
            raise CommandError(f"--customers: {options['customers']} must be at least 1")
        applied = ops.apply_migrations(verbosity=max(verbosity - 1, 0))
        if applied and verbosity:
            self.stdout.write(f"Applied {applied} migration(s).")
        url = ops.server_url(options["host"], options["port"])
        try:
            built = self._build(options["customers"], options["seed"], reset=options["reset"])
        except services.DemoError as exc:
            raise CommandError(str(exc)) from exc
        if built is None:
            self.stdout.write(
                "Demo data already present; log in with the user you were given, or run "
                "`kenal demo --reset` for a new admin password."
            )
        else:
            result, password = built
            self.stdout.write(
                f"Created {result.customers:,} customers ({result.duplicates:,} duplicates to "
                f"find, {result.rejected:,} rejected records to correct), {result.orders:,} "
                f"orders, {result.notes:,} notes and {result.products} products "
                f"in {result.seconds:.1f} s."
            )
            activity = result.activity
            self.stdout.write(
                f"Their history: {activity.interactions:,} calls, chats and visits, "
                f"{activity.tickets:,} support tickets, {activity.services:,} services, "
                f"{activity.feedback:,} feedback answers, {activity.events:,} website events "
                f"and {activity.carts:,} abandoned carts."
            )
            self.stdout.write("")
            self.stdout.write(self.style.SUCCESS("  Kenal demo is ready"))
            self.stdout.write(f"    address:   {url}")
            self.stdout.write(f"    username:  {services.ADMIN_USERNAME}")
            self.stdout.write(f"    password:  {password}")
            self.stdout.write("  The password is shown only now; keep it.")
            self.stdout.write("")
        if not options["no_serve"]:
            call_command(
                "serve",
                host=options["host"],
                port=options["port"],
                no_migrate=True,
                verbosity=verbosity,
            )

    def _build(
        self, customers: int, seed: int, *, reset: bool
    ) -> tuple[services.DemoResult, str] | None:
        """Create the demo data, or None when a demo is already there (and no reset)."""
        demo, other = services.existing_customers()
        if reset and (demo or other):
            services.reset_demo()
            self.stdout.write("Deleted the previous demo data.")
        elif other:
            raise services.DemoError(
                f"the database already holds {other} customer(s) that are not demo data; "
                "run the demo in its own data folder, e.g. KENAL_DATA_DIR=./kenal-demo kenal demo"
            )
        elif demo:
            return None
        password = services.ensure_demo_users()
        self.stdout.write(f"Creating {customers:,} demo customers (seed {seed})…")
        result = services.generate(customers, seed, progress=self.stdout.write)
        self.stdout.write("Looking for the duplicates among them…")
        found = dedupe()
        self.stdout.write(
            f"{len(found.merges):,} merged automatically (undo them under Duplicates, Merges), "
            f"{len(found.reviews):,} waiting for review in Duplicates."
        )
        return result, password
