from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kenal.identity.merging import ROW_KINDS, MergeError, unmerge
from kenal.identity.models import Merge

# How each kind of row is named in the report: (one, several).
KIND_NAMES = {
    "emails": ("email", "emails"),
    "phones": ("phone", "phones"),
    "addresses": ("address", "addresses"),
    "custom_values": ("custom field value", "custom field values"),
    "notes": ("note", "notes"),
    "source_records": ("source record", "source records"),
    "orders": ("order", "orders"),
    "interactions": ("interaction", "interactions"),
    "tickets": ("ticket", "tickets"),
    "services": ("service", "services"),
    "feedback": ("feedback answer", "feedback answers"),
    "events": ("event", "events"),
    "carts": ("cart", "carts"),
    "consents": ("consent record", "consent records"),
    "submissions": ("form submission", "form submissions"),
    "import_changes": ("import change", "import changes"),
}


class Command(BaseCommand):
    help = (
        "Undo a merge: both customers come back, each with its own rows (kenal merge --list "
        "shows merges)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("merge_id", metavar="MERGE_ID", help="The number of the merge.")

    def handle(self, *args: Any, **options: Any) -> None:
        value: str = options["merge_id"]
        if not value.isdigit():
            raise CommandError(f"MERGE_ID: {value!r} is not a merge number (kenal merge --list)")
        merge = Merge.objects.filter(pk=int(value)).first()
        if merge is None:
            raise CommandError(f"MERGE_ID: there is no merge {value} (kenal merge --list)")
        try:
            merge = unmerge(merge, actor=None)
        except MergeError as exc:
            raise CommandError(str(exc)) from exc
        restored, survivor = merge.merged_id, merge.survivor_id
        self.stdout.write(f"Undid merge {merge.pk}: #{restored} and #{survivor} are two again.")
        self.stdout.write(f"  back on #{restored}: {_counts(merge.moved['returned'])}")
        if any(merge.moved["routed"].values()):
            self.stdout.write(
                f"  added since the merge through #{restored}'s own source ids, moved to it: "
                f"{_counts(merge.moved['routed'])}"
            )
        for conflict in merge.undo_conflicts:
            self.stdout.write(_conflict(conflict))


def _counts(rows: Mapping[str, Sequence[int]]) -> str:
    parts = []
    for kind in ROW_KINDS:
        count = len(rows.get(kind, ()))
        if count:
            one, several = KIND_NAMES[kind]
            parts.append(f"{count} {one if count == 1 else several}")
    return ", ".join(parts) or "nothing"


def _conflict(conflict: Mapping[str, Any]) -> str:
    customer, field, value = conflict["customer"], conflict["field"], conflict["value"]
    if conflict["kind"] == "changed":
        return (
            f"  kept: #{customer} {field} = {value!r}, changed since the merge set "
            f"{conflict['merged']!r}"
        )
    return f"  not returned: {field} {value!r}, changed or removed on #{customer} since the merge"
