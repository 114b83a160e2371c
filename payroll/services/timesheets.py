"""Timesheets kept current: getting one, and pricing it again whenever what it pays changes.

A worker-week's timesheet and its lines exist from its first finished time and follow
every write in the write's own transaction: sessions (trainers announces them through
trainers.hooks), rates, adjustments and the contract's pay terms. One worker-week is a
few rows, so pricing it again costs a few queries (docs/architecture.md, "Live
timesheets"). Signed timesheets never change: only open and rejected ones are priced.

The callbacks here are registered with trainers.hooks (PayrollConfig.ready), beside the
checks of payroll.selectors.timesheet_locks: trainers calls them without importing payroll.
"""

from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from core.periods import period_bounds, periods_touched
from payroll.models import LOCKED_STATUSES, Adjustment, Timesheet
from payroll.services.close import timesheets_refresh
from payroll.services.jobs import chunked
from payroll.services.pay_summaries import pay_summaries_move_team
from trainers.models import LabellingSession, Worker

# The contract terms the pay engine reads: a change prices the unsigned weeks again.
PAY_TERMS = frozenset(
    {"currency", "time_zone", "overtime_after_hours", "overtime_multiplier", "minimum_hourly"}
)


def timesheets_follow_time(changes: Mapping[str, set[Worker]]) -> None:
    """Price again the weeks whose finished time just changed ({period: workers, locked by the writer})."""
    for period in sorted(changes):
        timesheets_refresh(workers=changes[period], period=period, locked=True)


def timesheets_reprice_unsigned(worker: Worker) -> None:
    """Price again every open or rejected week of the worker (a rate or a pay term changed)."""
    for period in sorted(_unsigned(worker).values_list("period", flat=True)):
        timesheets_refresh(workers=[worker.pk], period=period)


def timesheets_follow_terms_change(worker: Worker, previous: Mapping[str, Any]) -> None:
    """After a change of pay terms, the worker's unsigned weeks are priced on the new ones.

    A new zone moves their bounds first (the week is the worker's local week; pricing
    stores figures, not bounds). A new currency needs nothing more: the pricing compares
    and stores each week's currency with its total.
    """
    if not previous.keys() & PAY_TERMS:
        return
    if "time_zone" in previous:
        for timesheet in _unsigned(worker):
            timesheet.period_start, timesheet.period_end = period_bounds(timesheet.period, worker.zone)
            timesheet.save(update_fields=["period_start", "period_end", "updated_at"])
    timesheets_reprice_unsigned(worker)


def pay_summaries_follow_team(worker: Worker, previous: Mapping[str, Any]) -> None:
    """A worker who changes team takes every week of theirs to the new team in the pay report."""
    if "team" in previous:
        pay_summaries_move_team(worker.pk, previous["team"].pk if previous["team"] else None)


def _unsigned(worker: Worker) -> QuerySet[Timesheet]:
    return Timesheet.objects.filter(worker=worker).exclude(status__in=LOCKED_STATUSES)


def timesheet_get_or_create(*, worker: Worker, period: str) -> tuple[Timesheet, bool]:
    """The worker's timesheet for a period, created open if need be, and whether it was created.

    A week with time has its timesheet already; one created here (an empty week, opened
    by the contractor) is priced at once all the same, so it can never show stale figures.
    """
    existing = Timesheet.objects.filter(worker=worker, period=period).first()
    if existing:
        existing.worker = worker  # the caller's, so reading its terms costs no query
        return existing, False
    start, end = period_bounds(period, worker.zone)
    try:
        with transaction.atomic():
            created = Timesheet.objects.create(
                worker=worker, period=period, period_start=start, period_end=end, currency=worker.currency
            )
            timesheets_refresh(workers=[worker.pk], period=period)
    except IntegrityError:  # created concurrently: the unique constraint keeps one
        return Timesheet.objects.get(worker=worker, period=period), False
    created.refresh_from_db(fields=["total", "currency", "unpriced", "updated_at"])  # as priced
    return created, True


def timesheets_price_everything() -> int:
    """Price every unsigned worker-week there is, creating the timesheets of weeks with time.

    Run once when live timesheets arrived (migration 0011); safe to run again: it writes
    only what differs. Returns how many timesheets were created or changed.
    """
    weeks: dict[str, set[int]] = defaultdict(set)
    finished = LabellingSession.objects.filter(ended_at__isnull=False).values_list(
        "worker_id", "worker__time_zone", "started_at", "ended_at"
    )
    for worker_id, zone, started_at, ended_at in finished.iterator(chunk_size=10_000):
        for period in periods_touched(started_at, ended_at, ZoneInfo(zone)):
            weeks[period].add(worker_id)
    for worker_id, period in Adjustment.objects.values_list("worker_id", "applies_to_period"):
        weeks[period].add(worker_id)
    unsigned = Timesheet.objects.exclude(status__in=LOCKED_STATUSES).values_list("worker_id", "period")
    for worker_id, period in unsigned:
        weeks[period].add(worker_id)
    return sum(
        timesheets_refresh(workers=chunk, period=period)
        for period in sorted(weeks)
        for chunk in chunked(sorted(weeks[period]))
    )
