"""Plain-row writes for the bulk jobs (the close and invoicing write hundreds of thousands).

Django's bulk_create costs more per row than the database does (a model instance and a
prepared value per field). For rows of plain values (ints, Decimals, strings, aware
datetimes) PostgreSQL's COPY takes them as they are; other databases get bulk_create.
Every rule was checked before this runs; the database constraints remain the backstop.
"""

from collections.abc import Iterable, Sequence
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows of plain values for `columns` (attribute names, e.g. `timesheet_id`)."""
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            (model(**dict(zip(columns, row, strict=True))) for row in rows), batch_size=2_000
        )
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(cast(Field, model._meta.get_field(column)).column)) for column in columns)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
