"""The report scenario: the pay report over several weeks, timed per grouping, against an SQL floor.

In the scratch database, untimed: the synthetic workforce with its sessions over `weeks`
weeks from PERIOD (benchmarks.workforce, COPY); every week priced as live pricing leaves
it (`timesheets_refresh`, which every session write calls, also writing the pay
summaries); an adjustment for one worker in a hundred in the first week and in the first
open one, through the service; the first `signed` weeks submitted and approved in bulk
as the payroll scenario does (a sample re-priced to prove the stored lines); the
summaries compacted as the scheduled task does. Then, timed: `pay_report` as finance for
each grouping over all the weeks, with the queries it ran and its peak memory; one
`GET reports/pay/` through the DRF view; the whole CSV export by worker beside a
`COPY (floor) TO STDOUT`; the close of the last open week (the safety net, which must
find nothing to change); each grouping against a hand-written SQL floor of the same
figures (stored lines and adjustments summed in one statement), over the signed weeks
and over all of them. The run fails on a cent of difference, or if the pay summaries
differ from the timesheets they sum.
"""

import random
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as day_time
from decimal import Decimal
from functools import partial
from io import TextIOBase
from typing import Any, cast

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory, force_authenticate

from benchmarks.close_and_invoice import (
    celery_tasks,
    check_nothing_corrected,
    check_sample,
    run_job,
    submit_and_approve_in_bulk,
)
from benchmarks.common import peak_memory_mb, timed
from benchmarks.workforce import PERIOD, load_workforce
from core.periods import next_period, parse_period_key
from payroll.api_reports import PayReportView
from payroll.exports import csv_text, report_table
from payroll.models import (
    FROZEN_STATUSES,
    Adjustment,
    PaySummary,
    Timesheet,
    TimesheetLine,
    TimesheetStatus,
)
from payroll.selectors.reports import GROUP_BY, MAX_REPORT_WEEKS, PayReportRow, pay_report
from payroll.services.adjustments import adjustment_create
from payroll.services.close import timesheets_refresh
from payroll.services.jobs import chunked
from payroll.services.pay_summaries import pay_summaries_compact, pay_summaries_differences
from trainers.models import User, Worker

ADJUSTED_EVERY = 100  # one worker in a hundred gets an adjustment in each adjusted week
REPORT_TARGET_SECONDS = 1.0  # issue 14: each grouping, and the first page by worker
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
    _sign(finance, periods, signed, seed)
    out.write(
        f"  price {weeks}, adjust, approve {signed} (untimed) {time.perf_counter() - started:8.2f} s  "
        f"{Timesheet.objects.count()} timesheets, {TimesheetLine.objects.count()} lines, "
        f"{Adjustment.objects.count()} adjustments, {PaySummary.objects.count()} summary rows\n"
    )
    _time_all_weeks(out, finance, periods)
    _time_export(out, finance, periods)
    _time_safety_net_close(out, finance, periods[-1])
    differing = _compare_signed_weeks(out, finance, periods[:signed])
    differing |= _compare_all_weeks(out, finance, periods)
    out.write(f"  peak memory (this process)           {peak_memory_mb():8.0f} MB\n")
    if differing:
        raise CommandError(f"The report and the SQL floor disagree: {differing}.")
    out.write("  check: every group, signed weeks and all weeks, agrees with the SQL floor to the cent\n")
    summaries = pay_summaries_differences()
    if summaries:
        raise CommandError(f"The pay summaries differ from the timesheets in {len(summaries)} groups.")
    out.write("  check: the pay summaries equal the timesheets' lines and adjustments in every group\n")


def _sign(finance: User, periods: list[str], signed: int, seed: int) -> None:
    """Price every week as live pricing leaves it, adjust, submit and approve the first `signed` in bulk.

    The sessions were loaded with COPY, behind the services' back: each week is priced
    here by the function every session write calls (`timesheets_refresh`), a chunk of
    workers at a time, which also writes the pay summaries. Then one worker in a hundred
    gets an adjustment (through the service) in a signed week and in an open one.
    """
    workers = list(Worker.objects.order_by("pk").values_list("pk", flat=True))
    for period in periods:
        for chunk in chunked(workers):
            timesheets_refresh(workers=chunk, period=period)
    for period in [periods[0], *periods[signed : signed + 1]]:  # a signed week, an open one
        _adjust(finance, period, seed)
    for period in periods[:signed]:
        submit_and_approve_in_bulk(period)
        check_sample(seed, period)
    pay_summaries_compact()  # as the scheduled task leaves them


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
    """Time the whole report per grouping over every week, then the first page of each through the API."""
    first, last = periods[0], periods[-1]
    timesheets = Timesheet.objects.filter(period__gte=first, period__lte=last).count()
    out.write(f"  pay_report, {first} to {last}, as finance (worker: stored lines; others: pay summaries)\n")
    for group_by in GROUP_BY:
        report = measure(partial(report_rows, finance, first, last, group_by))
        out.write(
            f"    group_by={group_by:<8} {report.seconds:8.3f} s  "
            f"{timesheets / report.seconds:9.0f} timesheets/s  {len(report.rows):6d} rows  "
            f"{report.queries:4d} queries  peak {report.peak_mb:6.1f} MB\n"
        )
    for group_by in GROUP_BY:
        size: list[int] = []
        api = measure(partial(_api_report, finance, first, last, group_by, size))
        target = f"  (target <= {REPORT_TARGET_SECONDS:.0f} s)"
        out.write(
            f"  GET reports/pay/ group_by={group_by:<8} first page {api.seconds:8.3f} s  "
            f"{len(api.rows)} rows  {api.queries} queries  {size[0] / 1e3:.0f} kB of JSON  "
            f"peak {api.peak_mb:6.1f} MB{target}\n"
        )


def _time_export(out: TextIOBase, finance: User, periods: list[str]) -> None:
    """The whole CSV export by worker, as the export job writes it, beside a COPY of the floor's rows."""
    first, last = periods[0], periods[-1]
    export = measure(partial(_csv_export, finance, first, last), memory=False)
    copy = measure(partial(_copy_floor, first, last), memory=False)
    out.write(
        f"  CSV export by worker {first} to {last}: {export.seconds:8.3f} s ({export.rows / 1e6:.1f} MB); "
        f"COPY (floor) TO STDOUT {copy.seconds:7.3f} s ({copy.rows / 1e6:.1f} MB)  "
        f"{export.seconds / copy.seconds:6.2f}x (target <= {EXPORT_TARGET_RATIO:.0f}x)\n"
    )


EXPORT_TARGET_RATIO = 2.0


def _csv_export(user: User, first: str, last: str) -> int:
    """The export job's CSV of the report by worker (report_export, without storing the file): its size."""
    report = pay_report(user=user, period_from=first, period_to=last, group_by="worker")
    table = report_table(report)
    return len(csv_text(table.header, table.rows).encode("utf-8"))


def _copy_floor(first: str, last: str) -> int:
    """The floor's rows by worker over every week, as CSV through COPY TO STDOUT: its size."""
    params = {"first": first, "last": last, "statuses": sorted(TimesheetStatus.values)}
    sql = cast(Any, connection.ops).compose_sql(floor_sql("worker"), params)  # PostgreSQL's operations
    size = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy,
    ):
        for data in copy:
            size += len(data)
    return size


def _time_safety_net_close(out: TextIOBase, finance: User, period: str) -> None:
    """The close of the last open week as live pricing left it: it must find nothing to change.

    Run by the real job, inline in this process; the payroll scenario times the close
    from scratch (its sessions are loaded behind the services' back).
    """
    with celery_tasks(out, 0):
        close = timed("close", 0, lambda: run_job("close_period", finance, period))
    corrected = check_nothing_corrected()
    out.write(
        f"  close of {period} after live pricing (the safety net) {close.seconds:8.2f} s  "
        f"{Timesheet.objects.filter(period=period).count()} timesheets, {corrected} corrected (target 0)\n"
    )


def report_rows(user: User, period_from: str, period_to: str, group_by: str) -> list[PayReportRow]:
    """All the report's rows through the real selector."""
    return list(pay_report(user=user, period_from=period_from, period_to=period_to, group_by=group_by).rows)


def _api_report(user: User, period_from: str, period_to: str, group_by: str, size: list[int]) -> list[Any]:
    """The report's first page through its DRF view, rendered to JSON, as the signed-in user."""
    params = {"period_from": period_from, "period_to": period_to, "group_by": group_by}
    request = APIRequestFactory().get("/api/v1/reports/pay/", params, HTTP_HOST=settings.ALLOWED_HOSTS[0])
    force_authenticate(request, user=user)
    response = PayReportView.as_view()(request)
    response.render()
    if response.status_code != 200:
        raise CommandError(f"GET reports/pay/ answered {response.status_code}: {response.content[:500]!r}")
    size[:] = [len(response.content)]
    return list(response.data["results"])


def _compare_signed_weeks(out: TextIOBase, finance: User, signed: list[str]) -> dict[str, int]:
    """Time each grouping of the signed weeks against the floor; the groups that differ, by grouping."""
    return _compare_with_floor(out, finance, "signed weeks", signed, FROZEN_STATUSES)


def _compare_all_weeks(out: TextIOBase, finance: User, periods: list[str]) -> dict[str, int]:
    """Each grouping over every week, open ones included, against the floor, with the targets."""
    return _compare_with_floor(out, finance, "all weeks", periods, TimesheetStatus.values, targets=True)


def _compare_with_floor(
    out: TextIOBase,
    finance: User,
    weeks: str,
    periods: list[str],
    statuses: Iterable[str],
    targets: bool = False,
) -> dict[str, int]:
    """Time each grouping over these weeks beside the floor of the same statuses; the groups that differ.

    `targets`: say the issue's target beside each grouping it sets one for (all but the worker's).
    """
    first, last = periods[0], periods[-1]
    out.write(f"  {weeks} {first} to {last}: pay_report against the SQL floor (lines + adjustments)\n")
    differing: dict[str, int] = {}
    for group_by in GROUP_BY:
        report = measure(partial(report_rows, finance, first, last, group_by), memory=False)
        floor = measure(partial(floor_rows, group_by, first, last, statuses), memory=False)
        differences = figures_differing(report_figures(report.rows), floor.rows)
        if differences:
            differing[f"{group_by} ({weeks})"] = differences
        verdict = f"{differences} groups differ" if differences else "equal to the cent"
        target = f"  (target <= {REPORT_TARGET_SECONDS:.0f} s)" if targets and group_by != "worker" else ""
        out.write(
            f"    group_by={group_by:<8} {report.seconds:8.3f} s  floor {floor.seconds:7.3f} s  "
            f"{report.seconds / floor.seconds:6.2f}x  {len(report.rows):6d} rows  {verdict}{target}\n"
        )
    return differing


def measure(action: Callable[[], Any], memory: bool = True) -> Measured:
    """Time `action` counting its queries; then, if asked, run it again under tracemalloc for its peak."""
    connection.queries_log.clear()  # a full log (9,000 queries of the loading) would count none
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
    WHERE t.period BETWEEN %(first)s AND %(last)s AND t.status = ANY(%(statuses)s)
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


def floor_sql(group_by: str) -> str:
    """The hand-written statement of a grouping's figures (parameters: first, last, statuses)."""
    key = FLOOR_KEYS[group_by]
    adjustments = "" if group_by == "project" else ADJUSTMENTS_SQL.format(adjustment_key=key)
    return FLOOR_SQL.format(line_key=key, adjustments=adjustments)


def floor_rows(group_by: str, first: str, last: str, statuses: Iterable[str] = FROZEN_STATUSES) -> Figures:
    """The figures per group and currency of the weeks in these statuses, in one hand-written statement."""
    with connection.cursor() as cursor:
        cursor.execute(floor_sql(group_by), {"first": first, "last": last, "statuses": sorted(statuses)})
        return {(k, currency): (int(s), amount, adj) for k, currency, s, amount, adj in cursor.fetchall()}


def report_figures(rows: list[PayReportRow]) -> Figures:
    """The report's rows as the floor gives them."""
    return {(row.key, row.currency): (row.seconds, row.amount, row.adjustments) for row in rows}


def figures_differing(report: Figures, floor: Figures) -> int:
    """How many (group, currency) pairs differ in seconds, amount or adjustments, or exist on one side."""
    return sum(1 for group in report.keys() | floor.keys() if report.get(group) != floor.get(group))
