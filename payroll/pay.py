"""The pay engine: a worker's sessions, rates and contract -> a period's lines (PAY_RULES §2-5, §8-10).

Pure functions over plain data: no ORM, no I/O, no floats. Instants are whole epoch
seconds, so a session's length is real elapsed time whatever the clocks did that night
(DST), and the engine can price millions of sessions in seconds. Money appears only at
the line level: one half-up rounding per line (payroll.money).

The steps, in order:
1. clip each session to the period window (a session over a boundary is split; §2); its
   tasks stay with its last second, so only the period holding its end gets them (§9);
2. split each piece where its applicable rate changes (local midnight of a rate's
   `effective_from`; an activity rate beats a project rate, which beats the default;
   §3, §8); the last piece of a session carries its tasks;
3. walk the pieces in time order and mark seconds past the overtime threshold (§5);
4. group hourly time by (project, activity, rate, kind) and tasks by (project, activity,
   task rate) into lines (§4, §9); time with no rate is reported as unpriced, never paid
   as zero;
5. with a fair-pay floor, top the period up to floor x worked time (§10).
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from core.periods import local_day_start
from payroll.money import ONE, line_amount, tasks_amount

LABELLING = "labelling"  # production work; every other activity is paid non-production time
REGULAR = "regular"
OVERTIME = "overtime"
TASKS = "tasks"
TOP_UP = "top_up"
_NEVER = -(2**62)  # before any rate: a sentinel step with no rate
_KIND_ORDER = {REGULAR: 0, OVERTIME: 1, TASKS: 2, TOP_UP: 3}


class WorkSpan(NamedTuple):
    """A finished session [start, end) in epoch seconds, on a project, with its activity and tasks.

    A named tuple, not a frozen dataclass: a bulk close builds millions, and a frozen
    dataclass's `__init__` (one `object.__setattr__` per field) cost 9 % of its CPU.
    """

    start: int
    end: int
    project_id: int
    activity: str = LABELLING
    tasks: int = 0


@dataclass(frozen=True, slots=True)
class RateStep:
    """A rate that applies from `starts_at` (epoch seconds of local midnight).

    Its scope is the worker's default (no project, no activity), one project, or one
    non-production activity (PAY_RULES §8). `task_rate` None: tasks are not paid by the piece.
    """

    project_id: int | None
    starts_at: int
    hourly_rate: Decimal
    activity: str | None = None
    task_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OvertimePolicy:
    """Seconds in a period after which time is overtime (None: overtime off)."""

    after_seconds: int | None = None
    multiplier: Decimal = ONE


@dataclass(frozen=True, slots=True)
class PayLine:
    """One line of a timesheet with its exact amount.

    `kind` regular/overtime: `seconds` at the hourly `rate` x `multiplier`; tasks: `units`
    at the task `rate`; top_up (no project, no activity): the floor `rate` x `seconds`
    (all the period's time) less what the other lines earned.
    """

    project_id: int | None
    activity: str | None
    kind: str
    rate: Decimal
    multiplier: Decimal
    seconds: int
    units: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class UnpricedTime:
    """Time on a project with no applicable rate: a blocking problem, never paid as zero."""

    project_id: int
    seconds: int
    first_start: int


@dataclass(frozen=True)
class PeriodPay:
    """The priced period: its lines, its unpriced time, and totals a reader can check."""

    lines: tuple[PayLine, ...]
    unpriced: tuple[UnpricedTime, ...]
    total_seconds: int = field(default=0)

    @property
    def amount(self) -> Decimal:
        """Sum of the line amounts (each already rounded once)."""
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def top_up(self) -> Decimal:
        """The fair-pay floor's top-up (0 when the period earned at least the floor)."""
        return sum((line.amount for line in self.lines if line.kind == TOP_UP), Decimal(0))


# A rate in force: (hourly_rate, task_rate or None).
_Rate = tuple[Decimal, Decimal | None]
# A piece of a session, as a plain tuple (a frozen dataclass per piece costs more than the
# pricing itself at millions of sessions):
# (start, end, project_id, activity, rate or None, kind, tasks delivered at its end).
_Piece = tuple[int, int, int, str, _Rate | None, str, int]
_Clipped = tuple[int, int, int, str, int]
_Steps = tuple[list[int], list[_Rate | None]]
_START = itemgetter(0)
_START_END = itemgetter(0, 1)


def price_period(
    spans: Iterable[WorkSpan],
    rates: Sequence[RateStep],
    window: tuple[int, int],
    policy: OvertimePolicy | None = None,
    minimum_hourly: Decimal | None = None,
) -> PeriodPay:
    """Price one worker's period: the lines and unpriced time of the sessions in `window`.

    `minimum_hourly`: the contract's fair-pay floor per hour worked (None: no floor).
    """
    policy = policy or OvertimePolicy()
    pieces = _split_at_rate_changes(_clip_to_window(spans, window), rates)
    pay = _group(_mark_overtime(pieces, policy), policy)
    return _with_floor(pay, minimum_hourly) if minimum_hourly is not None else pay


def _clip_to_window(spans: Iterable[WorkSpan], window: tuple[int, int]) -> list[_Clipped]:
    """The parts of the spans inside the window, in time order, with the tasks they deliver.

    A session's tasks come with its last second, so a part gets them only if the session
    ends inside the window (PAY_RULES §9).
    """
    low, high = window
    clipped = [
        (
            low if span.start < low else span.start,
            high if span.end > high else span.end,
            span.project_id,
            span.activity,
            span.tasks if span.end <= high else 0,
        )
        for span in spans
        if span.end > low and span.start < high
    ]
    clipped.sort(key=_START_END)
    return clipped


def _split_at_rate_changes(clipped: list[_Clipped], rates: Sequence[RateStep]) -> list[_Piece]:
    """Cut each span where its rate changes; each piece carries its rate, the last its tasks."""
    timelines: dict[tuple[int, str], _Steps] = {}
    scopes = _Scopes(rates)
    pieces: list[_Piece] = []
    for start, end, project, activity, tasks in clipped:
        steps = timelines.get((project, activity))
        if steps is None:
            steps = timelines[(project, activity)] = scopes.timeline(project, activity)
        starts, values = steps
        index = bisect_right(starts, start) - 1
        following = index + 1
        if following == len(starts) or starts[following] >= end:  # the usual case: one rate
            pieces.append((start, end, project, activity, values[index], REGULAR, tasks))
            continue
        while start < end:
            piece_end = starts[following] if following < len(starts) and starts[following] < end else end
            delivered = tasks if piece_end == end else 0
            pieces.append((start, piece_end, project, activity, values[following - 1], REGULAR, delivered))
            start = piece_end
            following += 1
    return pieces


class _Scopes:
    """A worker's rates sorted into their scopes once: by activity, by project, the default.

    The timeline of a (project, activity) depends only on which of its scopes have rates,
    so timelines are built once per such chain: every project without a rate of its own
    shares the default's.
    """

    def __init__(self, rates: Sequence[RateStep]) -> None:
        by_activity: dict[str, list[RateStep]] = defaultdict(list)
        by_project: dict[int | None, list[RateStep]] = defaultdict(list)
        for rate in rates:
            if rate.activity is not None:
                by_activity[rate.activity].append(rate)
            else:
                by_project[rate.project_id].append(rate)
        self.activities = {activity: _scope_steps(steps) for activity, steps in by_activity.items()}
        self.projects = {project: _scope_steps(steps) for project, steps in by_project.items()}
        self.built: dict[tuple[str | None, int | None], _Steps] = {}

    def timeline(self, project_id: int, activity: str) -> _Steps:
        """Steps (start, rate) for one project and activity: the first scope with a rate in force.

        The scopes, most specific first: the activity (unless labelling), the project, the
        worker's default (PAY_RULES §8).
        """
        own_activity = activity if activity != LABELLING and activity in self.activities else None
        own_project = project_id if project_id in self.projects else None
        key = (own_activity, own_project)
        if key not in self.built:
            chain = [self.activities[own_activity]] if own_activity else []
            chain += [self.projects[own_project]] if own_project is not None else []
            chain += [self.projects[None]] if None in self.projects else []
            self.built[key] = _first_in_force(chain)
        return self.built[key]


def _first_in_force(chain: list[_Steps]) -> _Steps:
    """Merge scopes' steps: at each change, the rate of the first scope with one in force."""
    starts = [_NEVER]
    values: list[_Rate | None] = [None]
    for instant in sorted({start for scope_starts, _ in chain for start in scope_starts}):
        rate = next((found for scope in chain if (found := _latest(scope, instant)) is not None), None)
        if rate != values[-1]:
            starts.append(instant)
            values.append(rate)
    return starts, values


def _scope_steps(rates: list[RateStep]) -> _Steps:
    """One scope's steps in time order, as (starts, rates) (the database allows one rate per day
    and scope; should two share a start, the order is still the same for any input order)."""
    ordered = sorted(
        ((rate.starts_at, (rate.hourly_rate, rate.task_rate)) for rate in rates), key=_step_order
    )
    return [start for start, _ in ordered], [rate for _, rate in ordered]


def _step_order(step: tuple[int, _Rate]) -> tuple[int, Decimal, bool, Decimal]:
    start, (hourly_rate, task_rate) = step
    return start, hourly_rate, task_rate is not None, task_rate or Decimal(0)


def _latest(steps: _Steps, instant: int) -> _Rate | None:
    """The rate of the last step starting at or before `instant`."""
    starts, rates = steps
    index = bisect_right(starts, instant)
    return rates[index - 1] if index else None


def _mark_overtime(pieces: list[_Piece], policy: OvertimePolicy) -> list[_Piece]:
    """Walk in time order; seconds past the threshold are overtime (a straddler is split).

    All time counts, whatever its activity; a split piece's tasks stay with its end.
    """
    threshold = policy.after_seconds
    if threshold is None:
        return pieces
    marked: list[_Piece] = []
    worked = 0
    for piece in sorted(pieces, key=_START):  # nearly sorted already: timsort makes this O(n)
        start, end, project, activity, rate, _, tasks = piece
        length = end - start
        if worked >= threshold:
            marked.append((start, end, project, activity, rate, OVERTIME, tasks))
        elif worked + length <= threshold:
            marked.append(piece)
        else:
            cut = start + (threshold - worked)
            marked.append((start, cut, project, activity, rate, REGULAR, 0))
            marked.append((cut, end, project, activity, rate, OVERTIME, tasks))
        worked += length
    return marked


def _group(pieces: list[_Piece], policy: OvertimePolicy) -> PeriodPay:
    """Sum seconds and tasks per group; price each group once; collect unpriced time."""
    seconds: dict[tuple[int, str, Decimal, str], int] = defaultdict(int)
    units: dict[tuple[int, str, Decimal], int] = defaultdict(int)
    unpriced: dict[int, list[int]] = {}
    total = 0
    for start, end, project, activity, rate, kind, tasks in pieces:
        length = end - start
        total += length
        if rate is None:
            entry = unpriced.setdefault(project, [0, start])
            entry[0] += length
            if start < entry[1]:
                entry[1] = start
            continue
        hourly_rate, task_rate = rate
        seconds[(project, activity, hourly_rate, kind)] += length
        if tasks and task_rate is not None:
            units[(project, activity, task_rate)] += tasks
    lines = [_hourly_line(key, secs, policy) for key, secs in seconds.items()]
    lines += [_task_line(key, count) for key, count in units.items()]
    lines.sort(key=_line_order)
    gaps = [UnpricedTime(project, secs, first) for project, (secs, first) in sorted(unpriced.items())]
    return PeriodPay(tuple(lines), tuple(gaps), total)


def _line_order(line: PayLine) -> tuple[object, ...]:
    """By project (a top-up last), labelling before the other activities, by kind and rate."""
    activity = line.activity or ""
    return (
        line.project_id is None,
        line.project_id or 0,
        activity != LABELLING,
        activity,
        _KIND_ORDER[line.kind],
        line.rate,
    )


def _hourly_line(key: tuple[int, str, Decimal, str], secs: int, policy: OvertimePolicy) -> PayLine:
    project_id, activity, hourly_rate, kind = key
    multiplier = policy.multiplier if kind == OVERTIME else ONE
    amount = line_amount(secs, hourly_rate, multiplier)
    return PayLine(project_id, activity, kind, hourly_rate, multiplier, secs, 0, amount)


def _task_line(key: tuple[int, str, Decimal], count: int) -> PayLine:
    project_id, activity, task_rate = key
    return PayLine(project_id, activity, TASKS, task_rate, ONE, 0, count, tasks_amount(count, task_rate))


def _with_floor(pay: PeriodPay, minimum_hourly: Decimal) -> PeriodPay:
    """Add a top-up line when the period earned less than the floor for its time (PAY_RULES §10).

    Worked time is every second of the period, whatever its activity; earned is the
    hourly and task lines (adjustments are not lines here).
    """
    floor = line_amount(pay.total_seconds, minimum_hourly)
    earned = pay.amount
    if earned >= floor:
        return pay
    top_up = PayLine(None, None, TOP_UP, minimum_hourly, ONE, pay.total_seconds, 0, floor - earned)
    return PeriodPay((*pay.lines, top_up), pay.unpriced, pay.total_seconds)


RateRow = tuple[int | None, Decimal, date] | tuple[int | None, Decimal, date, str | None, Decimal | None]


def rate_steps_in_zone(rates: Iterable[RateRow], zone: ZoneInfo) -> list[RateStep]:
    """RateSteps from (project_id, hourly_rate, effective_from[, activity, task_rate]) rows.

    Dates are read in `zone`: a rate applies from local midnight of its first day.
    """
    return [RateStep(row[0], local_day_start(row[2], zone), row[1], *row[3:]) for row in rates]
