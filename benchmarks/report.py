"""The report scenario: the pay report over several weeks, timed per grouping, against an SQL floor.

In the scratch database, untimed: the synthetic workforce with its sessions over `weeks`
weeks from PERIOD (benchmarks.workforce, COPY); an adjustment for one worker in a
hundred in the first week and in the first open one, through the service; every week
closed by the real job, and the first `signed` weeks submitted and approved in bulk as the
payroll scenario does (a sample re-priced live to prove the stored lines). Then, timed,
`pay_report` as finance for each grouping over all the weeks (signed weeks read their
stored lines, open weeks are priced live), with the queries it ran and its peak memory,
and one `GET reports/pay/` through the DRF view. Last, over the signed weeks alone, each
grouping against a hand-written SQL floor of the same figures (stored lines and
adjustments summed in one statement); the run fails on a cent of difference.
"""

import random
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as day_time
from decimal import Decimal
from functools import partial
from io import TextIOBase
from typing import Any

from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory, force_authenticate

from benchmarks.close_and_invoice import (
    celery_tasks,
    check_sample,
    run_job,
    submit_and_approve_in_bulk,
)
from benchmarks.common import peak_memory_mb
from benchmarks.workforce import PERIOD, load_workforce
from core.periods import next_period, parse_period_key
from payroll.api_reports import PayReportView
from payroll.models import FROZEN_STATUSES, Adjustment, Timesheet
from payroll.selectors.reports import GROUP_BY, MAX_REPORT_WEEKS, PayReportRow, pay_report
from payroll.services.adjustments import adjustment_create
from trainers.models import User, Worker

ADJUSTED_EVERY = 100  # one worker in a hundred gets an adjustment in each adjusted week
Figures = dict[tuple[Any, str], tuple[int, Decimal, Decimal]]  # (key, currency) -> seconds, amount, adj.


@dataclass
class Measured:
    """One timed call: wall time, what it returned, the queries it ran, its peak Python memory."""

    seconds: float
    rows: Any  # the report's rows, or the floor's figures
    queries: int
    peak_mb: float = 0.0


def run(out: TextIOBase, workers: int, sessions: int, weeks: int, signed: int, seed: int) -> None:
    """Load and sign weeks, time the report per grouping, compare the signed weeks with the floor."""
    if workers < 1 or sessions < workers or not 1 <= signed <= weeks <= MAX_REPORT_WEEKS:
        raise CommandError(
            f"--workers must be at least 1, --sessions at least --workers, and "
            f"1 <= --signed-weeks <= --weeks <= {MAX_REPORT_WEEKS}."
        )
    periods = [PERIOD]
    while len(periods) < weeks:
        periods.append(next_period(periods[-1]))
    out.write(
        f"report: {workers} workers, {sessions} sessions over {weeks} weeks "
        f"({periods[0]} to {periods[-1]}, {signed} signed), seed {seed}\n"
    )
    started = time.perf_counter()
    force = load_workforce(workers, sessions, seed, weeks)
    out.write(f"  load with COPY (untimed)             {time.perf_counter() - started:8.2f} s\n")
    started = time.perf_counter()
    finance = force.finance
    assert finance is not None  # noqa: S101 - load_workforce always creates one
    _sign(out, finance, periods, signed, seed)
    out.write(
        f"  adjust, close {weeks}, approve {signed} (untimed) {time.perf_counter() - started:8.2f} s  "
        f"{Timesheet.objects.count()} timesheets, {Adjustment.objects.count()} adjustments\n"
    )
    _time_all_weeks(out, finance, periods)
    differing = _compare_signed_weeks(out, finance, periods[:signed])
    out.write(f"  peak memory (this process)           {peak_memory_mb():8.0f} MB\n")
    if differing:
        raise CommandError(f"The report and the SQL floor disagree for the signed weeks: {differing}.")
    out.write("  check: every group of the signed weeks agrees with the SQL floor to the cent\n")


def _sign(out: TextIOBase, finance: User, periods: list[str], signed: int, seed: int) -> None:
    """Adjust, close every week with the real job, submit and approve the first `signed` in bulk."""
    with celery_tasks(out, 0):  # inline, in this process: the report is what is measured here
        for period in [periods[0], *periods[signed : signed + 1]]:  # a signed week, an open one
            _adjust(finance, period, seed)
        for period in periods:
            run_job("close_period", finance, period)
    for period in periods[:signed]:
        submit_and_approve_in_bulk(period)
        check_sample(seed, period)


def _adjust(finance: User, period: str, seed: int) -> None:
    """One worker in a hundred gets a correction in `period` (asked on its Wednesday), as finance."""
    rng = random.Random(f"{seed}-{period}")  # noqa: S311 - reproducible synthetic data
    wednesday = datetime.combine(date.fromisocalendar(*parse_period_key(period), 3), day_time(12), tzinfo=UTC)
    for worker in Worker.objects.order_by("pk")[::ADJUSTED_EVERY]:
        cents = rng.choice([n for n in range(-300, 4_001) if n])
        adjustment_create(
            actor=finance,
            worker=worker,
            amount=Decimal(cents) / 100,
            currency=worker.currency,
            reason="Benchmark correction",
            now=wednesday,
        )


def _time_all_weeks(out: TextIOBase, finance: User, periods: list[str]) -> None:
    """Time the report per grouping over every week, then one API call."""
    first, last = periods[0], periods[-1]
    timesheets = Timesheet.objects.filter(period__gte=first, period__lte=last).count()
    out.write(f"  pay_report, {first} to {last}, as finance (signed: stored lines; open: priced live)\n")
    for group_by in GROUP_BY:
        report = measure(partial(report_rows, finance, first, last, group_by))
        out.write(
            f"    group_by={group_by:<8} {report.seconds:8.3f} s  "
            f"{timesheets / report.seconds:9.0f} timesheets/s  {len(report.rows):6d} rows  "
            f"{report.queries:4d} queries  peak {report.peak_mb:6.1f} MB\n"
        )
    size: list[int] = []
    api = measure(partial(_api_report, finance, first, last, "worker", size))
    out.write(
        f"  GET reports/pay/ group_by=worker (DRF view, JSON) {api.seconds:8.3f} s  {len(api.rows)} rows  "
        f"{api.queries} queries  {size[0] / 1e6:.1f} MB of JSON  peak {api.peak_mb:6.1f} MB\n"
    )


def report_rows(user: User, period_from: str, period_to: str, group_by: str) -> list[PayReportRow]:
    """The report's rows through the real selector."""
    return pay_report(user=user, period_from=period_from, period_to=period_to, group_by=group_by).rows


def _api_report(user: User, period_from: str, period_to: str, group_by: str, size: list[int]) -> list[Any]:
    """The report through its DRF view, rendered to JSON, as the signed-in user."""
    params = {"period_from": period_from, "period_to": period_to, "group_by": group_by}
    request = APIRequestFactory().get("/api/v1/reports/pay/", params)
    force_authenticate(request, user=user)
    response = PayReportView.as_view()(request)
    response.render()
    if response.status_code != 200:
        raise CommandError(f"GET reports/pay/ answered {response.status_code}: {response.content[:500]!r}")
    size[:] = [len(response.content)]
    return list(response.data)


def _compare_signed_weeks(out: TextIOBase, finance: User, signed: list[str]) -> dict[str, int]:
    """Time each grouping of the signed weeks against the floor; the groups that differ, by grouping."""
    first, last = signed[0], signed[-1]
    out.write(f"  signed weeks {first} to {last}: pay_report against the SQL floor (lines + adjustments)\n")
    differing: dict[str, int] = {}
    for group_by in GROUP_BY:
        report = measure(partial(report_rows, finance, first, last, group_by), memory=False)
        floor = measure(partial(floor_rows, group_by, first, last), memory=False)
        differences = figures_differing(report_figures(report.rows), floor.rows)
        if differences:
            differing[group_by] = differences
        verdict = f"{differences} groups differ" if differences else "equal to the cent"
        out.write(
            f"    group_by={group_by:<8} {report.seconds:8.3f} s  floor {floor.seconds:7.3f} s  "
            f"{report.seconds / floor.seconds:6.2f}x  {len(report.rows):6d} rows  {verdict}\n"
        )
    return differing


def measure(action: Callable[[], Any], memory: bool = True) -> Measured:
    """Time `action` counting its queries; then, if asked, run it again under tracemalloc for its peak."""
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        rows = action()
        seconds = time.perf_counter() - started
    measured = Measured(seconds, rows, len(queries))
    if memory:  # a run of its own: tracing slows Python down several times
        tracemalloc.start()
        try:
            action()
            measured.peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()
    return measured


# The floor -----------------------------------------------------------------------------------

FLOOR_SQL = """
WITH counted AS (
    SELECT t.id, t.worker_id, t.period, t.currency, w.team_id
    FROM payroll_timesheet t JOIN trainers_worker w ON w.id = t.worker_id
    WHERE t.period BETWEEN %(first)s AND %(last)s AND t.status = ANY(%(frozen)s)
)
SELECT key, currency, SUM(seconds), SUM(amount), SUM(adjustments) FROM (
    SELECT {line_key} AS key, c.currency, l.seconds, l.amount, 0 AS adjustments
    FROM payroll_timesheetline l JOIN counted c ON c.id = l.timesheet_id
    {adjustments}
) parts GROUP BY key, currency
"""
ADJUSTMENTS_SQL = """
    UNION ALL
    SELECT {adjustment_key}, a.currency, 0, a.amount, a.amount
    FROM payroll_adjustment a JOIN counted c ON c.worker_id = a.worker_id AND c.period = a.applies_to_period
"""
# The key of each grouping, from a line (l) and its counted timesheet (c); adjustments have
# no project, so the project grouping leaves them out.
FLOOR_KEYS = {"worker": "c.worker_id", "project": "l.project_id", "team": "c.team_id", "period": "c.period"}


def floor_rows(group_by: str, first: str, last: str) -> Figures:
    """The signed weeks' figures per group and currency, in one hand-written statement."""
    key = FLOOR_KEYS[group_by]
    adjustments = "" if group_by == "project" else ADJUSTMENTS_SQL.format(adjustment_key=key)
    sql = FLOOR_SQL.format(line_key=key, adjustments=adjustments)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"first": first, "last": last, "frozen": sorted(FROZEN_STATUSES)})
        return {(k, currency): (int(s), amount, adj) for k, currency, s, amount, adj in cursor.fetchall()}


def report_figures(rows: list[PayReportRow]) -> Figures:
    """The report's rows as the floor gives them."""
    return {(row.key, row.currency): (row.seconds, row.amount, row.adjustments) for row in rows}


def figures_differing(report: Figures, floor: Figures) -> int:
    """How many (group, currency) pairs differ in seconds, amount or adjustments, or exist on one side."""
    return sum(1 for group in report.keys() | floor.keys() if report.get(group) != floor.get(group))
