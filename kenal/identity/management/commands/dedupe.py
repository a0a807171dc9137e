from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kenal.identity.dedupe import dedupe


class Command(BaseCommand):
    help = (
        "Find and merge duplicate customers across the whole database.\n"
        "Pairs above the merge bar are merged (each merge can be undone); pairs between the\n"
        "review and merge bars go to the duplicate review queue."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Change nothing; report what would be done."
        )
        parser.add_argument(
            "--report",
            type=Path,
            default=None,
            help="Write every proposed merge and review to CSV.",
        )
        parser.add_argument(
            "--train",
            action="store_true",
            help="First learn the field weights from the data (EM) and save them.",
        )
        parser.add_argument(
            "--merge-above",
            type=float,
            default=None,
            help="Merge above this match probability (e.g. 0.99); saved unless --dry-run.",
        )
        parser.add_argument(
            "--review-above",
            type=float,
            default=None,
            help="Propose for review above this probability (e.g. 0.8); saved unless --dry-run.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = dedupe(
                dry_run=options["dry_run"],
                train=options["train"],
                merge_above=options["merge_above"],
                review_above=options["review_above"],
                report=options["report"],
                progress=lambda message: self.stderr.write(message),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "would merge" if options["dry_run"] else "merged"
        self.stdout.write(
            f"{result.customers} customers, {result.pairs_compared} pairs compared"
            f"{' (weights trained)' if result.trained else ''}: "
            f"{verb} {len(result.merges)} pairs, {len(result.reviews)} for review, "
            f"{result.households} households."
        )
        self.stdout.write(
            "Seconds: " + ", ".join(f"{name} {value}" for name, value in result.seconds.items())
        )
        if options["report"]:
            self.stdout.write(f"Report: {options['report']}")
