"""Lean bulk inserts for imports: plain rows through ``executemany`` (``COPY`` on PostgreSQL),
ids allocated up front.

Django's ``bulk_create`` builds a model instance and compiles SQL per object, which costs more
than the insert itself at a million rows. Here rows are tuples, SQL is written once per table
(parameterised, names quoted by the backend), and new ids are reserved in one query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from django.db import connection, models

CHUNK = 5_000


def insert(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (values in ``columns`` order, already in database form)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(_column(model, name)) for name in columns)
    if connection.vendor == "postgresql":
        _copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN", rows)
        return
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start : start + CHUNK])


def update(model: type[models.Model], columns: Sequence[str], objects: Sequence[Any]) -> None:
    """Write ``columns`` of saved ``objects`` back, one parameterised UPDATE per row.

    Django's ``bulk_update`` writes a CASE with a branch per object for every column, which the
    database then evaluates for each row: quadratic, and minutes for an import's batch.
    """
    if not objects:
        return
    quote = connection.ops.quote_name
    prepare_column = [preparer(model, name) for name in columns]
    sets = ", ".join(f"{quote(_column(model, name))} = %s" for name in columns)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE id = %s"  # noqa: S608
    rows = [
        [
            prep(getattr(obj, _attribute(model, name)))
            for prep, name in zip(prepare_column, columns, strict=True)
        ]
        + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start : start + CHUNK])


def _attribute(model: type[models.Model], name: str) -> str:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    return str(model_field.attname)


def _copy(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL's COPY: one stream for all rows, where executemany sends a statement each."""
    # The driver's own cursor: its errors are turned into Django's (IntegrityError…) here.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _column(model: type[models.Model], name: str) -> str:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    return str(model_field.column)


def prepare(model: type[models.Model], name: str, value: Any) -> Any:
    """A value as the database takes it (JSON, dates): the field's own conversion."""
    return preparer(model, name)(value)


def preparer(model: type[models.Model], name: str) -> Callable[[Any], Any]:
    """:func:`prepare` for one field, looked up once: for a column of a million rows."""
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    if isinstance(model_field, models.JSONField):
        # What JSONField.get_db_prep_save does with a plain value (None is SQL NULL), without
        # its checks for expressions, which values read from a file never are.
        adapt, encoder = connection.ops.adapt_json_value, model_field.encoder
        return lambda value: None if value is None else adapt(value, encoder)
    return partial(model_field.get_db_prep_save, connection=connection)


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys for ``model``; call inside the transaction that inserts them.

    SQLite: the write lock is held (immediate transactions), so the next ids after both the
    largest id and the AUTOINCREMENT counter are free — ids of deleted rows are never reused.
    PostgreSQL: drawn from the table's sequence in one query.
    """
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        largest = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
        counter = cursor.fetchone()[0]
    start = max(largest, counter) + 1
    return list(range(start, start + count))
