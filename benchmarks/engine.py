"""The engine scenario: the pure pay engine over synthetic workers generated in memory.

`--workers` x `--sessions-per-worker` sessions in one week (issue 3: 2 million sessions
well under a minute, no database, no float). Workers are spread over zones with DST and
half-hour offsets, one to three projects each, one to three rate steps (some
project-scoped, some changing mid-week, a few starting mid-week so some time is
unpriced) and overtime for a fraction of them. Generation is timed apart from pricing;
any database query during pricing is an error. Prints sessions per second, wall time,
peak memory (ru_maxrss) and a checksum (seconds, amount, lines, unpriced seconds) that is
the same for the same arguments, so runs and engine versions can be compared.
"""

import cProfile
import io
import pstats
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from io import TextIOBase
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import CommandError
from django.db import connection

from benchmarks.common import peak_memory_mb, timed
from core.periods import local_day_start, period_window
from payroll.pay import OvertimePolicy, PeriodPay, RateStep, WorkSpan, price_period


def run(out: TextIOBase, workers: int, per_worker: int, seed: int, profile: bool) -> None:
    """Generate the workers, price them, print the figures (and a profile if asked)."""
    if workers < 1 or per_worker < 1:
        raise CommandError("--workers and --sessions-per-worker must be at least 1.")
    started = time.perf_counter()
    people = synthetic_workers(workers, per_worker, seed)
    generated = time.perf_counter() - started
    sessions = workers * per_worker
    out.write(
        f"engine: {workers} workers x {per_worker} sessions = {sessions} sessions in {ENGINE_PERIOD}, "
        f"{len(ENGINE_ZONES)} zones, seed {seed}\n"
    )
    out.write(f"  generation (not timed below)  {generated:8.2f} s\n")
    priced: list[PeriodPay] = []
    with connection.execute_wrapper(_refuse_queries):
        pricing = timed("pricing", sessions, lambda: priced.extend(price_all(people)))
    out.write(
        f"  pricing (price_period)        {pricing.seconds:8.2f} s  "
        f"{pricing.rows_per_second:10.0f} sessions/s  {workers / pricing.seconds:8.0f} workers/s\n"
    )
    out.write(f"  peak memory (process)         {peak_memory_mb():8.0f} MB\n")
    out.write(f"  checksum                      {engine_checksum(priced)}\n")
    if profile:
        _profile(out, people)


def _profile(out: TextIOBase, people: list["SyntheticWorker"]) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(price_all, people)
    out.write("  profile (cProfile; top functions by own time):\n")
    report = io.StringIO()
    pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(15)
    out.write(report.getvalue())


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
