"""Hand-written SQL for the API's busiest path: prepared statements, and model instances from rows.

The busiest request (a manual session entry) runs a few statements. Built by the ORM,
each cost several times the database's own time in Python; and PostgreSQL planned each
anew, which took longer than running it (README, "Benchmarks"). So:

- `execute` runs a statement as a prepared statement on PostgreSQL (PREPARE once per
  connection, then EXECUTE), so it is planned once per connection, not per request.
  Prepared statements belong to the database session: Fairhour connects to PostgreSQL
  directly (a pooler in transaction mode would have to run in session mode).
- `columns` names a model's columns under an alias, and `instance` turns a slice of a row
  back into an instance with the converters a queryset would apply (none for these fields
  on PostgreSQL; text to datetimes, decimals and booleans on SQLite).
"""

import re
from collections.abc import Callable, Sequence
from functools import cache
from itertools import count
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model
from django.db.models.sql import Query

M = TypeVar("M", bound=Model)
Converters = list[tuple[int, list[Callable[..., Any]], Any]]
PLACEHOLDER = re.compile(r"%s")
# The statements prepared on each open PostgreSQL connection (a new connection has none).
_prepared: "WeakKeyDictionary[Any, set[str]]" = WeakKeyDictionary()


def execute(cursor: CursorWrapper, name: str, sql: str, params: Sequence[Any]) -> None:
    """Execute `sql` (with %s placeholders); on PostgreSQL as the prepared statement `name`."""
    if cursor.db.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    prepared = _prepared.setdefault(cursor.db.connection, set())
    if name not in prepared:
        # Not undone by a rollback: a prepared statement lasts as long as the session.
        numbers = count(1)
        cursor.execute(f"PREPARE {name} AS {PLACEHOLDER.sub(lambda _: f'${next(numbers)}', sql)}")
        prepared.add(name)
    cursor.execute(
        f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}", params
    )


def columns(model: type[Model], alias: str) -> str:
    """The model's concrete columns, in field order, qualified by `alias`, for a SELECT list."""
    return _columns(model, alias, connection.vendor)


def width(model: type[Model]) -> int:
    """How many columns `columns` names for the model."""
    return len(model._meta.concrete_fields)


def instance(model: type[M], values: Sequence[Any]) -> M:
    """Build the model instance a queryset would, from its values in `columns` order."""
    converted = list(values)
    for index, converters, expression in _converters(model):
        value = converted[index]
        for convert in converters:
            value = convert(value, expression, connection)
        converted[index] = value
    return model.from_db(DEFAULT_DB_ALIAS, _attnames(model), converted)


@cache
def _columns(model: type[Model], alias: str, vendor: str) -> str:
    quote = connection.ops.quote_name
    return ", ".join(
        f"{quote(alias)}.{quote(cast(str, field.column))}" for field in model._meta.concrete_fields
    )


@cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


@cache
def _converters(model: type[Model]) -> Converters:
    """The backend's and the fields' converters per column (built once per model: the database is fixed)."""
    compiler = Query(model).get_compiler(connection=connection)
    columns = [field.get_col(model._meta.db_table) for field in model._meta.concrete_fields]
    return [
        (index, converters, expression)
        for index, (converters, expression) in compiler.get_converters(columns).items()
    ]
