"""What the daily beat invoices: periods over everywhere for a day, with approved timesheets left.

A period is invoiced once it has ended in every worker's zone at least INVOICE_AFTER ago
(the last zones finish a week 26 hours after the first), so the managers' approvals of
the week are in. Each such period that still has approved, un-invoiced timesheets gets the
`issue_invoices` job; job_start returns the unfinished one instead of starting a second,
and a finished job leaves nothing approved, so a period is invoiced once. A timesheet
approved later is invoiced by the next day's run.
"""

from datetime import datetime, timedelta

from payroll.models import Timesheet, TimesheetStatus
from payroll.services.jobs import PeriodJobStart, period_jobs_start
from trainers.periods import period_bounds_by_zone
from trainers.selectors import zones_in_use

INVOICE_KIND = "issue_invoices"
INVOICE_AFTER = timedelta(days=1)


def periods_with_approved_timesheets() -> list[str]:
    """Periods that have approved timesheets without an invoice, oldest first."""
    approved = Timesheet.objects.filter(status=TimesheetStatus.APPROVED, invoice__isnull=True)
    return sorted(approved.order_by().values_list("period", flat=True).distinct())


def period_ended_everywhere(period: str) -> datetime:
    """The instant `period` ends in the last of the workers' zones."""
    return max(end for _, end in period_bounds_by_zone(period, zones_in_use()).values())


def periods_to_invoice(now: datetime) -> list[str]:
    """Periods with approved, un-invoiced timesheets that ended everywhere INVOICE_AFTER ago."""
    return [
        period
        for period in periods_with_approved_timesheets()
        if period_ended_everywhere(period) + INVOICE_AFTER <= now
    ]


def invoice_ended_periods(*, now: datetime) -> list[PeriodJobStart]:
    """Start (or find unfinished) the invoicing of every period due at `now`."""
    return period_jobs_start(kind=INVOICE_KIND, periods=periods_to_invoice(now))
