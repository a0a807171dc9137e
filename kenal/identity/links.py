"""Which customer each record of a source belongs to now: the links anyone can check.

A source's own ids and the customer each one ended up in, after every match and merge, let
anyone who knows which records are the same person measure matching on their own data.
"""

from __future__ import annotations

from collections.abc import Iterator

from kenal.customers.models import SourceRecord
from kenal.identity.services import survivors

__all__ = ["source_links"]

# Records read per query; also the size of each IN list, well below SQLite's parameter limit.
CHUNK = 2_000


def source_links(source: str) -> Iterator[tuple[str, int]]:
    """``(external id, customer id)`` of every applied record of ``source`` that has an id.

    The customer is the one the record belongs to now: a merged customer is followed to the
    customer that survived the merge. Records stream in the order they were received, a
    chunk at a time, so memory does not grow with the source.
    """
    records = (
        SourceRecord.objects.filter(source=source, status=SourceRecord.Status.APPLIED)
        .exclude(external_id="")
        .exclude(customer=None)
        .order_by("id")
        .values_list("external_id", "customer_id")
    )
    chunk: list[tuple[str, int]] = []
    for external_id, customer_id in records.iterator(chunk_size=CHUNK):
        chunk.append((external_id, customer_id))
        if len(chunk) == CHUNK:
            yield from _resolved(chunk)
            chunk = []
    yield from _resolved(chunk)


def _resolved(chunk: list[tuple[str, int]]) -> Iterator[tuple[str, int]]:
    final = survivors({customer_id for _external_id, customer_id in chunk})
    for external_id, customer_id in chunk:
        yield external_id, final[customer_id]
