"""What signed timesheets hold fixed for trainers: their periods, a worker's zone and currency.

Registered with trainers.hooks (PayrollConfig.ready): trainers asks these checks before
it writes a session or changes a worker, without importing payroll.
"""

from django.db import connection

from payroll.models import LOCKED_STATUSES, Adjustment, Timesheet, TimesheetStatus
from trainers.models import Worker

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
    timesheets follow the change (`timesheets_follow_terms_change`).
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
