"""Plain-row writes for the bulk jobs (the close and invoicing write hundreds of thousands).

Django's bulk_create costs more per row than the database does (a model instance and a
prepared value per field). For rows of plain values (ints, Decimals, strings, dates,
aware datetimes; JSON and file fields are prepared as the ORM prepares them) PostgreSQL's
COPY takes them as they are.
Every rule was checked before this runs; the database constraints remain the backstop.
"""

import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, FileField, JSONField, Model


def insert_rows(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], *, stored: bool = False
) -> int:
    """Insert rows of plain values for `columns` (attribute names, e.g. `timesheet_id`); how many.

    `stored=True`: the rows come from `stored_rows`, prepared ahead.
    """
    count = 0
    quote = connection.ops.quote_name
    fields = _fields(model, columns)
    names = ", ".join(quote(str(field.column)) for field in fields)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy,
    ):
        for row in rows if stored else _as_stored(fields, rows):
            copy.write_row(row)
            count += 1
    return count


def stored_rows(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> list[Sequence[Any]]:
    """Rows as COPY writes them (JSON as its text, a file by its name), prepared ahead of a lock."""
    return list(_as_stored(_fields(model, columns), rows))


def _fields(model: type[Model], columns: Sequence[str]) -> list[Field]:
    return [cast(Field, model._meta.get_field(column)) for column in columns]


def _as_stored(fields: list[Field], rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
    """Rows with JSON as its text (what the ORM would send) and files by their name."""
    special = [(at, field) for at, field in enumerate(fields) if isinstance(field, JSONField | FileField)]
    if not special:
        yield from rows
        return
    real = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is asked once per value
    for row in rows:
        values = list(row)
        for at, field in special:
            if isinstance(field, JSONField):  # COPY takes the text; PostgreSQL parses it
                values[at] = json.dumps(values[at], cls=field.encoder)
            else:
                values[at] = field.get_db_prep_save(values[at], real)
        yield values


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """Take `count` ids from the model's id sequence, so rows can be COPYed with them.

    Ids taken by a transaction that rolls back are skipped, as the ORM's inserts skip them.
    The sequence is looked up once (OFFSET 0 keeps the planner from inlining the lookup into
    every row: that was seven times slower).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(s.seq) FROM generate_series(1, %s), "
            "(SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq OFFSET 0) AS s",
            [count, model._meta.db_table],
        )
        return sorted(pk for (pk,) in cursor.fetchall())


def reset_id_sequence(model: type[Model]) -> None:
    """Move a table's id sequence past the ids rows were inserted with explicitly."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 - a model's table name
            f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0) + 1, false)",
            [table],
        )
