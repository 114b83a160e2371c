"""Close a pay period by hand: build or refresh every open timesheet of it."""

from payroll.management.job_command import PeriodJobCommand


class Command(PeriodJobCommand):
    help = "Close a pay period (an ISO week such as 2026-W45): build or refresh its timesheets."
    kind = "close_period"
    noun = "close"
    done = "Closed"
