"""The rules of PAY_RULES §1 as pure functions, shared by the services and the CSV import.

Each takes plain values and returns error messages keyed by field (empty when the input
is valid), so a single entry and a 100,000-row file get the same words, and the import
checks its rows in memory. Every message a session rule gives is written here once.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.api.fields import NAIVE_MESSAGE
from trainers.models import Activity

Errors = dict[str, list[str]]

# Nothing Fairhour pays happened before this; it also keeps every instant far from the
# calendar's edges, where converting to a worker's zone would overflow. From it on, every
# zone is in ISO week 2000-W01 or later (Monday 3 January starts at 12:00 UTC at UTC-12;
# midnight after it is a round number): Sat 1 January 2000 is in 1999-W52, a period
# Fairhour does not hold (2000-2999).
EARLIEST_INSTANT = datetime(2000, 1, 4, tzinfo=UTC)

OFFSET_MESSAGE = NAIVE_MESSAGE  # the API's words for an instant without its offset
EARLIEST_MESSAGE = f"Must be on or after {EARLIEST_INSTANT:%Y-%m-%d}."
FUTURE_MESSAGE = "May not be more than 5 minutes in the future."
ORDER_MESSAGE = "Must be after started_at (sessions last at least 1 s)."
WORKER_INACTIVE_MESSAGE = "This worker is inactive and cannot log time."
OVERLAP_BACKSTOP_MESSAGE = "Overlaps another session of this worker."
DISCARDED_MESSAGE = "Stopped in its first second, so the timer was discarded: no time was recorded."


@dataclass(frozen=True)
class Interval:
    """A session's span; `end` None means still running (open-ended)."""

    start: datetime
    end: datetime | None
    session_id: int | None = None

    def overlaps(self, other: "Interval") -> bool:
        """Half-open overlap: touching intervals do not overlap; running ones never end."""
        self_ends_after = self.end is None or self.end > other.start
        other_ends_after = other.end is None or other.end > self.start
        return self_ends_after and other_ends_after


def truncate_to_second(instant: datetime) -> datetime:
    """Drop sub-second precision (PAY_RULES §1: sessions are kept to the whole second).

    An aware instant comes back in UTC: Python compares and subtracts two datetimes of the
    same zone on the wall clock, so across a DST change (times typed in a worker's zone)
    17 real hours would pass for 16 and an end before its start for one after it.
    """
    if instant.utcoffset() is not None:
        instant = in_utc(instant)
    return instant.replace(microsecond=0)


def in_utc(instant: datetime) -> datetime:
    """The aware instant in UTC; unchanged at the calendar's far end, where UTC would overflow.

    Such an instant (year 9999) is refused as in the future, and comparing or subtracting
    datetimes of different zones is already done in real time.
    """
    try:
        return instant.astimezone(UTC)
    except OverflowError:
        return instant


def add_error(errors: Errors, field: str, message: str) -> None:
    """Append one message for one field."""
    errors.setdefault(field, []).append(message)


def too_long_message(max_hours: int) -> str:
    """The length rule's words (MAX_SESSION_HOURS is a setting)."""
    return f"A session may last at most {max_hours} hours."


def activity_message(value: str) -> str:
    """The refusal of an activity Fairhour does not know (PAY_RULES §8)."""
    return f"'{value[:40]}' is not an activity; use one of: {', '.join(Activity.values)}."


def locked_message(period: str, reason: str) -> str:
    """Why a session may not be written in a locked period (PAY_RULES §6)."""
    return f"Period {period} is locked: {reason}"


def instant_error(instant: datetime) -> str | None:
    """What is wrong with one instant on its own: no UTC offset, or before EARLIEST_INSTANT."""
    if instant.utcoffset() is None:
        return OFFSET_MESSAGE
    if instant < EARLIEST_INSTANT:
        return EARLIEST_MESSAGE
    return None


def interval_errors(
    start: datetime, end: datetime | None, *, now: datetime, max_hours: int, tolerance: timedelta
) -> Errors:
    """Check awareness, order, length and the future rule of one interval."""
    errors: Errors = {}
    for field, value in (("started_at", start), ("ended_at", end)):
        message = instant_error(value) if value is not None else None
        if message:
            add_error(errors, field, message)
    if errors:
        return errors
    # Real time, whatever zone the instants were written in (see truncate_to_second).
    start, end = in_utc(start), in_utc(end) if end is not None else None
    latest_allowed = now + tolerance
    if start > latest_allowed:
        add_error(errors, "started_at", FUTURE_MESSAGE)
    if end is None:
        return errors
    if end > latest_allowed:
        add_error(errors, "ended_at", FUTURE_MESSAGE)
    if end <= start:
        add_error(errors, "ended_at", ORDER_MESSAGE)
    elif end - start > timedelta(hours=max_hours):
        add_error(errors, "ended_at", too_long_message(max_hours))
    return errors


def project_errors(*, name: str, active: bool, assigned: bool) -> Errors:
    """The project must be active and the worker assigned to it."""
    if not active:
        return {"project": [f"Project '{name}' is inactive."]}
    if not assigned:
        return {"project": [f"This worker is not assigned to project '{name}'."]}
    return {}


def worker_errors(*, active: bool) -> Errors:
    """An inactive worker logs no new time (their history stays)."""
    return {} if active else {"worker": [WORKER_INACTIVE_MESSAGE]}


def first_overlap(candidate: Interval, others: Iterable[Interval]) -> Interval | None:
    """Return the first of `others` (excluding the candidate itself) that overlaps it."""
    for other in others:
        if candidate.session_id is not None and other.session_id == candidate.session_id:
            continue
        if candidate.overlaps(other):
            return other
    return None


def overlap_message(other: Interval) -> str:
    """Describe a clash with another session of the same worker."""
    end = other.end.isoformat() if other.end else "still running"
    where = f"session {other.session_id}" if other.session_id else "another row of this file"
    return f"Overlaps {where} ({other.start.isoformat()} to {end})."
