"""A synthetic workforce for the payroll and report scenarios, bulk-loaded with COPY (no services).

Deterministic for a seed. Workers are spread over zones with DST (the US fall-back night
is inside PERIOD) and half- and quarter-hour offsets; their sessions are in PERIOD (for the
report scenario, in it and the weeks after it). Each has one to three projects, a default
rate from long ago, for some a project rate, for some a rate change at a local midnight
in the middle of PERIOD, overtime after 40 h for some and tax for some.

The sessions are chosen so that a plain SQL GROUP BY is exactly right (benchmarks.floor):
every session lies inside one local day of the worker, so it never crosses the period
boundary nor a rate change (rates change at local midnights), and its rate is the one in
force on its local start date. Overtime is still split inside a session, by the floor's
running sum. No history rows are written: neither the close nor invoicing reads them.

With `mix` (the payroll scenario's `--pay-mix`), a third of the workers are paid by the
piece, most with a fair-pay floor, and a quarter of their sessions are non-production
activities (benchmarks.workforce_mix); every session's time is the same as without it.
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection

from benchmarks.workforce_mix import (
    MixCounts,
    PieceWork,
    activity_rate_rows,
    choose_piece_workers,
    mix_stream,
    piece_rate,
    session_work,
)
from core.db.bulk import insert_rows, reset_id_sequence
from core.periods import from_epoch, local_day_start
from payroll.models import Rate
from trainers.models import Activity, LabellingSession, Project, Role, Team, User, Worker
from trainers.services.session_bulk_write import SESSION_COLUMNS as bulk_session_columns

PERIOD = "2026-W44"  # Mon 26 Oct - Mon 2 Nov 2026 local: the US fall-back night is inside
MONDAY = date.fromisocalendar(2026, 44, 1)
ZONES = (
    "America/Chicago",  # falls back Sun 1 Nov 02:00: a 25-hour Sunday
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Asia/Kolkata",  # UTC+5:30
    "Asia/Kathmandu",  # UTC+5:45
    "Australia/Lord_Howe",  # UTC+11, DST of 30 minutes
    "Pacific/Kiritimati",  # UTC+14
)
PROJECTS = 40
TEAM_SIZE = 1_000
LONG_AGO = date(2026, 1, 1)
# Hourly rates with 2 to 4 decimals, never rounded (PAY_RULES §3).
RATES = (
    *(Decimal(cents) / 100 for cents in range(1_200, 4_500, 37)),
    Decimal("20.862"),
    Decimal("17.1234"),
    Decimal("33.3333"),
)
OVERTIME_SHARE = 0.3
TAX_SHARE = 0.25
TAX_RATE = Decimal("0.1900")
LONGEST = 5 * 3600
SHORTEST = 15 * 60
CREATED = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # entered on time: no late-entry warnings


@dataclass
class Workforce:
    """What was loaded: counts, and the people who act on the timesheets."""

    workers: int = 0
    sessions: int = 0
    rates: int = 0
    finance: User | None = None
    managers: dict[int, int] = field(default_factory=dict)  # team id -> manager user id
    contractors: list[int] = field(default_factory=list)  # a few worker ids, for the logging scenario
    mix: MixCounts | None = None  # what the pay mix added (None: no mix)


@dataclass(frozen=True)
class _Day:
    start: int
    end: int


def load_workforce(workers: int, sessions: int, seed: int, weeks: int = 1, mix: bool = False) -> Workforce:
    """Create `workers` contractors with `sessions` sessions between them over `weeks` weeks from PERIOD.

    `mix`: a third of them paid by the piece, with floors and activities (workforce_mix).
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not a secret
    mixing = mix_stream(seed)  # the mix's draws, apart: the workforce's own are the same either way
    loaded = Workforce(workers=workers, mix=MixCounts() if mix else None)
    loaded.finance = User.objects.create(username="bench-finance", role=Role.FINANCE)
    teams = _teams(workers, loaded)
    projects = [
        Project.objects.create(name=f"Project {n}", client="Benchmark").pk for n in range(1, PROJECTS + 1)
    ]
    user_base = _next_id(User)
    worker_base = _next_id(Worker)
    plans = [_plan(rng, index, projects) for index in range(workers)]
    if mix:
        for index, terms in choose_piece_workers(mixing, workers, MONDAY).items():
            plans[index] = replace(plans[index], piece=terms)
    insert_rows(User, USER_COLUMNS, _users(user_base, workers))
    insert_rows(
        Worker,
        WORKER_COLUMNS,
        (
            _worker_row(worker_base + i, user_base + i, teams[i // TEAM_SIZE], plan)
            for i, plan in enumerate(plans)
        ),
    )
    through = Project.workers.through
    insert_rows(
        through,
        ("project_id", "worker_id"),
        ((project, worker_base + i) for i, plan in enumerate(plans) for project in plan.projects),
    )
    counts = loaded.mix or MixCounts()
    loaded.rates = insert_rows(Rate, RATE_COLUMNS, _rate_rows(rng, mixing, worker_base, plans, counts))
    with bulk_load(LabellingSession._meta.db_table):
        loaded.sessions = insert_rows(
            LabellingSession,
            SESSION_COLUMNS,
            _session_rows(rng, mixing, worker_base, plans, sessions, weeks, counts),
        )
    for model in (User, Worker, Rate, LabellingSession, through):
        reset_id_sequence(model)
    loaded.contractors = [worker_base + i for i in range(min(workers, 16))]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return loaded


@contextmanager
def bulk_load(table: str) -> Iterator[None]:
    """Load a big table without per-row index and foreign key work.

    Its secondary indexes and exclusion constraints are dropped and built again after the
    load (one build instead of millions of inserts), and foreign keys are not checked row
    by row (the generator writes only ids it created).
    """
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'x'",
            [table],
        )
        exclusions = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        )
        indexes = cursor.fetchall()
        for name, _ in exclusions:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        cursor.execute("SET session_replication_role = replica")  # no per-row foreign key triggers
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")
            for _, definition in indexes:
                cursor.execute(definition)
            for name, definition in exclusions:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


def _teams(workers: int, loaded: Workforce) -> list[int]:
    """One team with one manager per TEAM_SIZE workers."""
    ids = []
    for number in range((workers + TEAM_SIZE - 1) // TEAM_SIZE):
        manager = User.objects.create(username=f"bench-manager-{number}", role=Role.MANAGER)
        team = Team.objects.create(name=f"Team {number}")
        team.managers.add(manager)
        loaded.managers[team.pk] = manager.pk
        ids.append(team.pk)
    return ids


def _next_id(model: type) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")  # type: ignore[attr-defined] # noqa: S608
        return int(cursor.fetchone()[0])


@dataclass(frozen=True)
class _Plan:
    zone: str
    projects: list[int]
    overtime: bool
    taxed: bool
    currency: str
    piece: PieceWork | None = None  # paid by the piece (the pay mix)


def _plan(rng: random.Random, index: int, projects: list[int]) -> _Plan:
    zone = ZONES[index % len(ZONES)]
    return _Plan(
        zone,
        rng.sample(projects, rng.randint(1, 3)),
        rng.random() < OVERTIME_SHARE,
        rng.random() < TAX_SHARE,
        "EUR" if zone == "Europe/London" else "USD",
    )


USER_COLUMNS = (
    "id",
    "password",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
    "role",
)
WORKER_COLUMNS = (
    "id",
    "user_id",
    "full_name",
    "email",
    "time_zone",
    "team_id",
    "currency",
    "overtime_after_hours",
    "overtime_multiplier",
    "tax_rate",
    "weekly_hours_cap",
    "minimum_hourly",
    "is_active",
)
RATE_COLUMNS = (
    "worker_id",
    "project_id",
    "activity",
    "hourly_rate",
    "task_rate",
    "currency",
    "effective_from",
    "created_at",
)
SESSION_COLUMNS = tuple(column for column in bulk_session_columns if column != "id")  # ids from the sequence


def _users(base: int, workers: int) -> Iterator[tuple[object, ...]]:
    for i in range(workers):
        name = f"bench-{i}"
        # "!" is Django's unusable password: these contractors never sign in with one.
        yield (base + i, "!", False, name, "", "", f"{name}@example.com", False, True, CREATED, "contractor")


def _worker_row(pk: int, user_id: int, team_id: int, plan: _Plan) -> tuple[object, ...]:
    return (
        pk,
        user_id,
        f"Trainer {pk}",
        f"trainer{pk}@example.com",
        plan.zone,
        team_id,
        plan.currency,
        Decimal("40.00") if plan.overtime else None,
        Decimal("1.50"),
        TAX_RATE if plan.taxed else Decimal("0"),
        None,
        plan.piece.floor if plan.piece else None,
        True,
    )


def _rate_rows(
    rng: random.Random, mixing: random.Random, worker_base: int, plans: list[_Plan], counts: MixCounts
) -> Iterator[tuple[object, ...]]:
    """A default rate from long ago; maybe a project rate; maybe a change mid-week.

    A piece worker's get a task rate instead of the drawn hourly rate, and it has
    activity rates besides.
    """
    for i, plan in enumerate(plans):
        worker, currency = worker_base + i, plan.currency
        scopes: list[tuple[int | None, Decimal, date]] = [(None, rng.choice(RATES), LONG_AGO)]
        if rng.random() < 0.4:
            scopes.append((plan.projects[0], rng.choice(RATES), LONG_AGO))
        if rng.random() < 0.4:
            scope = rng.choice([None, plan.projects[-1]])
            day = MONDAY + timedelta(days=rng.randint(1, 6))
            scopes.append((scope, rng.choice(RATES), day))
        for project, hourly, day in scopes:
            task_rate = None
            if plan.piece:
                hourly, task_rate = piece_rate(plan.piece, mixing, project, changed=day != LONG_AGO)
            yield (worker, project, None, hourly, task_rate, currency, day, CREATED)
        if plan.piece:
            _count_piece_worker(plan.piece, counts)
            for activity, hourly, task_rate, day in activity_rate_rows(plan.piece, LONG_AGO):
                counts.activity_rates += 1
                yield (worker, None, activity, hourly, task_rate, currency, day, CREATED)


def _count_piece_worker(terms: PieceWork, counts: MixCounts) -> None:
    counts.piece_workers += 1
    counts.pure_piece += not terms.base
    counts.floors += terms.floor is not None


def _session_rows(
    rng: random.Random,
    mixing: random.Random,
    worker_base: int,
    plans: list[_Plan],
    total: int,
    weeks: int,
    counts: MixCounts,
) -> Iterator[tuple[object, ...]]:
    days = {zone: _days(zone, weeks) for zone in ZONES}
    per_worker, extra = divmod(total, len(plans))
    labelling = Activity.LABELLING.value
    for i, plan in enumerate(plans):
        count = per_worker + (1 if i < extra else 0)
        for start, end, project in _spans(rng, days[plan.zone], count, plan.projects):
            activity, tasks = labelling, 0
            if plan.piece:
                activity, tasks = session_work(plan.piece, mixing, end - start)
                counts.activity_sessions += activity != labelling
                counts.task_sessions += tasks > 0
            yield (
                *(worker_base + i, project, activity, from_epoch(start), from_epoch(end)),
                *(tasks, "", "manual", False, CREATED, CREATED),  # notes, source, review, stamps
            )


def _days(zone_name: str, weeks: int) -> list[_Day]:
    """The local days of `weeks` weeks from PERIOD in a zone, in epoch seconds (a DST day is 23 or 25 h).

    Ordered Mondays first (week by week), then Tuesdays, ...: sessions dealt out in this
    order reach every week even when a worker has fewer sessions than days.
    """
    zone = ZoneInfo(zone_name)
    midnights = [local_day_start(MONDAY + timedelta(days=n), zone) for n in range(7 * weeks + 1)]
    order = [week * 7 + weekday for weekday in range(7) for week in range(weeks)]
    return [_Day(midnights[n], midnights[n + 1]) for n in order]


def _spans(
    rng: random.Random, days: list[_Day], count: int, projects: list[int]
) -> Iterator[tuple[int, int, int]]:
    """`count` sessions spread over the days, each inside one slot of one local day."""
    slots_per_day = max(1, -(-count // len(days)))
    draw = rng.random
    for n in range(count):
        day = days[n % len(days)]
        slot = (day.end - day.start) // slots_per_day
        longest = max(1, min(slot - 60, LONGEST))
        shortest = min(SHORTEST, longest)
        length = shortest + int(draw() * (longest - shortest + 1))
        start = day.start + (n // len(days)) * slot + int(draw() * (slot - length + 1))
        yield start, start + length, projects[int(draw() * len(projects))]
