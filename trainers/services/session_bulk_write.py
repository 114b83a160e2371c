"""Writing validated sessions with their history rows straight to the database.

For the CSV import: the ORM's per-object work dominated a 100,000-row import, so rows go
in bulk through the one COPY writer (core.db.bulk). Ids are reserved up front so history
rows can name their sessions without a read-back. Every rule was checked before this runs; the database
constraints remain the backstop.
"""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.db.bulk import allocate_ids, insert_rows
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
        for row, pk in zip(parsed, allocate_ids(LabellingSession, len(parsed)), strict=True)
    ]
    history = (stamp, None, "+", actor.pk)  # history_date, change reason, type "created", user
    insert_rows(LabellingSession, SESSION_COLUMNS, sessions)
    if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        insert_rows(_history_model(), HISTORY_COLUMNS, [values + history for values in sessions])


def _history_model() -> Any:
    return LabellingSession.history.model  # type: ignore[attr-defined]
