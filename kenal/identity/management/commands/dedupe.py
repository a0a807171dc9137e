from __future__ import annotations

from argparse import ArgumentParser
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kenal.identity.dedupe import Engine, dedupe


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
        parser.add_argument(
            "--engine",
            choices=("local", "spark"),
            default="local",
            help="Where pairs are found and scored: in this process (local), or on Spark "
            "(spark: needs pyspark and Java 17) for a database one machine cannot score in time.",
        )
        parser.add_argument(
            "--spark-master",
            default="local[2]",
            help="Spark master URL for --engine spark: local[N] uses N cores of this machine; "
            "spark://HOST:7077, yarn or k8s://… a cluster (default: local[2]).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with ExitStack() as stack:
            engine = None
            if options["engine"] == "spark":
                engine = stack.enter_context(_spark(options["spark_master"]))
            try:
                result = dedupe(
                    dry_run=options["dry_run"],
                    train=options["train"],
                    merge_above=options["merge_above"],
                    review_above=options["review_above"],
                    report=options["report"],
                    progress=lambda message: self.stderr.write(message),
                    engine=engine,
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


def _spark(master: str) -> AbstractContextManager[Engine]:
    # pyspark is an optional dependency: imported only when asked for, with a clear message.
    try:
        from kenal.identity.distributed import java_available, spark_engine
    except ImportError as exc:
        raise CommandError("--engine spark needs pyspark: pip install 'pyspark>=4.2'") from exc
    if not java_available():
        raise CommandError("--engine spark needs Java 17 or later (java on PATH, or JAVA_HOME)")
    return spark_engine(master)
