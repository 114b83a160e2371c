"""Invoice a pay period by hand: one numbered invoice per approved timesheet."""

from payroll.management.job_command import PeriodJobCommand


class Command(PeriodJobCommand):
    help = "Issue invoices for every approved timesheet of a period (an ISO week such as 2026-W45)."
    kind = "issue_invoices"
    noun = "invoicing"
    done = "Invoiced"
