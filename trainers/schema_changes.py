"""Index changes for hand-written migrations: found by table, column and kind, not by name.

Django's AlterField drops every index on a column alone (partial unique ones included)
and re-checks the foreign key with its table locked. Migrations that only drop or add a
plain index use these instead; they work CONCURRENTLY, so those migrations are not
atomic. Kept stable: applied migrations import them.
"""

from typing import Any


def constraints_of(schema_editor: Any, table: str) -> dict[str, dict[str, Any]]:
    """The table's constraints and indexes, as Django's introspection describes them."""
    with schema_editor.connection.cursor() as cursor:
        return dict(schema_editor.connection.introspection.get_constraints(cursor, table))


def plain_indexes_on(schema_editor: Any, table: str, column: str) -> list[str]:
    """Names of the plain (not unique, btree) indexes on exactly this one column."""
    return [
        name
        for name, info in constraints_of(schema_editor, table).items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and info["columns"] == [column]
        and info.get("type") in ("btree", "idx")  # Django: "idx" a plain btree, "btree" one with options
    ]


def drop_plain_indexes(schema_editor: Any, table: str, column: str) -> None:
    """Drop the plain indexes on this one column, CONCURRENTLY."""
    for name in plain_indexes_on(schema_editor, table, column):
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


def create_plain_index(schema_editor: Any, table: str, column: str, name: str, opclass: str = "") -> None:
    """Create a plain index on one column, CONCURRENTLY, unless it exists."""
    key = f'"{column}" {opclass}'.strip()
    schema_editor.execute(f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" ({key})')
