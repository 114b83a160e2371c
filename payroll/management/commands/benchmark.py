"""Measure Fairhour's heavy paths on synthetic data.

    manage.py benchmark --scenario import --rows 100000
    manage.py benchmark --scenario engine --workers 100000 --sessions-per-worker 20

Scenarios:
- import: a CSV of `--rows` finished sessions through the real import service (parse,
  validate, overlap and lock checks, write with history), against the floor of writing the
  same rows with no checks at all. Prints wall time, rows per second, peak memory and the
  ratio to the floor. It never touches the configured database: it creates
  `<name>_benchmark` (or a temporary SQLite file) beside it, as the test runner does, and
  drops it at the end.
- engine: the pure pay engine (payroll.pay.price_period) over `--workers` x
  `--sessions-per-worker` sessions generated in memory for one week (issue 3: 2 million
  sessions well under a minute, no database, no float). Workers are spread over zones
  with DST and half-hour offsets, one to three projects each, one to three rate steps
  (some project-scoped, some changing mid-week, a few starting mid-week so some time is
  unpriced) and overtime for a fraction of them. Generation is timed apart from pricing;
  any database query during pricing is an error. Prints sessions per second, wall time,
  peak memory (ru_maxrss) and a checksum (seconds, amount, lines, unpriced seconds) that
  is the same for the same arguments, so runs and engine versions can be compared.
"""

import cProfile
import io
import pstats
import random
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from payroll.pay import OvertimePolicy, PeriodPay, RateStep, WorkSpan, price_period
from payroll.periods import local_day_start, period_window
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
    help = "Benchmark Fairhour's heavy paths on synthetic data (import: in a throwaway database)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scenario", choices=["import", "engine"], default="import")
        parser.add_argument("--rows", type=int, default=20_000, help="import: CSV rows to import.")
        parser.add_argument("--workers", type=int, default=100_000, help="engine: workers to price.")
        parser.add_argument(
            "--sessions-per-worker", type=int, default=20, help="engine: sessions of each worker in the week."
        )
        parser.add_argument("--seed", type=int, default=45, help="engine: seed of the synthetic data.")
        parser.add_argument(
            "--profile", action="store_true", help="engine: also run the pricing under cProfile."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the scenario and print its figures."""
        if options["scenario"] == "engine":
            self._engine_scenario(
                options["workers"], options["sessions_per_worker"], options["seed"], options["profile"]
            )
        else:
            self._in_scratch_database(lambda: self._import_scenario(options["rows"]))

    def _in_scratch_database(self, scenario: Callable[[], None]) -> None:
        """Create a scratch database, run the scenario, drop the database."""
        test_settings = connection.settings_dict.setdefault("TEST", {})
        test_settings["NAME"] = (
            None if connection.vendor == "sqlite" else f"{connection.settings_dict['NAME']}_benchmark"
        )
        old_name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            scenario()
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

    def _engine_scenario(self, workers: int, per_worker: int, seed: int, profile: bool) -> None:
        if workers < 1 or per_worker < 1:
            raise CommandError("--workers and --sessions-per-worker must be at least 1.")
        started = time.perf_counter()
        people = synthetic_workers(workers, per_worker, seed)
        generated = time.perf_counter() - started
        sessions = workers * per_worker
        self.stdout.write(
            f"engine: {workers} workers x {per_worker} sessions = {sessions} sessions in {ENGINE_PERIOD}, "
            f"{len(ENGINE_ZONES)} zones, seed {seed}"
        )
        self.stdout.write(f"  generation (not timed below)  {generated:8.2f} s")
        priced: list[PeriodPay] = []
        with connection.execute_wrapper(_refuse_queries):
            pricing = _timed("pricing", sessions, lambda: priced.extend(price_all(people)))
        self.stdout.write(
            f"  pricing (price_period)        {pricing.seconds:8.2f} s  "
            f"{pricing.rows_per_second:10.0f} sessions/s  {workers / pricing.seconds:8.0f} workers/s"
        )
        self.stdout.write(f"  peak memory (process)         {_peak_memory_mb():8.0f} MB")
        self.stdout.write(f"  checksum                      {engine_checksum(priced)}")
        if profile:
            self._profile(people)

    def _profile(self, people: list["SyntheticWorker"]) -> None:
        profiler = cProfile.Profile()
        profiler.runcall(price_all, people)
        self.stdout.write("  profile (cProfile; top functions by own time):")
        report = io.StringIO()
        pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(15)
        self.stdout.write(report.getvalue(), ending="")


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


# The engine scenario: synthetic workers in memory -------------------------------------------

ENGINE_PERIOD = "2026-W44"  # holds the US fall-back night of PAY_RULES' worked example 2
ENGINE_ZONES = (
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Lord_Howe",  # DST of 30 minutes
    "Pacific/Kiritimati",  # UTC+14
)
ENGINE_PROJECTS = 40
# Hourly rates with 2 to 4 decimals, never rounded (PAY_RULES §3).
ENGINE_RATES = (
    *(Decimal(cents) / 100 for cents in range(1_200, 4_500, 37)),
    Decimal("20.862"),
    Decimal("17.1234"),
    Decimal("33.3333"),
)
OVERTIME_SHARE = 0.3
OVERTIME = OvertimePolicy(after_seconds=40 * 3600, multiplier=Decimal("1.5"))
NO_OVERTIME = OvertimePolicy()
EDGE = 2 * 3600  # sessions start up to 2 h before the week and end up to 2 h after it
LONGEST = 10 * 3600
SHORTEST = 15 * 60


@dataclass(frozen=True, slots=True)
class SyntheticWorker:
    """What the bulk close hands the engine for one worker: spans, rate steps, window, policy."""

    spans: list[WorkSpan]
    rates: list[RateStep]
    window: tuple[int, int]
    policy: OvertimePolicy


@dataclass(frozen=True)
class _Calendar:
    """A zone's week in epoch seconds: the window, and the local midnights rates start at."""

    window: tuple[int, int]
    long_ago: int
    midnights: tuple[int, ...]


def _calendar(zone_name: str) -> _Calendar:
    zone = ZoneInfo(zone_name)
    low, high = period_window(ENGINE_PERIOD, zone)
    monday = date.fromisocalendar(2026, 44, 1)
    midnights = tuple(local_day_start(monday + timedelta(days=day), zone) for day in range(8))
    return _Calendar((low, high), local_day_start(date(2026, 1, 1), zone), midnights)


def synthetic_workers(workers: int, per_worker: int, seed: int) -> list[SyntheticWorker]:
    """Workers with `per_worker` non-overlapping sessions each in ENGINE_PERIOD (deterministic)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not a secret
    calendars = [_calendar(zone) for zone in ENGINE_ZONES]
    people = []
    for index in range(workers):
        calendar = calendars[index % len(calendars)]
        projects = rng.sample(range(1, ENGINE_PROJECTS + 1), rng.randint(1, 3))
        people.append(
            SyntheticWorker(
                _spans(rng, calendar.window, per_worker, projects),
                _rates(rng, calendar, projects),
                calendar.window,
                OVERTIME if rng.random() < OVERTIME_SHARE else NO_OVERTIME,
            )
        )
    return people


def _spans(rng: random.Random, window: tuple[int, int], count: int, projects: list[int]) -> list[WorkSpan]:
    """One session in each of `count` equal slots over the week (and a little beyond it)."""
    low, high = window[0] - EDGE, window[1] + EDGE
    slot = (high - low) // count
    longest = max(1, min(slot - 1, LONGEST))
    shortest = min(SHORTEST, longest)
    draw = rng.random  # randint/choice cost more than the rest of the generation together
    spans = []
    for index in range(count):
        length = shortest + int(draw() * (longest - shortest + 1))
        start = low + index * slot + int(draw() * (slot - length + 1))
        spans.append(WorkSpan(start, start + length, projects[int(draw() * len(projects))]))
    return spans


def _rates(rng: random.Random, calendar: _Calendar, projects: list[int]) -> list[RateStep]:
    """A default rate, maybe a project rate, maybe a mid-week change; 1 in 50 starts mid-week."""
    default_from = calendar.midnights[2] if rng.random() < 0.02 else calendar.long_ago
    steps = [RateStep(None, default_from, rng.choice(ENGINE_RATES))]
    if rng.random() < 0.4:
        steps.append(RateStep(projects[0], calendar.long_ago, rng.choice(ENGINE_RATES)))
    if rng.random() < 0.4:
        scope = rng.choice([None, projects[-1]])
        steps.append(RateStep(scope, calendar.midnights[rng.randint(1, 6)], rng.choice(ENGINE_RATES)))
    return steps


def price_all(people: list[SyntheticWorker]) -> list[PeriodPay]:
    """Price every worker's week: the code under measurement."""
    return [price_period(worker.spans, worker.rates, worker.window, worker.policy) for worker in people]


def engine_checksum(priced: list[PeriodPay]) -> str:
    """Totals that any correct engine gives for the same synthetic data."""
    seconds = sum(pay.total_seconds for pay in priced)
    amount = sum((pay.amount for pay in priced), Decimal(0))
    lines = sum(len(pay.lines) for pay in priced)
    unpriced = sum(gap.seconds for pay in priced for gap in pay.unpriced)
    return f"seconds={seconds} amount={amount} lines={lines} unpriced_seconds={unpriced}"


def _refuse_queries(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    raise CommandError(f"The pay engine must not touch the database; it ran: {sql[:80]}")
