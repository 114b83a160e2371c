"""What the daily beat invoices: periods over everywhere for a day, with approved timesheets left.

Each period due (payroll.selectors.invoices.periods_to_invoice) gets the `issue_invoices`
job; job_start returns the unfinished one instead of starting a second, and a finished
job leaves nothing approved, so a period is invoiced once. A timesheet approved later is
invoiced by the next day's run.
"""

from datetime import datetime

from payroll.selectors.invoices import periods_to_invoice
from payroll.services.jobs import PeriodJobStart, period_jobs_start

INVOICE_KIND = "issue_invoices"


def invoice_ended_periods(*, now: datetime) -> list[PeriodJobStart]:
    """Start (or find unfinished) the invoicing of every period due at `now`."""
    return period_jobs_start(kind=INVOICE_KIND, periods=periods_to_invoice(now))
