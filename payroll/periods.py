"""Calendar arithmetic of pay periods and rate dates in a worker's zone, as epoch seconds.

Builds on trainers.periods (ISO weeks). The pay engine works on whole epoch seconds:
exact integers, no floats, and fast enough for millions of sessions.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from trainers.periods import iso_week_key, local_midnight, parse_period_key, period_bounds

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_SECOND = timedelta(seconds=1)

__all__ = [
    "epoch_seconds",
    "from_epoch",
    "iso_week_key",
    "local_day_start",
    "next_period",
    "parse_period_key",
    "period_bounds",
    "period_window",
]


def epoch_seconds(instant: datetime) -> int:
    """Whole seconds since 1970-01-01 UTC of an aware instant (integer arithmetic only)."""
    return (instant - EPOCH) // ONE_SECOND


def from_epoch(seconds: int) -> datetime:
    """The aware UTC instant of an epoch second."""
    return EPOCH + timedelta(seconds=seconds)


def period_window(key: str, zone: ZoneInfo) -> tuple[int, int]:
    """The period [start, end) in epoch seconds, read in `zone`."""
    start, end = period_bounds(key, zone)
    return epoch_seconds(start), epoch_seconds(end)


def local_day_start(day: date, zone: ZoneInfo) -> int:
    """Epoch second of local midnight of `day` in `zone` (when a rate takes effect)."""
    return epoch_seconds(local_midnight(day, zone))


def next_period(key: str) -> str:
    """The key of the week after `key`."""
    year, week = parse_period_key(key)
    following = date.fromisocalendar(year, week, 1) + timedelta(days=7)
    iso_year, iso_week, _ = following.isocalendar()
    return f"{iso_year}-W{iso_week:02d}"
