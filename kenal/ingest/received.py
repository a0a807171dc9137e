"""What every import keeps for each row, whatever the rows are: the source record, and the
consent the import declared, recorded once per customer reached."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from django.utils import timezone

from kenal.accounts.models import User
from kenal.customers.models import SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.ingest import bulk
from kenal.ingest.models import Import
from kenal.ingest.readers import Row
from kenal.privacy.models import ConsentRecord
from kenal.privacy.services import ConsentDeclaration, build_records

__all__ = ["ConsentLedger", "ReceivedRow", "keep_rows"]

APPLIED, REJECTED = SourceRecord.Status.APPLIED, SourceRecord.Status.REJECTED
COLUMNS = [
    "id",
    "customer",
    "source",
    "batch_id",
    "external_id",
    "row_number",
    "received_at",
    "received_by",
    "data",
    "status",
    "action",
    "errors",
]


class ReceivedRow(Protocol):
    """A row as a writer finished with it."""

    number: int
    data: Row
    external_id: str
    customer_id: int | None
    action: str
    errors: list[InvalidValue]


def keep_rows(run: Import, actor: User | None, rows: Sequence[ReceivedRow]) -> list[int]:
    """One source record per row, exactly as received; returns their ids, in order.

    A rejected row keeps its errors and reaches no customer.
    """
    ids = bulk.reserve_ids(SourceRecord, len(rows))
    now = bulk.prepare(SourceRecord, "received_at", timezone.now())
    actor_id = actor.pk if actor else None
    as_json = bulk.preparer(SourceRecord, "data")
    no_errors = as_json([])
    bulk.insert(
        SourceRecord,
        COLUMNS,
        [
            (
                pk,
                None if row.errors else row.customer_id,
                run.source,
                run.batch_id,
                row.external_id,
                row.number,
                now,
                actor_id,
                as_json(row.data),
                REJECTED if row.errors else APPLIED,
                "" if row.errors else row.action,
                as_json([error.as_dict() for error in row.errors]) if row.errors else no_errors,
            )
            for pk, row in zip(ids, rows, strict=True)
        ],
    )
    return ids


class ConsentLedger:
    """Records an import's consent declaration once for each customer its rows reach."""

    def __init__(self, run: Import, declaration: ConsentDeclaration, actor: User | None) -> None:
        self.run = run
        self.declaration = declaration
        self.actor = actor
        self.consented_ids: set[int] = set()

    def record(self, rows: Sequence[ReceivedRow], record_ids: Sequence[int]) -> None:
        """Consent for the customers first reached by ``rows``, citing each one's record."""
        if self.declaration.is_empty:
            return
        ledger: list[ConsentRecord] = []
        for row, record_id in zip(rows, record_ids, strict=True):
            if row.errors or row.customer_id is None or row.customer_id in self.consented_ids:
                continue
            self.consented_ids.add(row.customer_id)
            for consent in build_records(
                [row.customer_id],
                self.declaration,
                source=self.run.source,
                batch_id=self.run.batch_id,
            ):
                consent.source_record_id = record_id
                consent.recorded_by = self.actor
                ledger.append(consent)
        ConsentRecord.objects.bulk_create(ledger, batch_size=1000)
