"""Weekly pay periods in a worker's own time zone (PAY_RULES §2).

A period starts Monday 00:00 local time and ends the next Monday 00:00; its key is the
ISO week, e.g. `2026-W45`. Both apps use them (trainers may not import payroll); the pay
engine reads instants as whole epoch seconds (exact integers, no floats).
"""

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_KEY_PATTERN = re.compile(r"([0-9]{4})-W([0-9]{2})")
# Periods Fairhour can hold (sessions start in 2000 or later); the bound also keeps
# period arithmetic away from the calendar's edges.
FIRST_PERIOD_YEAR, LAST_PERIOD_YEAR = 2000, 2999


def iso_week_key(instant: datetime, zone: ZoneInfo) -> str:
    """Return the ISO week key of an aware instant, read in `zone`."""
    year, week, _ = instant.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def parse_period_key(key: str) -> tuple[int, int]:
    """Return (iso_year, iso_week) of a key like `2026-W45`; ValueError if it is not one."""
    match = PERIOD_KEY_PATTERN.fullmatch(key)
    if not match:
        raise ValueError(f"'{key}' is not an ISO week such as 2026-W45.")
    year, week = int(match.group(1)), int(match.group(2))
    if not FIRST_PERIOD_YEAR <= year <= LAST_PERIOD_YEAR:
        raise ValueError(f"'{key}' is outside {FIRST_PERIOD_YEAR}-{LAST_PERIOD_YEAR}.")
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError as error:  # e.g. week 53 of a 52-week year
        raise ValueError(f"'{key}' is not an ISO week such as 2026-W45.") from error
    return year, week


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of 00:00 on `day` in `zone`.

    If midnight does not exist that day (a DST gap), this is the instant the day begins.
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_bounds(key: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the half-open UTC interval [start, end) of a period in `zone`."""
    year, week = parse_period_key(key)
    monday = date.fromisocalendar(year, week, 1)
    return local_midnight(monday, zone), local_midnight(monday + timedelta(days=7), zone)


def period_bounds_by_zone(key: str, zone_names: Iterable[str]) -> dict[str, tuple[datetime, datetime]]:
    """Return a period's half-open UTC interval in each of these zones, by zone name."""
    return {name: period_bounds(key, ZoneInfo(name)) for name in zone_names}


def periods_touched(started_at: datetime, ended_at: datetime | None, zone: ZoneInfo) -> list[str]:
    """Return the keys of every period that [started_at, ended_at) overlaps, in order."""
    last_instant = (ended_at - timedelta(microseconds=1)) if ended_at else started_at
    keys = [iso_week_key(started_at, zone)]
    while keys[-1] != iso_week_key(last_instant, zone):
        _, end = period_bounds(keys[-1], zone)
        keys.append(iso_week_key(end, zone))
    return keys


# Epoch seconds: the pay engine's exact integer time (no floats), fast for millions of sessions.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_SECOND = timedelta(seconds=1)


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
