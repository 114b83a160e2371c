"""Reads of timesheets: who sees which, their figures (live or stored) and their problems."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet

from payroll.models import FROZEN_STATUSES, Adjustment, Timesheet
from payroll.money import clock_hours, decimal_hours
from payroll.pay import PeriodPay
from payroll.selectors.pricing import price_worker_period
from trainers.models import LabellingSession, Project, Role, User
from trainers.selectors import SEES_EVERYTHING, role_of

LONG_SESSION = timedelta(hours=12)


@dataclass(frozen=True)
class Problem:
    """Something a reviewer must see before signing; blocking ones stop submit and approve."""

    code: str
    blocking: bool
    message: str
    session_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class LineFigures:
    """A timesheet line as shown: time both as h:mm:ss and decimal hours, rate, amount."""

    project_id: int
    project_name: str
    kind: str
    hourly_rate: Decimal
    multiplier: Decimal
    seconds: int
    amount: Decimal

    @property
    def hours(self) -> Decimal:
        return decimal_hours(self.seconds)

    @property
    def duration(self) -> str:
        return clock_hours(self.seconds)


@dataclass(frozen=True)
class TimesheetFigures:
    """Everything a timesheet shows: lines, adjustments, total and problems."""

    lines: list[LineFigures]
    adjustments: list[Adjustment]
    problems: list[Problem] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        """Sum of line amounts plus adjustments (PAY_RULES §4)."""
        return sum((line.amount for line in self.lines), Decimal("0.00")) + sum(
            (adjustment.amount for adjustment in self.adjustments), Decimal("0.00")
        )

    @property
    def total_seconds(self) -> int:
        return sum(line.seconds for line in self.lines)

    @property
    def blocking_problems(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.blocking]


def timesheets_visible_to(user: User) -> QuerySet[Timesheet]:
    """As sessions: a contractor their own, a manager their teams', finance and admin all."""
    timesheets = Timesheet.objects.select_related("worker", "worker__team", "decided_by")
    role = role_of(user)
    if role in SEES_EVERYTHING:
        return timesheets
    if role == Role.MANAGER:
        return timesheets.filter(worker__team__managers=user)
    if role == Role.CONTRACTOR:
        return timesheets.filter(worker__user=user)
    return timesheets.none()


def adjustments_visible_to(user: User) -> QuerySet[Adjustment]:
    """A contractor reads their own; managers their teams'; finance and admin all."""
    adjustments = Adjustment.objects.select_related("worker", "created_by")
    role = role_of(user)
    if role in SEES_EVERYTHING:
        return adjustments
    if role == Role.MANAGER:
        return adjustments.filter(worker__team__managers=user)
    if role == Role.CONTRACTOR:
        return adjustments.filter(worker__user=user)
    return adjustments.none()


def timesheet_figures(timesheet: Timesheet) -> TimesheetFigures:
    """Stored lines once submitted; otherwise priced live from the sessions."""
    adjustments = list(Adjustment.objects.filter(worker=timesheet.worker, applies_to_period=timesheet.period))
    if timesheet.status in FROZEN_STATUSES:
        lines = stored_lines(timesheet)
        pay = None
    else:
        pay = price_worker_period(timesheet.worker, timesheet.period)
        lines = live_lines(pay)
    figures = TimesheetFigures(lines, adjustments)
    return TimesheetFigures(lines, adjustments, timesheet_problems(timesheet, figures, pay))


def stored_lines(timesheet: Timesheet) -> list[LineFigures]:
    """The lines copied onto the timesheet at submit."""
    return [
        LineFigures(
            line.project_id,
            line.project.name,
            line.kind,
            line.hourly_rate,
            line.multiplier,
            line.seconds,
            line.amount,
        )
        for line in timesheet.lines.select_related("project")
    ]


def project_names(ids: set[int]) -> dict[int, str]:
    """Project names by id, in one query."""
    return dict(Project.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def live_lines(pay: PeriodPay, names: dict[int, str] | None = None) -> list[LineFigures]:
    """Lines of a freshly priced period, with their projects' names (looked up unless given)."""
    if names is None:
        names = project_names({line.project_id for line in pay.lines})
    return [
        LineFigures(
            line.project_id,
            names.get(line.project_id, ""),
            line.kind,
            line.hourly_rate,
            line.multiplier,
            line.seconds,
            line.amount,
        )
        for line in pay.lines
    ]


def timesheet_problems(
    timesheet: Timesheet, figures: TimesheetFigures, pay: PeriodPay | None
) -> list[Problem]:
    """Everything a manager should see before approving (blocking first)."""
    problems = _unpriced_problems(pay) if pay else []
    sessions = list(_period_sessions(timesheet))
    problems += _session_problems(sessions, timesheet.period_end)
    cap = timesheet.worker.weekly_hours_cap
    worked = pay.total_seconds if pay else figures.total_seconds  # unpriced time is worked time too
    if cap is not None and worked > cap * 3600:
        message = f"{clock_hours(worked)} logged, over the contract's weekly cap of {cap} h."
        problems.append(Problem("over_weekly_cap", False, message))
    return sorted(problems, key=lambda problem: not problem.blocking)


def _unpriced_problems(pay: PeriodPay) -> list[Problem]:
    names = dict(
        Project.objects.filter(pk__in={gap.project_id for gap in pay.unpriced}).values_list("pk", "name")
    )
    return [
        Problem(
            "unpriced_time",
            True,
            f"{clock_hours(gap.seconds)} on '{names.get(gap.project_id, gap.project_id)}' has no rate; "
            "finance must add one before this can be submitted or approved.",
        )
        for gap in pay.unpriced
    ]


def _period_sessions(timesheet: Timesheet) -> QuerySet[LabellingSession]:
    return LabellingSession.objects.filter(
        worker=timesheet.worker, started_at__lt=timesheet.period_end
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=timesheet.period_start))


def _session_problems(sessions: list[LabellingSession], period_end: datetime) -> list[Problem]:
    checks = [
        ("running_session", True, lambda s: s.ended_at is None, "still running; stop it before submitting."),
        (
            "long_session",
            False,
            lambda s: s.ended_at and s.ended_at - s.started_at > LONG_SESSION,
            "longer than 12 h.",
        ),
        (
            "needs_review",
            False,
            lambda s: s.needs_review,
            "stopped by Fairhour at the maximum length; check it.",
        ),
        (
            "late_entry",
            False,
            lambda s: s.created_at >= period_end or s.updated_at >= period_end,
            "created or edited after the period ended.",
        ),
    ]
    problems = []
    for code, blocking, applies, words in checks:
        ids = tuple(s.pk for s in sessions if applies(s))
        if ids:
            label = "Session" if len(ids) == 1 else "Sessions"
            problems.append(Problem(code, blocking, f"{label} {', '.join(map(str, ids))} {words}", ids))
    return problems
