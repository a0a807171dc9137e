from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from kenal.activity import traits


class Command(BaseCommand):
    help = (
        "Recompute every customer's computed traits (writes keep them current, and the "
        "worker moves their time windows on every night)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["refresh"], help="refresh: recompute everyone's.")

    def handle(self, *args: Any, **options: Any) -> None:
        count = traits.refresh_all()
        self.stdout.write(f"Traits recomputed for {count} customer{'s' if count != 1 else ''}.")
