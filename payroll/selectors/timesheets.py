"""Reads of timesheets: who sees which, their stored figures, problems, open periods."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TypeVar

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.periods import iso_week_key, next_period
from payroll.models import (
    HOURLY_KINDS,
    LINE_ORDER,
    LINE_VALUES,
    LOCKED_STATUSES,
    Adjustment,
    LineKind,
    Timesheet,
    TimesheetLine,
)
from payroll.money import ShownTime, clock_hours, effective_hourly, line_amount, rate_text
from payroll.pay import PeriodPay
from trainers.models import Activity, LabellingSession, Project, Role, User, Worker
from trainers.selectors import SEES_EVERYTHING, role_of

WorkerRow = TypeVar("WorkerRow", Timesheet, Adjustment)

LONG_SESSION = timedelta(hours=12)
TOP_UP_WARNING = (
    "This week paid less than the contract's fair-pay floor, so it is topped up ({words}). "
    "The task rate may be too low for the time the work takes."
)
NEGATIVE_TOTAL = (
    "The adjustments take the total to {total}: nobody is invoiced a negative sum. Finance must "
    "offset part of the clawback here and add it again on a later week."
)


@dataclass(frozen=True)
class Problem:
    """Something a reviewer must see before signing; blocking ones stop submit and approve."""

    code: str
    blocking: bool
    message: str
    session_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class LineFigures(ShownTime):
    """A timesheet line as shown: time both as h:mm:ss and decimal hours, rate, amount.

    `hourly_rate` is the line's one rate: per hour (regular, overtime), per task (tasks),
    the floor per hour (top_up). A top-up has no project or activity.
    """

    project_id: int | None
    project_name: str
    activity: str | None
    kind: str
    hourly_rate: Decimal
    multiplier: Decimal
    seconds: int
    units: int
    amount: Decimal

    @property
    def is_hourly(self) -> bool:
        return self.kind in HOURLY_KINDS

    @property
    def description(self) -> str:
        """The line in words a reader can check: time or tasks, rate, and for a top-up the floor."""
        if self.kind == LineKind.TOP_UP:
            floor = line_amount(self.seconds, self.hourly_rate)
            return (
                f"Fair-pay top-up: floor {rate_text(self.hourly_rate)}/h x {clock_hours(self.seconds)}"
                f" = {floor}; earned {floor - self.amount}"
            )
        what = self.project_name
        if self.activity and self.activity != Activity.LABELLING:
            what = f"{what}, {Activity(self.activity).label.lower()}"
        if self.kind == LineKind.TASKS:
            return f"{what} (tasks) {self.units} x {rate_text(self.hourly_rate)}"
        return f"{what} ({self.kind}) {clock_hours(self.seconds)} = {self.hours} h"


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
        """The time worked: the hourly lines' seconds (a top-up line counts them again)."""
        return sum(line.seconds for line in self.lines if line.is_hourly)

    @property
    def tasks(self) -> int:
        return sum(line.units for line in self.lines)

    @property
    def top_up(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == LineKind.TOP_UP), Decimal("0.00"))

    @property
    def effective_hourly(self) -> Decimal | None:
        """What the lines paid per hour worked (display only; None with no time)."""
        earned = sum((line.amount for line in self.lines), Decimal("0.00"))
        return effective_hourly(earned, self.total_seconds)

    @property
    def blocking_problems(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.blocking]

    @property
    def is_empty(self) -> bool:
        """Nothing to submit: no priced time, no adjustment (time without a rate is a problem)."""
        return not (self.lines or self.adjustments or self.blocking_problems)


def timesheets_visible_to(user: User) -> QuerySet[Timesheet]:
    """As sessions: a contractor their own, a manager their teams', finance and admin all."""
    return _of_visible_workers(Timesheet.objects.select_related("worker", "worker__team", "decided_by"), user)


def adjustments_visible_to(user: User) -> QuerySet[Adjustment]:
    """As timesheets, which they correct: a contractor their own, a manager their teams'."""
    return _of_visible_workers(Adjustment.objects.select_related("worker", "created_by"), user)


def _of_visible_workers(rows: QuerySet[WorkerRow], user: User) -> QuerySet[WorkerRow]:
    """Keep the rows of workers whose time the user sees, scoped as their sessions are."""
    role = role_of(user)
    if role in SEES_EVERYTHING:
        return rows
    if role == Role.MANAGER:
        return rows.filter(worker__team__managers=user)
    if role == Role.CONTRACTOR:
        return rows.filter(worker__user=user)
    return rows.none()


def next_open_period(worker: Worker, now: datetime) -> str:
    """The current period in the worker's zone, or the first later one not yet locked."""
    period = iso_week_key(now, worker.zone)
    locked = set(
        Timesheet.objects.filter(worker=worker, status__in=LOCKED_STATUSES, period__gte=period).values_list(
            "period", flat=True
        )
    )
    while period in locked:
        period = next_period(period)
    return period


def timesheet_figures(timesheet: Timesheet) -> TimesheetFigures:
    """The timesheet's stored figures (kept current as time is logged) and its problems."""
    return timesheets_figures([timesheet])[timesheet.pk]


def timesheets_figures(timesheets: Sequence[Timesheet]) -> dict[int, TimesheetFigures]:
    """The figures of many timesheets with a fixed number of queries (lists, pages, reports).

    Every timesheet's lines are stored and current, whatever its status: one query for
    them, one each for adjustments and the sessions that problems are judged on, and one
    for the names of projects with unpriced time, if any has some.
    """
    timesheets = list(timesheets)
    stored = stored_lines([timesheet.pk for timesheet in timesheets])
    adjustments = _adjustments_by_timesheet(timesheets)
    sessions = _sessions_by_timesheet(timesheets)
    names = _unpriced_project_names(timesheets)
    result = {}
    for timesheet in timesheets:
        figures = TimesheetFigures(stored.get(timesheet.pk, []), adjustments.get(timesheet.pk, []))
        problems = timesheet_problems(timesheet, figures, sessions.get(timesheet.pk, []), names)
        result[timesheet.pk] = TimesheetFigures(figures.lines, figures.adjustments, problems)
    return result


def _unpriced_project_names(timesheets: list[Timesheet]) -> dict[int, str]:
    ids = {project_id for timesheet in timesheets for project_id, _ in timesheet.unpriced}
    return dict(Project.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def stored_lines(timesheet_ids: list[int]) -> dict[int, list[LineFigures]]:
    """The lines stored on these timesheets (at submit, or by the close), as they read: one query."""
    lines: dict[int, list[LineFigures]] = defaultdict(list)
    if not timesheet_ids:
        return lines
    rows = (
        TimesheetLine.objects.filter(timesheet_id__any_of=timesheet_ids)
        .order_by("timesheet_id", *LINE_ORDER)
        .values_list("timesheet_id", *_LINE_FIGURES)
    )
    for timesheet_id, *figures in rows:
        lines[timesheet_id].append(LineFigures(**dict(zip(_LINE_FIGURE_NAMES, figures, strict=True))))
    return lines


# A stored line's columns in the order LineFigures holds them.
_LINE_FIGURE_NAMES = tuple(LineFigures.__dataclass_fields__)
_LINE_FIGURES = (
    LINE_VALUES[0],
    Coalesce("project__name", Value("")),  # a top-up line has no project
    *LINE_VALUES[1:],
)


def _adjustments_by_timesheet(timesheets: list[Timesheet]) -> dict[int, list[Adjustment]]:
    """Adjustments applied to each timesheet's worker and period."""
    owner = {(timesheet.worker_id, timesheet.period): timesheet.pk for timesheet in timesheets}
    rows = Adjustment.objects.filter(
        worker_id__in={worker_id for worker_id, _ in owner},
        applies_to_period__in={period for _, period in owner},
    ).order_by("created_at", "id")
    found: dict[int, list[Adjustment]] = defaultdict(list)
    for adjustment in rows:
        key = (adjustment.worker_id, adjustment.applies_to_period)
        if key in owner:
            found[owner[key]].append(adjustment)
    return found


def _sessions_by_timesheet(timesheets: list[Timesheet]) -> dict[int, list[LabellingSession]]:
    """Each timesheet's sessions (any overlap with its period), from one query."""
    if not timesheets:
        return {}
    rows = LabellingSession.objects.filter(
        worker_id__in={timesheet.worker_id for timesheet in timesheets},
        started_at__lt=max(timesheet.period_end for timesheet in timesheets),
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=min(t.period_start for t in timesheets)))
    by_worker: dict[int, list[LabellingSession]] = defaultdict(list)
    for session in rows:  # the model's order: latest first, as problems list them
        by_worker[session.worker_id].append(session)
    return {
        timesheet.pk: [
            session
            for session in by_worker[timesheet.worker_id]
            if session.started_at < timesheet.period_end
            and (session.ended_at is None or session.ended_at > timesheet.period_start)
        ]
        for timesheet in timesheets
    }


def live_lines(pay: PeriodPay) -> list[LineFigures]:
    """Lines of a freshly priced period, to be stored (by project id: names are read with them)."""
    return [
        LineFigures(
            project_id=line.project_id,
            project_name="",
            activity=line.activity,
            kind=line.kind,
            hourly_rate=line.rate,
            multiplier=line.multiplier,
            seconds=line.seconds,
            units=line.units,
            amount=line.amount,
        )
        for line in pay.lines
    ]


def timesheet_problems(
    timesheet: Timesheet,
    figures: TimesheetFigures,
    sessions: list[LabellingSession],
    names: dict[int, str],
) -> list[Problem]:
    """Everything a manager should see before approving (blocking first)."""
    problems = _unpriced_problems(timesheet, names)
    if figures.total < 0:
        problems.append(Problem("negative_total", True, NEGATIVE_TOTAL.format(total=figures.total)))
    problems += _session_problems(sessions, timesheet.period_end, timesheet.worker.zone)
    cap = timesheet.worker.weekly_hours_cap
    worked = figures.total_seconds + sum(seconds for _, seconds in timesheet.unpriced)  # unpriced is worked
    if cap is not None and worked > cap * 3600:
        message = f"{clock_hours(worked)} logged, over the contract's weekly cap of {cap} h."
        problems.append(Problem("over_weekly_cap", False, message))
    top_up = next((line for line in figures.lines if line.kind == LineKind.TOP_UP), None)
    if top_up is not None:
        problems.append(Problem("fair_pay_top_up", False, TOP_UP_WARNING.format(words=top_up.description)))
    return sorted(problems, key=lambda problem: not problem.blocking)


def _unpriced_problems(timesheet: Timesheet, names: dict[int, str]) -> list[Problem]:
    return [
        Problem(
            "unpriced_time",
            True,
            f"{clock_hours(seconds)} on '{names.get(project_id, project_id)}' has no rate; "
            "finance must add one before this can be submitted or approved.",
        )
        for project_id, seconds in timesheet.unpriced
    ]


def _session_problems(sessions: list[LabellingSession], period_end: datetime, zone: tzinfo) -> list[Problem]:
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
        found = sorted((s for s in sessions if applies(s)), key=lambda s: s.started_at)
        if found:
            label = "Session" if len(found) == 1 else "Sessions"
            message = f"{label} of {_starts(found, zone)}: {words}"
            problems.append(Problem(code, blocking, message, tuple(s.pk for s in found)))
    return problems


SESSIONS_NAMED = 5  # a problem names this many sessions by their start, then counts the rest


def _starts(sessions: list[LabellingSession], zone: tzinfo) -> str:
    """Sessions as their worker and manager know them: by start, in the worker's zone ("Mon 2 Nov 09:00").

    Ids mean nothing on a page; the API gives them in `session_ids`.
    """
    named = [timezone.localtime(session.started_at, zone) for session in sessions[:SESSIONS_NAMED]]
    words = ", ".join(f"{start:%a} {start.day} {start:%b %H:%M}" for start in named)
    rest = len(sessions) - len(named)
    return f"{words} and {rest} more" if rest else words
