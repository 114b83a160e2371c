"""Reads of invoices: who sees which, and what is left to invoice or to render.

A period is invoiced once it has ended in every worker's zone at least INVOICE_AFTER ago
(the last zones finish a week 26 hours after the first), so the managers' approvals of
the week are in.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import QuerySet

from core.periods import period_bounds_by_zone
from payroll.models import Invoice, Timesheet, TimesheetStatus
from trainers.models import Role, User
from trainers.selectors import SEES_EVERYTHING, role_of, zones_in_use

INVOICE_AFTER = timedelta(days=1)


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    """Invoices are pay data (API.md): managers, like unknown roles, see none."""
    invoices = Invoice.objects.select_related("worker", "paid_by", "voided_by")
    role = role_of(user)
    if role in SEES_EVERYTHING:
        return invoices
    if role == Role.CONTRACTOR:
        return invoices.filter(worker__user=user)
    return invoices.none()


def approved_timesheet_ids(period: str) -> list[int]:
    """Ids of the period's approved timesheets without an invoice, in a stable order."""
    return list(
        Timesheet.objects.filter(period=period, status=TimesheetStatus.APPROVED, invoice__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


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


def invoices_without_pdf(*, timesheet_ids: Iterable[int]) -> list[int]:
    """Ids of the invoices of these timesheets whose PDF is not rendered yet."""
    return list(
        Invoice.objects.filter(timesheet_id__any_of=list(timesheet_ids), pdf="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
