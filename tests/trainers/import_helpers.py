"""Helpers shared by the CSV import tests: files and rows to import, refusals to read."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from trainers.models import LabellingSession, SessionSource
from trainers.services.session_csv import ImportRejected
from trainers.services.session_import import sessions_import

HEADER = "project,started_at,ended_at,task_count,notes"


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def iso(instant: datetime) -> str:
    return instant.isoformat()


def csv_file(*rows: str, header: str = HEADER, newline: str = "\n") -> bytes:
    """A file of `rows` under `header`, each line ended by `newline`."""
    return (newline.join([header, *rows]) + newline).encode()


def row(project: Any, start: datetime, end: datetime, task_count: str = "3", notes: str = "ok") -> str:
    """A row under HEADER."""
    return f"{project.pk},{iso(start)},{iso(end)},{task_count},{notes}"


def imported(worker: Any) -> list[LabellingSession]:
    """The worker's imported sessions, earliest first."""
    return list(
        LabellingSession.objects.filter(worker=worker, source=SessionSource.IMPORT).order_by("started_at")
    )


def rejection(actor: Any, content: bytes) -> ImportRejected:
    """Import expecting a refusal; return it after checking nothing was written."""
    before = (LabellingSession.objects.count(), LabellingSession.history.count())
    with pytest.raises(ImportRejected) as refused:
        sessions_import(actor=actor, content=content)
    assert (LabellingSession.objects.count(), LabellingSession.history.count()) == before
    return refused.value


def row_errors(refused: ImportRejected) -> dict[int, dict[str, list[str]]]:
    """Each refused line's errors by field."""
    return {entry["line"]: entry["errors"] for entry in refused.errors["rows"]}
