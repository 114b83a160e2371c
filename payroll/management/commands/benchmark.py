"""Measure Fairhour's heavy paths on synthetic data, in a throwaway database.

    manage.py benchmark --scenario import --rows 100000

Scenarios:
- import: a CSV of `--rows` finished sessions through the real import service (parse,
  validate, overlap and lock checks, write with history), against the floor of writing the
  same rows with no checks at all. Prints wall time, rows per second, peak memory and the
  ratio to the floor.

It never touches the configured database: it creates `<name>_benchmark` (or a temporary
SQLite file) beside it, as the test runner does, and drops it at the end.
"""

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from trainers.models import LabellingSession, Project, Role, User, Worker
from trainers.services.session_bulk_write import write_sessions
from trainers.services.session_import import sessions_import

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SESSION_STRIDE = timedelta(minutes=35)  # 30-minute sessions with 5-minute gaps


@dataclass
class Timing:
    label: str
    seconds: float
    rows: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


class Command(BaseCommand):
    help = "Benchmark Fairhour's heavy paths on synthetic data in a throwaway database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scenario", choices=["import"], default="import")
        parser.add_argument("--rows", type=int, default=20_000, help="CSV rows to import.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create a scratch database, run the scenario, print figures, drop the database."""
        test_settings = connection.settings_dict.setdefault("TEST", {})
        test_settings["NAME"] = (
            None if connection.vendor == "sqlite" else f"{connection.settings_dict['NAME']}_benchmark"
        )
        old_name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self._import_scenario(options["rows"])
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)

    def _import_scenario(self, rows: int) -> None:
        actor, worker, project = _contractor_on_a_project("bench")
        content = _csv(rows, project.pk)
        self.stdout.write(f"{connection.vendor}: importing {rows} rows ({len(content) / 1e6:.1f} MB)")
        real = _timed(
            "import (real path)", rows, lambda: sessions_import(actor=actor, content=content, now=NOW)
        )
        landed = LabellingSession.objects.filter(worker=worker).count()
        if landed != rows:
            raise CommandError(f"Imported {landed} sessions, expected {rows}.")
        _, floor_worker, floor_project = _contractor_on_a_project("floor")
        parsed = _parsed_rows(rows, floor_worker, floor_project)
        floor = _timed("bare bulk write (floor)", rows, lambda: _write_in_transaction(actor, parsed))
        for timing in (real, floor):
            self.stdout.write(
                f"  {timing.label:<26} {timing.seconds:8.2f} s  {timing.rows_per_second:10.0f} rows/s"
            )
        self.stdout.write(f"  ratio real/floor           {real.seconds / floor.seconds:8.2f}x")
        self.stdout.write(f"  peak memory (process)      {_peak_memory_mb():8.0f} MB")


def _timed(label: str, rows: int, action: Callable[[], object]) -> Timing:
    started = time.perf_counter()
    action()
    return Timing(label, time.perf_counter() - started, rows)


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
        )
        for index, start in enumerate(_starts(rows))
    ]


def _write_in_transaction(actor: User, parsed: list[SimpleNamespace]) -> None:
    with transaction.atomic():
        write_sessions(actor, parsed)


def _peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
