"""Load what the pay engine needs from the database and price periods with it.

One query for the sessions and one for the rates, for one worker or for thousands at a
time (the bulk close), then pure pricing in memory (payroll.pay).
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from core.db.lookups import int_array
from core.periods import period_bounds, period_window
from payroll.pay import OvertimePolicy, PeriodPay, RateRow, WorkSpan, price_period, rate_steps_in_zone
from trainers.models import Worker

# Zones run from UTC-12 to UTC+14: a window this wide around UTC covers every zone's week.
ZONE_SLACK = timedelta(hours=15)
SECONDS_PER_HOUR = 3600


def overtime_policy(worker: Worker) -> OvertimePolicy:
    """The worker's contract overtime terms (off unless a threshold is set)."""
    if worker.overtime_after_hours is None:
        return OvertimePolicy()
    threshold = int(worker.overtime_after_hours * SECONDS_PER_HOUR)
    return OvertimePolicy(after_seconds=threshold, multiplier=worker.overtime_multiplier)


def price_worker_period(worker: Worker, period: str) -> PeriodPay:
    """Price one worker's period from the stored sessions and rates."""
    return price_workers_period([worker], period)[worker.pk]


def price_workers_period(workers: Iterable[Worker], period: str) -> dict[int, PeriodPay]:
    """Price many workers' period with two queries in all ({worker id: pay}; the close uses this)."""
    workers = list(workers)
    spans = _finished_spans(workers, period)
    rates = _rate_rows(workers)
    priced: dict[int, PeriodPay] = {}
    windows: dict[str, tuple[int, int]] = {}
    for worker in workers:
        steps = rate_steps_in_zone(rates.get(worker.pk, ()), worker.zone)
        if worker.time_zone not in windows:
            windows[worker.time_zone] = period_window(period, worker.zone)
        pay = price_period(
            spans.get(worker.pk, ()),
            steps,
            windows[worker.time_zone],
            overtime_policy(worker),
            worker.minimum_hourly,
        )
        priced[worker.pk] = pay
    return priced


def _finished_spans(workers: list[Worker], period: str) -> dict[int, list[WorkSpan]]:
    low, high = _any_zone_bounds(period)
    ids = [worker.pk for worker in workers]
    spans: dict[int, list[WorkSpan]] = defaultdict(list)
    for worker_id, start, end, project_id, activity, tasks in _epoch_rows(ids, low, high):
        spans[worker_id].append(WorkSpan(start, end, project_id, activity, tasks))
    return spans


# PostgreSQL computes epoch seconds (sessions are whole seconds, a database constraint):
# parsing two datetimes per session, and Django's per-row converters, were a third of a
# bulk close. One array parameter, not thousands of placeholders.
EPOCH_SPANS_SQL = """
SELECT worker_id, EXTRACT(EPOCH FROM started_at)::bigint, EXTRACT(EPOCH FROM ended_at)::bigint, project_id,
       activity, task_count
FROM trainers_labellingsession
WHERE worker_id = ANY(%s::bigint[]) AND ended_at IS NOT NULL AND started_at < %s AND ended_at > %s
"""


SpanRow = tuple[int, int, int, int, str, int]


def _epoch_rows(ids: list[int], low: datetime, high: datetime) -> Iterator[SpanRow]:
    """(worker, start, end, project, activity, tasks) of the finished sessions overlapping [low, high).

    Instants in epoch seconds.
    """
    with connection.cursor() as cursor:
        cursor.execute(EPOCH_SPANS_SQL, [int_array(ids), high, low])
        while rows := cursor.fetchmany(20_000):
            yield from rows


# Plain SQL, as the spans: on a single session write the ORM's query building cost more
# than the query.
RATE_ROWS_SQL = """
SELECT worker_id, project_id, hourly_rate, effective_from, activity, task_rate
FROM payroll_rate WHERE worker_id = ANY(%s::bigint[])
"""


def _rate_rows(workers: list[Worker]) -> dict[int, list[RateRow]]:
    by_worker: dict[int, list[RateRow]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(RATE_ROWS_SQL, [int_array(worker.pk for worker in workers)])
        for worker_id, *rate in cursor.fetchall():
            by_worker[worker_id].append(tuple(rate))  # type: ignore[arg-type]
    return by_worker


def _any_zone_bounds(period: str) -> tuple[datetime, datetime]:
    """UTC bounds wide enough to hold the period in every zone."""
    start, end = period_bounds(period, ZoneInfo("UTC"))
    return start - ZONE_SLACK, end + ZONE_SLACK
