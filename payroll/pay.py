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
from zoneinfo import ZoneInfo

from payroll.money import ONE, line_amount
from payroll.periods import local_day_start

REGULAR = "regular"
OVERTIME = "overtime"
_NEVER = -(2**62)  # before any rate: a sentinel step with no rate
_KIND_ORDER = {REGULAR: 0, OVERTIME: 1}


@dataclass(frozen=True, slots=True)
class WorkSpan:
    """A finished session [start, end) in epoch seconds, on a project."""

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


@dataclass(frozen=True, slots=True)
class _Piece:
    start: int
    end: int
    project_id: int
    hourly_rate: Decimal | None
    kind: str = REGULAR


def price_period(
    spans: Iterable[WorkSpan],
    rates: Sequence[RateStep],
    window: tuple[int, int],
    policy: OvertimePolicy | None = None,
) -> PeriodPay:
    """Price one worker's period: the lines and unpriced time of the sessions in `window`."""
    policy = policy or OvertimePolicy()
    clipped = _clip_to_window(spans, window)
    timeline = _RateTimeline(rates)
    priced = [piece for span in clipped for piece in timeline.split(span)]
    kinded = _mark_overtime(priced, policy)
    return _group(kinded, policy)


def _clip_to_window(spans: Iterable[WorkSpan], window: tuple[int, int]) -> list[WorkSpan]:
    """The parts of the spans inside the window, in time order."""
    low, high = window
    clipped = [
        WorkSpan(max(span.start, low), min(span.end, high), span.project_id)
        for span in spans
        if span.end > low and span.start < high
    ]
    clipped.sort(key=lambda span: (span.start, span.end))
    return clipped


class _RateTimeline:
    """For each project, the rate in force at every instant, as sorted steps."""

    def __init__(self, rates: Sequence[RateStep]) -> None:
        self._rates = rates
        self._by_project: dict[int, tuple[list[int], list[Decimal | None]]] = {}

    def split(self, span: WorkSpan) -> list[_Piece]:
        """Cut a span where its project's rate changes; each piece carries its rate."""
        starts, values = self._steps(span.project_id)
        index = bisect_right(starts, span.start) - 1
        pieces: list[_Piece] = []
        cursor = span.start
        while cursor < span.end:
            step_end = starts[index + 1] if index + 1 < len(starts) else span.end
            piece_end = min(span.end, step_end)
            pieces.append(_Piece(cursor, piece_end, span.project_id, values[index]))
            cursor = piece_end
            index += 1
        return pieces

    def _steps(self, project_id: int) -> tuple[list[int], list[Decimal | None]]:
        if project_id not in self._by_project:
            self._by_project[project_id] = _build_steps(self._rates, project_id)
        return self._by_project[project_id]


def _build_steps(rates: Sequence[RateStep], project_id: int) -> tuple[list[int], list[Decimal | None]]:
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
    pieces = sorted(pieces, key=lambda piece: piece.start)
    marked: list[_Piece] = []
    worked = 0
    for piece in pieces:
        length = piece.end - piece.start
        if worked >= threshold:
            marked.append(_with_kind(piece, piece.start, piece.end, OVERTIME))
        elif worked + length <= threshold:
            marked.append(piece)
        else:
            cut = piece.start + (threshold - worked)
            marked.append(_with_kind(piece, piece.start, cut, REGULAR))
            marked.append(_with_kind(piece, cut, piece.end, OVERTIME))
        worked += length
    return marked


def _with_kind(piece: _Piece, start: int, end: int, kind: str) -> _Piece:
    return _Piece(start, end, piece.project_id, piece.hourly_rate, kind)


def _group(pieces: list[_Piece], policy: OvertimePolicy) -> PeriodPay:
    """Sum seconds per (project, rate, kind); price each group once; collect unpriced time."""
    seconds: dict[tuple[int, Decimal, str], int] = defaultdict(int)
    unpriced: dict[int, list[int]] = {}
    total = 0
    for piece in pieces:
        length = piece.end - piece.start
        total += length
        if piece.hourly_rate is None:
            entry = unpriced.setdefault(piece.project_id, [0, piece.start])
            entry[0] += length
            entry[1] = min(entry[1], piece.start)
        else:
            seconds[(piece.project_id, piece.hourly_rate, piece.kind)] += length
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
