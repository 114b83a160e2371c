"""Reads behind the web pages: a period at a glance, the approval queue, a period's jobs."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from payroll.models import Job, Timesheet, TimesheetStatus
from payroll.selectors.jobs import jobs_visible_to
from payroll.selectors.timesheets import TimesheetFigures, timesheets_figures, timesheets_visible_to
from trainers.models import User

JOB_KINDS = ("close_period", "issue_invoices")


@dataclass(frozen=True)
class PeriodOverview:
    """How many of a period's timesheets are in each state, and their totals per currency."""

    period: str
    counts: dict[str, int]
    totals: list[tuple[str, str, Decimal]] = field(default_factory=list)  # (status, currency, total)

    @property
    def timesheets(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class QueueRow:
    """A timesheet waiting for a decision, with its figures and problems."""

    timesheet: Timesheet
    figures: TimesheetFigures

    @property
    def problem_free(self) -> bool:
        return not self.figures.problems

    @property
    def pre_ticked(self) -> bool:
        """Chosen for approval together at first: problem-free, and its week over in the worker's zone.

        A week submitted before its end (with the contractor's confirmation) is the
        manager's to tick: one click should not approve a week still being worked.
        """
        return self.problem_free and self.timesheet.has_ended(timezone.now())


def period_overview(user: User, period: str) -> PeriodOverview:
    """Counts per status and totals per status and currency, over what the user may see.

    Open timesheets' totals are as of the last close (they are priced live when opened).
    """
    rows = timesheets_visible_to(user).filter(period=period).order_by()
    counts = dict.fromkeys(TimesheetStatus.values, 0)
    for row in rows.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    sums = rows.values("status", "currency").annotate(total=Sum("total")).order_by("status", "currency")
    totals = [(row["status"], row["currency"], row["total"] or Decimal("0.00")) for row in sums]
    return PeriodOverview(period, counts, totals)


def approval_queue(user: User) -> list[QueueRow]:
    """Submitted timesheets the user may see (a manager's teams'), oldest period first."""
    submitted = (
        timesheets_visible_to(user)
        .filter(status=TimesheetStatus.SUBMITTED)
        .order_by("period_start", "worker__full_name", "id")
    )
    figures = timesheets_figures(list(submitted))
    return [QueueRow(timesheet, figures[timesheet.pk]) for timesheet in submitted]


def period_jobs(user: User, period: str) -> QuerySet[Job]:
    """The user's visible close and invoicing jobs of a period, newest first."""
    return (
        jobs_visible_to(user).filter(kind__in=JOB_KINDS, params__period=period).order_by("-created_at", "-id")
    )


def known_periods(user: User, limit: int = 12) -> list[str]:
    """The latest periods that have timesheets the user may see, newest first."""
    periods = timesheets_visible_to(user).order_by("-period").values_list("period", flat=True).distinct()
    return list(periods[:limit])
