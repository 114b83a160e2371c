"""Writing validated sessions with their history rows straight to the database.

For the CSV import: the ORM's per-object work dominated a 100,000-row import, so rows go
in bulk with PostgreSQL COPY. Ids are reserved up front so history rows can name their
sessions without a read-back. Every rule was checked before this runs; the database
constraints remain the backstop.
"""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from trainers.models import LabellingSession, SessionSource, User

# The columns written per session (also the attributes' names), and per history row on top of
# them (history_id is automatic).
SESSION_COLUMNS = (
    "id",
    "worker_id",
    "project_id",
    "started_at",
    "ended_at",
    "task_count",
    "notes",
    "source",
    "needs_review",
    "created_at",
    "updated_at",
)
HISTORY_COLUMNS = (
    *SESSION_COLUMNS,
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user_id",
)


def write_sessions(actor: User, parsed: Sequence[Any]) -> None:
    """Write the sessions and their history rows (created by `actor`) in bulk."""
    stamp = timezone.now()
    source = SessionSource.IMPORT.value
    sessions = [
        (
            pk,
            row.worker.pk,
            row.project.pk,
            row.started_at,
            row.ended_at,
            row.task_count,
            row.notes,
            source,
            False,
            stamp,
            stamp,
        )
        for row, pk in zip(parsed, _allocate_session_ids(len(parsed)), strict=True)
    ]
    history = (stamp, None, "+", actor.pk)  # history_date, change reason, type "created", user
    _write(LabellingSession, SESSION_COLUMNS, sessions)
    if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        _write(_history_model(), HISTORY_COLUMNS, [values + history for values in sessions])


def _history_model() -> Any:
    return LabellingSession.history.model  # type: ignore[attr-defined]


def _allocate_session_ids(count: int) -> list[int]:
    """Reserve `count` new session ids, so history rows can name them without a read-back."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [LabellingSession._meta.db_table, count],
        )
        return sorted(pk for (pk,) in cursor.fetchall())


def _write(model: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert database-ready tuples with COPY."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(model._meta.get_field(column).column) for column in columns)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
