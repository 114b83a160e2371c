"""The import scenario: a CSV through the real import service against a bare bulk write.

`--rows` finished sessions through `sessions_import` (parse, validate, overlap and lock
checks, write with history), against the floor of writing the same rows with no checks at
all. Runs in the scratch database.
"""

from datetime import UTC, datetime, timedelta
from io import TextIOBase
from types import SimpleNamespace

from django.core.management.base import CommandError
from django.db import transaction

from benchmarks.common import peak_memory_mb, timed
from trainers.models import LabellingSession, Project, Role, User, Worker
from trainers.services.session_bulk_write import write_sessions
from trainers.services.session_import import sessions_import

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SESSION_STRIDE = timedelta(minutes=35)  # 30-minute sessions with 5-minute gaps


def run(out: TextIOBase, rows: int) -> None:
    """Import `rows` sessions the real way and the bare way; print both and the ratio."""
    actor, worker, project = _contractor_on_a_project("bench")
    content = _csv(rows, project.pk)
    out.write(f"Importing {rows} rows ({len(content) / 1e6:.1f} MB)\n")
    real = timed("import (real path)", rows, lambda: sessions_import(actor=actor, content=content, now=NOW))
    landed = LabellingSession.objects.filter(worker=worker).count()
    if landed != rows:
        raise CommandError(f"Imported {landed} sessions, expected {rows}.")
    _, floor_worker, floor_project = _contractor_on_a_project("floor")
    parsed = _parsed_rows(rows, floor_worker, floor_project)
    floor = timed("bare bulk write (floor)", rows, lambda: _write_in_transaction(actor, parsed))
    for timing in (real, floor):
        out.write(f"  {timing.label:<26} {timing.seconds:8.2f} s  {timing.rows_per_second:10.0f} rows/s\n")
    out.write(f"  ratio real/floor           {real.seconds / floor.seconds:8.2f}x\n")
    out.write(f"  peak memory (process)      {peak_memory_mb():8.0f} MB\n")


def _contractor_on_a_project(name: str) -> tuple[User, Worker, Project]:
    user = User.objects.create(username=name, role=Role.CONTRACTOR)
    worker = Worker.objects.create(
        user=user, full_name=name, email=f"{name}@example.com", time_zone="America/Chicago"
    )
    project = Project.objects.create(name=f"{name} project", client="Benchmark")
    project.workers.add(worker)
    return user, worker, project


def _starts(rows: int) -> list[datetime]:
    """30-minute sessions with 5-minute gaps, ending before NOW (the future is refused)."""
    first = NOW - SESSION_STRIDE * (rows + 1)
    return [first + SESSION_STRIDE * index for index in range(rows)]


def _csv(rows: int, project_id: int) -> bytes:
    lines = ["project,started_at,ended_at,task_count,notes"]
    for index, start in enumerate(_starts(rows)):
        end = start + timedelta(minutes=30)
        lines.append(f"{project_id},{start.isoformat()},{end.isoformat()},{index % 50},batch {index}")
    return ("\n".join(lines) + "\n").encode()


def _parsed_rows(rows: int, worker: Worker, project: Project) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(
            worker=worker,
            project=project,
            started_at=start,
            ended_at=start + timedelta(minutes=30),
            task_count=index % 50,
            notes=f"batch {index}",
            activity="labelling",
        )
        for index, start in enumerate(_starts(rows))
    ]


def _write_in_transaction(actor: User, parsed: list[SimpleNamespace]) -> None:
    with transaction.atomic():
        write_sessions(actor, parsed)
