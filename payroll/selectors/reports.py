"""The pay report: seconds, hours and money over a range of periods, grouped, scoped by role.

What it counts (docs/api.md, "Pay report"): every timesheet whose period is in the range
(and whose status matches the optional filter), by its stored lines, summed in SQL: open
weeks' lines are kept current as time is logged (payroll.services.timesheets), so the
report reads what each timesheet shows and prices nothing. Adjustments on those
timesheets count in the amount when grouping by worker, team or period; they belong to no
project, so a project grouping leaves them out. Currency is part of every group: amounts
in two currencies are never added together.

Scope is the timesheets' own selector (`timesheets_visible_to`): finance and admins see
every worker, a manager only the workers of the teams they manage (LESSONS: Kimai #2478,
a report is a surface of its own), contractors may not run it.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Sum

from core.errors import Forbidden, InvalidInput
from core.periods import parse_period_key
from payroll.models import (
    HOURLY_KINDS,
    Adjustment,
    Job,
    JobStatus,
    LineKind,
    Timesheet,
    TimesheetLine,
    TimesheetStatus,
)
from payroll.money import ShownTime, effective_hourly
from payroll.selectors.timesheets import timesheets_visible_to
from trainers.models import Project, Role, Team, User, Worker
from trainers.selectors import SEES_EVERYTHING, role_of

GROUP_BY = ("worker", "project", "team", "period")
REPORT_PARAMS = ("period_from", "period_to", "group_by", "status")
MAX_REPORT_WEEKS = 106  # two years and a bit: enough for any year-on-year comparison
REPORT_ROLES = SEES_EVERYTHING | {Role.MANAGER}
EXPORT_ROLES = SEES_EVERYTHING
EXPORT_JOB_KIND = "export_report"

ZERO = Decimal("0.00")

# How each grouping reads its key from a stored line and from an adjustment.
_LINE_KEY = {
    "worker": "timesheet__worker_id",
    "project": "project_id",
    "team": "timesheet__worker__team_id",
    "period": "timesheet__period",
}
_ADJUSTMENT_KEY = {"worker": "worker_id", "team": "worker__team_id", "period": "applies_to_period"}

GroupKey = int | str | None
# A report row's figures, in the order the API and the exported files give them.
REPORT_FIGURES = (
    "currency",
    "seconds",
    "duration",
    "hours",
    "tasks",
    "top_up",
    "adjustments",
    "amount",
    "effective_hourly",
)
# By project, the fair-pay top-ups belong to no project: they are a row of their own.
TOP_UPS_NAME = "Fair-pay top-ups (no project)"


@dataclass
class _Sum:
    """A group's running totals while the report is added up.

    `seconds` is time worked (hourly lines only: a top-up line repeats the week's time).
    """

    seconds: int = 0
    amount: Decimal = ZERO
    adjustments: Decimal = ZERO
    tasks: int = 0
    top_up: Decimal = ZERO

    def add_line(self, kind: str, seconds: int, units: int, amount: Decimal) -> None:
        if kind in HOURLY_KINDS:
            self.seconds += seconds
        self.tasks += units
        self.amount += amount
        if kind == LineKind.TOP_UP:
            self.top_up += amount


_Totals = defaultdict[tuple[GroupKey, str], _Sum]  # (group, currency) -> sums


@dataclass(frozen=True)
class PayReportRow(ShownTime):
    """One group: its key (worker, project or team id, or period), name, currency and figures."""

    key: GroupKey
    name: str
    currency: str
    seconds: int
    amount: Decimal
    adjustments: Decimal
    tasks: int = 0
    top_up: Decimal = ZERO

    @property
    def effective_hourly(self) -> Decimal | None:
        """Pay for the work (adjustments aside) per hour worked; display only."""
        return effective_hourly(self.amount - self.adjustments, self.seconds)


TOTAL = "Total"  # the name of a currency's total row


def currency_totals(rows: Iterable[PayReportRow]) -> list[PayReportRow]:
    """One row per currency adding up its groups, by currency code (currencies never mix).

    A total is a row like the others, so its hours, duration and effective hourly follow
    the rows' own rules: hours of the summed seconds, (amount - adjustments) per hour.
    """
    sums: dict[str, list[PayReportRow]] = {}
    for row in rows:
        sums.setdefault(row.currency, []).append(row)
    return [
        PayReportRow(
            key=None,
            name=TOTAL,
            currency=currency,
            seconds=sum(row.seconds for row in group),
            amount=sum((row.amount for row in group), ZERO),
            adjustments=sum((row.adjustments for row in group), ZERO),
            tasks=sum(row.tasks for row in group),
            top_up=sum((row.top_up for row in group), ZERO),
        )
        for currency, group in sorted(sums.items())
    ]


@dataclass(frozen=True)
class PayReport:
    group_by: str
    period_from: str
    period_to: str
    status: str | None
    rows: list[PayReportRow]


def report_params_errors(params: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with a report's parameters, by field (empty when they are right)."""
    errors: dict[str, list[str]] = {}
    weeks = {}
    for field in ("period_from", "period_to"):
        try:
            weeks[field] = date.fromisocalendar(*parse_period_key(str(params.get(field, ""))), 1)
        except ValueError as error:
            errors[field] = [str(error)]
    if not errors:
        span = (weeks["period_to"] - weeks["period_from"]).days // 7 + 1
        if span < 1:
            errors["period_to"] = ["Must not be before period_from."]
        elif span > MAX_REPORT_WEEKS:
            errors["period_to"] = [f"The range covers {span} weeks; at most {MAX_REPORT_WEEKS}."]
    if params.get("group_by") not in GROUP_BY:
        errors["group_by"] = [f"Must be one of {', '.join(GROUP_BY)}."]
    if params.get("status") not in (None, *TimesheetStatus.values):
        errors["status"] = [f"Must be one of {', '.join(TimesheetStatus.values)}."]
    return errors


def pay_report(
    *, user: User, period_from: str, period_to: str, group_by: str, status: str | None = None
) -> PayReport:
    """The pay report the caller may see (403 for contractors; 400 for bad parameters)."""
    if role_of(user) not in REPORT_ROLES:
        raise Forbidden("Only managers, finance and admins may run pay reports.")
    params = {"period_from": period_from, "period_to": period_to, "group_by": group_by, "status": status}
    errors = report_params_errors(params)
    if errors:
        raise InvalidInput(errors)
    timesheets = timesheets_visible_to(user).filter(period__gte=period_from, period__lte=period_to)
    if status:
        timesheets = timesheets.filter(status=status)
    totals: _Totals = defaultdict(_Sum)
    _add_stored_lines(totals, timesheets, group_by)
    if group_by != "project":
        _add_adjustments(totals, timesheets, group_by)
    return PayReport(group_by, period_from, period_to, status, _rows(totals, group_by))


def _add_stored_lines(totals: _Totals, timesheets: QuerySet[Timesheet], group_by: str) -> None:
    """The timesheets' stored lines (current whatever their status), summed per group in one query."""
    key = _LINE_KEY[group_by]
    rows = (
        TimesheetLine.objects.filter(timesheet__in=timesheets.values("pk"))
        .order_by()
        .values_list(key, "timesheet__currency", "kind")
        .annotate(seconds=Sum("seconds"), units=Sum("units"), amount=Sum("amount"))
    )
    for group, currency, kind, seconds, units, amount in rows:
        totals[(group, currency)].add_line(kind, seconds, units, amount)


def _add_adjustments(totals: _Totals, timesheets: QuerySet[Timesheet], group_by: str) -> None:
    """Adjustments landing on a counted timesheet, summed per group in one query."""
    counted = timesheets.filter(worker_id=OuterRef("worker_id"), period=OuterRef("applies_to_period"))
    rows = (
        Adjustment.objects.filter(Exists(counted))
        .order_by()
        .values_list(_ADJUSTMENT_KEY[group_by], "currency")
        .annotate(amount=Sum("amount"))
    )
    for group, currency, amount in rows:
        totals[(group, currency)].amount += amount
        totals[(group, currency)].adjustments += amount


def _rows(totals: _Totals, group_by: str) -> list[PayReportRow]:
    names = _names(group_by, {group for group, _ in totals})
    rows = [
        PayReportRow(
            group,
            names.get(group, TOP_UPS_NAME if group_by == "project" else ""),
            currency,
            sums.seconds,
            sums.amount,
            sums.adjustments,
            sums.tasks,
            sums.top_up,
        )
        for (group, currency), sums in totals.items()
    ]
    if group_by == "period":
        return sorted(rows, key=lambda row: (str(row.key), row.currency))
    # By name, then id (names may repeat); "no team" last.
    return sorted(rows, key=lambda row: (row.key is None, row.name.casefold(), row.key or 0, row.currency))


def _names(group_by: str, keys: set[GroupKey]) -> dict[GroupKey, str]:
    """The groups' names in one query (a period is its own name)."""
    if group_by == "period":
        return {key: str(key) for key in keys}
    ids = [key for key in keys if key is not None]
    names: QuerySet[Any, tuple[int, str]] = {
        "worker": Worker.objects.values_list("pk", "full_name"),
        "project": Project.objects.values_list("pk", "name"),
        "team": Team.objects.values_list("pk", "name"),
    }[group_by]
    return dict(names.filter(pk__in=ids))


def export_jobs_visible_to(user: User) -> QuerySet[Job]:
    """Finished export jobs whose files the caller may download: finance and admins only."""
    if role_of(user) not in EXPORT_ROLES:
        return Job.objects.none()
    return Job.objects.filter(kind=EXPORT_JOB_KIND, status=JobStatus.DONE)
