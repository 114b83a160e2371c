"""The pay report: seconds, hours and money over a range of periods, grouped, scoped by role.

What it counts (docs/api.md, "Pay report"): every timesheet whose period is in the range
(and whose status matches the optional filter), by its stored lines, summed in SQL: open
weeks' lines are kept current as time is logged (payroll.services.timesheets), so the
report reads what each timesheet shows and prices nothing. By worker, or filtered by
status, it sums the lines; otherwise, by project, team or week, it sums the pay
summaries kept with them (PaySummary), a few rows a week whatever the workforce's size
(they have no status, so that a status change writes none). Adjustments on those
timesheets count in the amount when grouping by worker, team or period; they belong to no
project, so a project grouping leaves them out. Currency is part of every group: amounts
in two currencies are never added together.

Scope is the timesheets' own selector (`timesheets_visible_to`): finance and admins see
every worker, a manager only the workers of the teams they manage (LESSONS: Kimai #2478,
a report is a surface of its own), contractors may not run it.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any, overload

from django.db.models import Exists, OuterRef, QuerySet, Sum
from django.db.models.functions import Lower

from core.errors import Forbidden, InvalidInput
from core.periods import parse_period_key
from payroll.models import (
    ADJUSTMENT_KIND,
    HOURLY_KINDS,
    Adjustment,
    Job,
    JobStatus,
    LineKind,
    PaySummary,
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
# ... and from a pay summary (every grouping but the worker's, which no summary keeps).
_SUMMARY_KEY = {"project": "project_id", "team": "team_id", "period": "period"}

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
    rows: Sequence[PayReportRow]  # by worker, WorkerPages: read as sliced


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
    if group_by == "worker":
        return PayReport(group_by, period_from, period_to, status, WorkerPages(timesheets))
    totals: _Totals = defaultdict(_Sum)
    if status:  # the summaries have no status: the matching timesheets' own lines
        _add_stored_lines(totals, timesheets, group_by)
        if group_by != "project":  # adjustments belong to no project
            _add_adjustments(totals, timesheets, group_by)
    else:
        summaries = _summaries_visible_to(user).filter(period__gte=period_from, period__lte=period_to)
        _add_summaries(totals, summaries, group_by)
    return PayReport(group_by, period_from, period_to, status, _rows(totals, group_by))


class WorkerPages(Sequence[PayReportRow]):
    """The report by worker: a page of workers at a time (`rows[start:stop]`), or all (iterating).

    Workers with a counted timesheet, by name as the database sorts it, then id. A slice
    sums the lines and adjustments of its workers alone: the first page of a whole
    workforce costs three queries over a page of workers. The length is the number of
    workers; a worker paid in two currencies within the range has a row for each, so a
    slice can hold more rows than workers.
    """

    def __init__(self, timesheets: QuerySet[Timesheet]) -> None:
        self._timesheets = timesheets

    def _workers(self) -> QuerySet[Worker, tuple[int, str]]:
        counted = self._timesheets.filter(worker_id=OuterRef("pk"))
        ordered = Worker.objects.filter(Exists(counted)).order_by(Lower("full_name"), "pk")
        return ordered.values_list("pk", "full_name")

    @cached_property
    def _count(self) -> int:
        return self._workers().count()

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> PayReportRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[PayReportRow]: ...

    def __getitem__(self, index: int | slice) -> PayReportRow | list[PayReportRow]:
        if isinstance(index, int):
            rows = self[index : index + 1] if index >= 0 else list(self)[index:]
            if not rows:
                raise IndexError(index)
            return rows[0]
        workers = list(self._workers()[index])
        counted = self._timesheets.filter(worker_id__in=[pk for pk, _ in workers])
        return _worker_rows(workers, counted)

    def __iter__(self) -> Iterator[PayReportRow]:
        return iter(_worker_rows(list(self._workers()), self._timesheets))


def _worker_rows(workers: list[tuple[int, str]], timesheets: QuerySet[Timesheet]) -> list[PayReportRow]:
    """The rows of these workers (in their order; each worker's by currency) from these timesheets."""
    totals: _Totals = defaultdict(_Sum)
    _add_stored_lines(totals, timesheets, "worker")
    _add_adjustments(totals, timesheets, "worker")
    currencies: defaultdict[GroupKey, list[str]] = defaultdict(list)
    for group, currency in sorted(totals):
        currencies[group].append(currency)
    return [_row(pk, name, money, totals[(pk, money)]) for pk, name in workers for money in currencies[pk]]


def _row(group: GroupKey, name: str, currency: str, sums: _Sum) -> PayReportRow:
    return PayReportRow(
        group, name, currency, sums.seconds, sums.amount, sums.adjustments, sums.tasks, sums.top_up
    )


def _summaries_visible_to(user: User) -> QuerySet[PaySummary]:
    """The pay summaries of the workers whose timesheets the user sees (timesheets_visible_to)."""
    if role_of(user) in SEES_EVERYTHING:
        return PaySummary.objects.all()
    if role_of(user) == Role.MANAGER:
        return PaySummary.objects.filter(team__managers=user)
    return PaySummary.objects.none()


def _add_summaries(totals: _Totals, summaries: QuerySet[PaySummary], group_by: str) -> None:
    """The summed lines and adjustments per group, from the pay summaries, in one query.

    By project, adjustments (no project) are left out. A group whose figures add up to
    nothing (a team a worker left, say) is no group.
    """
    rows = (
        summaries.order_by()
        .values_list(_SUMMARY_KEY[group_by], "currency", "kind")
        .annotate(seconds=Sum("seconds"), units=Sum("units"), amount=Sum("amount"))
    )
    for group, currency, kind, seconds, units, amount in rows:
        if not (seconds or units or amount) or (kind == ADJUSTMENT_KIND and group_by == "project"):
            continue
        sums = totals[(group, currency)]
        if kind == ADJUSTMENT_KIND:
            sums.amount += amount
            sums.adjustments += amount
        else:
            sums.add_line(kind, seconds, units, amount)


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
        _row(group, names.get(group, TOP_UPS_NAME if group_by == "project" else ""), currency, sums)
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
        "project": Project.objects.values_list("pk", "name"),
        "team": Team.objects.values_list("pk", "name"),
    }[group_by]
    return dict(names.filter(pk__in=ids))


def export_jobs_visible_to(user: User) -> QuerySet[Job]:
    """Finished export jobs whose files the caller may download: finance and admins only."""
    if role_of(user) not in EXPORT_ROLES:
        return Job.objects.none()
    return Job.objects.filter(kind=EXPORT_JOB_KIND, status=JobStatus.DONE)
