"""Timesheets: getting one, and what follows for them when a worker's terms change.

The callbacks here are registered with trainers.hooks (PayrollConfig.ready), beside the
checks of payroll.selectors.timesheet_locks: trainers calls them without importing payroll.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.periods import period_bounds
from payroll.models import LOCKED_STATUSES, Timesheet
from payroll.services.close import timesheets_refresh
from trainers.models import Worker


def timesheets_follow_currency_change(worker: Worker, fields: set[str]) -> None:
    """After a currency change, the worker's open timesheets are in the new currency."""
    if "currency" not in fields:
        return
    unsigned = Timesheet.objects.filter(worker=worker).exclude(status__in=LOCKED_STATUSES)
    periods = sorted(unsigned.values_list("period", flat=True))
    unsigned.update(currency=worker.currency, updated_at=timezone.now())
    for period in periods:  # their stored lines and totals were priced in the old currency
        timesheets_refresh(workers=[worker], period=period)


def timesheets_follow_zone_change(worker: Worker, fields: set[str]) -> None:
    """After a zone change, the worker's unsigned timesheets take the new zone's week bounds."""
    if "time_zone" not in fields:
        return
    for timesheet in Timesheet.objects.filter(worker=worker).exclude(status__in=LOCKED_STATUSES):
        timesheet.period_start, timesheet.period_end = period_bounds(timesheet.period, worker.zone)
        timesheet.save(update_fields=["period_start", "period_end", "updated_at"])


def timesheet_get_or_create(*, worker: Worker, period: str) -> tuple[Timesheet, bool]:
    """The worker's timesheet for a period, created open if need be, and whether it was created."""
    existing = Timesheet.objects.filter(worker=worker, period=period).first()
    if existing:
        return existing, False
    start, end = period_bounds(period, worker.zone)
    try:
        with transaction.atomic():
            created = Timesheet.objects.create(
                worker=worker, period=period, period_start=start, period_end=end, currency=worker.currency
            )
            return created, True
    except IntegrityError:  # created concurrently: the unique constraint keeps one
        return Timesheet.objects.get(worker=worker, period=period), False
