"""The pay engine: a worker's sessions, rates and contract -> a period's lines (PAY_RULES §2-5).

Pure functions over plain data: no ORM, no I/O, no floats. Instants are whole epoch
seconds, so a session's length is real elapsed time whatever the clocks did that night
(DST), and the engine can price millions of sessions in seconds. Money appears only at
the line level: one half-up rounding per line (payroll.money.line_amount).

The steps, in order:
1. clip each session to the period window (a session over a boundary is split; §2);
2. split each piece where its applicable rate changes (local midnight of a rate's
   `effective_from`; a project rate beats the default; §3);
3. walk the pieces in time order and mark seconds past the overtime threshold (§5);
4. group by (project, rate, kind) into lines (§4); time with no rate is reported as
   unpriced, never paid as zero.
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
from payroll.money import ONE, line_amount

REGULAR = "regular"
OVERTIME = "overtime"
_NEVER = -(2**62)  # before any rate: a sentinel step with no rate
_KIND_ORDER = {REGULAR: 0, OVERTIME: 1}


class WorkSpan(NamedTuple):
    """A finished session [start, end) in epoch seconds, on a project.

    A named tuple, not a frozen dataclass: a bulk close builds millions, and a frozen
    dataclass's `__init__` (one `object.__setattr__` per field) cost 9 % of its CPU.
    """

    start: int
    end: int
    project_id: int


@dataclass(frozen=True, slots=True)
class RateStep:
    """An hourly rate that applies from `starts_at` (epoch seconds of local midnight)."""

    project_id: int | None
    starts_at: int
    hourly_rate: Decimal


@dataclass(frozen=True, slots=True)
class OvertimePolicy:
    """Seconds in a period after which time is overtime (None: overtime off)."""

    after_seconds: int | None = None
    multiplier: Decimal = ONE


@dataclass(frozen=True, slots=True)
class PayLine:
    """One line of a timesheet: a (project, rate, kind) group with its exact amount."""

    project_id: int
    hourly_rate: Decimal
    kind: str
    multiplier: Decimal
    seconds: int
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


# A piece of a session, as a plain tuple (a frozen dataclass per piece costs more than the
# pricing itself at millions of sessions): (start, end, project_id, hourly_rate or None, kind).
_Piece = tuple[int, int, int, Decimal | None, str]
_Steps = tuple[list[int], list[Decimal | None]]
_START = itemgetter(0)
_START_END = itemgetter(0, 1)


def price_period(
    spans: Iterable[WorkSpan],
    rates: Sequence[RateStep],
    window: tuple[int, int],
    policy: OvertimePolicy | None = None,
) -> PeriodPay:
    """Price one worker's period: the lines and unpriced time of the sessions in `window`."""
    policy = policy or OvertimePolicy()
    pieces = _split_at_rate_changes(_clip_to_window(spans, window), rates)
    return _group(_mark_overtime(pieces, policy), policy)


def _clip_to_window(spans: Iterable[WorkSpan], window: tuple[int, int]) -> list[tuple[int, int, int]]:
    """The parts of the spans inside the window, as (start, end, project), in time order."""
    low, high = window
    clipped = [
        (low if span.start < low else span.start, high if span.end > high else span.end, span.project_id)
        for span in spans
        if span.end > low and span.start < high
    ]
    clipped.sort(key=_START_END)
    return clipped


def _split_at_rate_changes(clipped: list[tuple[int, int, int]], rates: Sequence[RateStep]) -> list[_Piece]:
    """Cut each span where its project's rate changes; each piece carries its rate."""
    timelines: dict[int, _Steps] = {}
    default: list[_Steps] = []  # built once, shared by every project without a rate of its own
    pieces: list[_Piece] = []
    for start, end, project in clipped:
        steps = timelines.get(project)
        if steps is None:
            steps = timelines[project] = _steps_for(rates, project, default)
        starts, values = steps
        index = bisect_right(starts, start) - 1
        following = index + 1
        if following == len(starts) or starts[following] >= end:  # the usual case: one rate
            pieces.append((start, end, project, values[index], REGULAR))
            continue
        while start < end:
            piece_end = starts[following] if following < len(starts) and starts[following] < end else end
            pieces.append((start, piece_end, project, values[following - 1], REGULAR))
            start = piece_end
            following += 1
    return pieces


def _steps_for(rates: Sequence[RateStep], project_id: int, default: list[_Steps]) -> _Steps:
    if any(rate.project_id == project_id for rate in rates):
        return _build_steps(rates, project_id)
    if not default:
        default.append(_build_steps(rates, project_id))
    return default[0]


def _build_steps(rates: Sequence[RateStep], project_id: int) -> _Steps:
    """Steps (start, rate) for one project: its own rate once one applies, else the default."""
    own = sorted((r.starts_at, r.hourly_rate) for r in rates if r.project_id == project_id)
    default = sorted((r.starts_at, r.hourly_rate) for r in rates if r.project_id is None)
    starts = [_NEVER]
    values: list[Decimal | None] = [None]
    for instant in sorted({s for s, _ in own} | {s for s, _ in default}):
        rate = _latest(own, instant)
        if rate is None:
            rate = _latest(default, instant)
        if rate != values[-1]:
            starts.append(instant)
            values.append(rate)
    return starts, values


def _latest(steps: list[tuple[int, Decimal]], instant: int) -> Decimal | None:
    """The rate of the last step starting at or before `instant`."""
    index = bisect_right(steps, instant, key=lambda step: step[0])
    return steps[index - 1][1] if index else None


def _mark_overtime(pieces: list[_Piece], policy: OvertimePolicy) -> list[_Piece]:
    """Walk in time order; seconds past the threshold are overtime (a straddler is split)."""
    threshold = policy.after_seconds
    if threshold is None:
        return pieces
    marked: list[_Piece] = []
    worked = 0
    for piece in sorted(pieces, key=_START):  # nearly sorted already: timsort makes this O(n)
        start, end, project, rate, _ = piece
        length = end - start
        if worked >= threshold:
            marked.append((start, end, project, rate, OVERTIME))
        elif worked + length <= threshold:
            marked.append(piece)
        else:
            cut = start + (threshold - worked)
            marked.append((start, cut, project, rate, REGULAR))
            marked.append((cut, end, project, rate, OVERTIME))
        worked += length
    return marked


def _group(pieces: list[_Piece], policy: OvertimePolicy) -> PeriodPay:
    """Sum seconds per (project, rate, kind); price each group once; collect unpriced time."""
    seconds: dict[tuple[int, Decimal, str], int] = defaultdict(int)
    unpriced: dict[int, list[int]] = {}
    total = 0
    for start, end, project, rate, kind in pieces:
        length = end - start
        total += length
        if rate is None:
            entry = unpriced.setdefault(project, [0, start])
            entry[0] += length
            if start < entry[1]:
                entry[1] = start
        else:
            seconds[(project, rate, kind)] += length
    lines = [_line(key, secs, policy) for key, secs in seconds.items()]
    lines.sort(key=lambda line: (line.project_id, _KIND_ORDER[line.kind], line.hourly_rate))
    gaps = [UnpricedTime(project, secs, first) for project, (secs, first) in sorted(unpriced.items())]
    return PeriodPay(tuple(lines), tuple(gaps), total)


def _line(key: tuple[int, Decimal, str], secs: int, policy: OvertimePolicy) -> PayLine:
    project_id, hourly_rate, kind = key
    multiplier = policy.multiplier if kind == OVERTIME else ONE
    return PayLine(
        project_id, hourly_rate, kind, multiplier, secs, line_amount(secs, hourly_rate, multiplier)
    )


def rate_steps_in_zone(rates: Iterable[tuple[int | None, Decimal, date]], zone: ZoneInfo) -> list[RateStep]:
    """RateSteps from (project_id, hourly_rate, effective_from) rows, dates read in `zone`."""
    return [RateStep(project, local_day_start(day, zone), rate) for project, rate, day in rates]
