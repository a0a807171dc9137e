"""Which customer each record of a source belongs to now: the links anyone can check.

A source's own ids and the customer each one ended up in, after every match and merge, let
anyone who knows which records are the same person measure matching on their own data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from kenal.customers.models import Customer, SourceRecord

__all__ = ["source_links", "survivors"]

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


def survivors(customer_ids: Collection[int]) -> dict[int, int]:
    """Each customer mapped to the one it was merged into, at the end of the chain of merges.

    A customer that was never merged maps to itself. One query per step along the chains,
    for all the customers at once.
    """
    hops: dict[int, int] = {}
    asked: set[int] = set()
    pending = set(customer_ids)
    while pending:
        asked |= pending
        rows = Customer.objects.filter(pk__in=pending).values_list("id", "merged_into_id")
        hops.update((customer_id, target) for customer_id, target in rows if target is not None)
        pending = set(hops.values()) - asked
    final: dict[int, int] = {}
    for start in customer_ids:
        current, visited = start, {start}
        # A customer already visited ends the walk: a (corrupt) cycle of merges cannot hang.
        while (target := hops.get(current)) is not None and target not in visited:
            current = target
            visited.add(current)
        final[start] = current
    return final
