from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.timezone import localtime

from kenal.accounts.models import User
from kenal.customers.models import Customer
from kenal.identity.merging import MergeError, merge_customers, merge_history
from kenal.identity.models import Merge

LISTED = 50


class Command(BaseCommand):
    help = (
        "Merge two customers into one (kenal unmerge undoes it), or list merges.\n"
        "  kenal merge SURVIVOR_ID MERGED_ID [--reason TEXT]   merge MERGED_ID into "
        "SURVIVOR_ID\n"
        "  kenal merge --list [CUSTOMER_ID]                    the latest merges (of one "
        "customer)"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("ids", nargs="*", metavar="CUSTOMER_ID", help="Customer numbers.")
        parser.add_argument("--reason", default="", help="Why the two are one person.")
        parser.add_argument("--list", action="store_true", help="List merges instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[str] = options["ids"]
        if options["list"]:
            if len(ids) > 1:
                raise CommandError("--list takes at most one CUSTOMER_ID")
            self._list(_customer("CUSTOMER_ID", ids[0]) if ids else None)
            return
        if len(ids) != 2:
            raise CommandError(
                f"expected SURVIVOR_ID MERGED_ID (two customer numbers), got {len(ids)} "
                "argument(s); or --list"
            )
        survivor = _customer("SURVIVOR_ID", ids[0])
        merged = _customer("MERGED_ID", ids[1])
        try:
            merge = merge_customers(survivor, merged, actor=None, reason=options["reason"])
        except MergeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Merged #{merged.pk} into #{survivor.pk} (merge {merge.pk}).")

    def _list(self, customer: Customer | None) -> None:
        merges = (
            merge_history(customer)
            if customer
            else Merge.objects.select_related("survivor", "merged", "merged_by", "undone_by")
        )
        shown = list(merges[:LISTED])
        if not shown:
            self.stdout.write("No merges.")
        for merge in shown:
            score = f"{merge.score:.3f}" if merge.score is not None else "-"
            undone = (
                f"undone {localtime(merge.undone_at):%Y-%m-%d %H:%M} by {_who(merge.undone_by)}"
                if merge.undone_at
                else "active"
            )
            self.stdout.write(
                f"merge {merge.pk:<5} {localtime(merge.merged_at):%Y-%m-%d %H:%M}  "
                f"by {_who(merge.merged_by):<12} #{merge.survivor_id} {merge.survivor} "
                f"<- #{merge.merged_id} {merge.merged}  score {score}  {undone}"
                + (f"  ({merge.reason})" if merge.reason else "")
            )


def _customer(name: str, value: str) -> Customer:
    if not value.isdigit():
        raise CommandError(f"{name}: {value!r} is not a customer number")
    customer = Customer.objects.filter(pk=int(value)).first()
    if customer is None:
        raise CommandError(f"{name}: there is no customer #{value}")
    return customer


def _who(user: User | None) -> str:
    """The staff member's username; merges made here or by matching have none."""
    return user.username if user else "-"
