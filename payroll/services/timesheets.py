"""Timesheets: getting one, and what follows for them when a worker's terms change.

The checks and callbacks here are registered with trainers.hooks (PayrollConfig.ready):
trainers asks them without importing payroll.
"""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from payroll.models import LOCKED_STATUSES, Adjustment, Timesheet, TimesheetStatus
from payroll.periods import period_bounds
from payroll.services.close import timesheets_refresh
from trainers.models import User, Worker

Status = TimesheetStatus
TIMESHEET_STATUS_SQL = "SELECT status FROM payroll_timesheet WHERE worker_id = %s AND period = %s"


def timesheet_lock_reason(worker: Worker, period: str) -> str | None:
    """The period lock hook for trainers: a submitted, approved or invoiced timesheet locks."""
    # Plain SQL: every session write asks, and the ORM took six times the database's time to
    # build this query. (worker, period) is unique, so there is one row at most.
    with connection.cursor() as cursor:
        cursor.execute(TIMESHEET_STATUS_SQL, [worker.pk, period])
        row = cursor.fetchone()
    status = row[0] if row else None
    if status in LOCKED_STATUSES:
        return f"its timesheet is {status}; sessions in it cannot change."
    return None


def zone_change_refusal_for_timesheets(worker: Worker, new_zone: object) -> str | None:
    """A worker's weeks are cut in one zone: once one is signed, the zone may not move.

    Moving it would shift the week boundaries under submitted or invoiced weeks, so the
    same hours could fall into a later open week and be paid twice.
    """
    signed = Timesheet.objects.filter(worker=worker, status__in=LOCKED_STATUSES).order_by("-period_start")
    latest = signed.values_list("period", "status").first()
    if latest is None:
        return None
    return (
        f"The worker's weeks are cut in {worker.time_zone} and {latest[0]} is already {latest[1]}: "
        "changing the time zone would move paid hours between weeks. Keep the zone, or give the "
        "worker a new profile from the next week on."
    )


def currency_change_refusal_for_pay(worker: Worker, new_currency: object) -> str | None:
    """Money on its way to an invoice keeps the contract currency it was agreed in.

    An invoice is in its timesheet's currency and sums the timesheet's lines and the
    period's adjustments (PAY_RULES §3, §7: currencies are never summed together), so
    the currency may not move under a signed timesheet that is not invoiced yet, nor
    under an adjustment in the old currency whose period is not invoiced yet. Open
    timesheets follow the change (`timesheets_follow_currency_change`).
    """
    signed = (
        Timesheet.objects.filter(worker=worker, status__in=LOCKED_STATUSES - {Status.INVOICED})
        .order_by("period_start")
        .values_list("period", "status")
        .first()
    )
    if signed:
        return (
            f"The worker's timesheet {signed[0]} is {signed[1]} in {worker.currency}: the contract "
            "currency can change once it is invoiced."
        )
    invoiced = Timesheet.objects.filter(worker=worker, status=Status.INVOICED).values("period")
    pending = (
        Adjustment.objects.filter(worker=worker)
        .exclude(currency=new_currency)
        .exclude(applies_to_period__in=invoiced)
        .order_by("applies_to_period", "pk")
        .first()
    )
    if pending:
        return (
            f"The worker has an adjustment of {pending.amount} {pending.currency} for "
            f"{pending.applies_to_period}, not invoiced yet: the contract currency can change "
            "once it is invoiced (or the adjustment is offset)."
        )
    return None


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


def timesheet_get_or_create(*, worker: Worker, period: str) -> Timesheet:
    """The worker's timesheet for a period, created open if it does not exist yet."""
    return timesheet_ensure(worker=worker, period=period)[0]


def timesheet_ensure(*, worker: Worker, period: str) -> tuple[Timesheet, bool]:
    """The worker's timesheet for a period and whether this call created it."""
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


def manages_worker(user: User, worker: Worker) -> bool:
    """Whether the user is a manager of the worker's team."""
    team = worker.team
    return team is not None and team.managers.filter(pk=user.pk).exists()
