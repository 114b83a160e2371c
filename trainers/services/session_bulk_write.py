"""Writing validated sessions with their history rows straight to the database.

For the CSV import: the ORM's per-object work dominated a 100,000-row import, so rows go
in bulk through the one COPY writer (core.db.bulk). Ids are reserved up front so history
rows can name their sessions without a read-back. For one new session (the API's busiest
write): the session and its history row in one statement. Every rule was checked before
these run; the database constraints remain the backstop.
"""

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.db.bulk import allocate_ids, insert_rows
from trainers.models import LabellingSession, SessionSource, User

# The columns written per session (also the attributes' names), and per history row on top of
# them (history_id is automatic).
SESSION_COLUMNS = (
    "id",
    "worker_id",
    "project_id",
    "activity",
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
            row.activity,
            row.started_at,
            row.ended_at,
            row.task_count,
            row.notes,
            source,
            False,
            stamp,
            stamp,
        )
        for row, pk in zip(parsed, allocate_ids(LabellingSession, len(parsed)), strict=True)
    ]
    history = (stamp, None, "+", actor.pk)  # history_date, change reason, type "created", user
    insert_rows(LabellingSession, SESSION_COLUMNS, sessions)
    if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        insert_rows(_history_model(), HISTORY_COLUMNS, [values + history for values in sessions])


def _history_model() -> Any:
    return LabellingSession.history.model  # type: ignore[attr-defined]


def session_insert_with_history(session: LabellingSession, *, actor: User) -> None:
    """Insert a new, validated session and its "created" history row naming `actor`.

    One statement writes both, the history row copied from the inserted one: the row
    simple-history's post_save would write, without its ORM save (a fifth of a create's
    CPU, measured). No post_save is sent: nothing else listens for sessions. With
    history off, the ORM saves as usual.
    """
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        session.save()
        return
    session.created_at = session.updated_at = now = timezone.now()
    values = [getattr(session, column) for column in SESSION_COLUMNS[1:]]  # the id comes from the sequence
    with connection.cursor() as cursor:
        cursor.execute(_insert_with_history_sql(), [*values, now, actor.pk])
        session.pk = cursor.fetchone()[0]
    session._state.adding = False
    session._state.db = connection.alias


@cache
def _insert_with_history_sql() -> str:
    """INSERT the session, then its history row from the first's RETURNING."""
    quote = connection.ops.quote_name
    history = _history_model()
    returned = ", ".join(_columns(LabellingSession, SESSION_COLUMNS))
    inserted = ", ".join(_columns(LabellingSession, SESSION_COLUMNS[1:]))
    marks = ", ".join(["%s"] * (len(SESSION_COLUMNS) - 1))
    return (
        f"WITH new AS (INSERT INTO {quote(LabellingSession._meta.db_table)} "  # noqa: S608 - model names only
        f"({inserted}) VALUES ({marks}) RETURNING {returned}) "
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(_columns(history, HISTORY_COLUMNS))}) "
        f"SELECT {returned}, %s, NULL, '+', %s FROM new RETURNING {quote('id')}"
    )


def _columns(model: Any, names: Sequence[str]) -> list[str]:
    return [connection.ops.quote_name(model._meta.get_field(name).column) for name in names]
