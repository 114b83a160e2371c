"""Weekly periods in the worker's own zone (PAY_RULES §2), including DST weeks."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.periods import (
    iso_week_key,
    parse_period_key,
    period_bounds,
    period_bounds_by_zone,
    periods_touched,
)

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("instant", "zone", "key"),
    [
        (datetime(2026, 11, 2, 5, 59, 59, tzinfo=UTC), "America/Chicago", "2026-W44"),  # Sun 23:59:59
        (datetime(2026, 11, 2, 6, 0, tzinfo=UTC), "America/Chicago", "2026-W45"),  # Mon 00:00
        (datetime(2026, 11, 1, 12, 0, tzinfo=UTC), "Pacific/Auckland", "2026-W45"),  # already Monday
        (datetime(2026, 11, 1, 18, 29, tzinfo=UTC), "Asia/Kolkata", "2026-W44"),  # Sun 23:59 IST
        (datetime(2026, 11, 1, 18, 30, tzinfo=UTC), "Asia/Kolkata", "2026-W45"),
        (datetime(2027, 1, 1, 12, 0, tzinfo=UTC), "UTC", "2026-W53"),  # 2026 has 53 ISO weeks
    ],
)
def test_iso_week_key_reads_the_workers_zone(instant, zone, key):
    assert iso_week_key(instant, ZoneInfo(zone)) == key


def test_bounds_of_a_normal_week_in_chicago():
    assert period_bounds("2026-W45", CHICAGO) == (
        datetime(2026, 11, 2, 6, 0, tzinfo=UTC),
        datetime(2026, 11, 9, 6, 0, tzinfo=UTC),
    )


def test_the_fall_back_week_lasts_169_hours_and_the_spring_week_167():
    start, end = period_bounds("2026-W44", CHICAGO)  # contains Sun 2026-11-01 fall-back
    assert (end - start).total_seconds() == 169 * 3600
    start, end = period_bounds("2026-W10", CHICAGO)  # contains Sun 2026-03-08 spring-forward
    assert (end - start).total_seconds() == 167 * 3600


def test_a_period_has_its_bounds_in_each_zone_by_name():
    # given / when
    bounds = period_bounds_by_zone("2026-W45", ["America/Chicago", "Asia/Kolkata", "America/Chicago"])
    # then one entry per zone, each read in that zone
    assert bounds == {
        "America/Chicago": period_bounds("2026-W45", CHICAGO),
        "Asia/Kolkata": (
            datetime(2026, 11, 1, 18, 30, tzinfo=UTC),
            datetime(2026, 11, 8, 18, 30, tzinfo=UTC),
        ),
    }


def test_lord_howe_half_hour_shift_is_respected():
    # Lord Howe moves from +11 to +10:30 on Sun 2026-04-05 02:00 local.
    start, end = period_bounds("2026-W14", ZoneInfo("Australia/Lord_Howe"))
    assert (end - start).total_seconds() == 7 * 24 * 3600 + 30 * 60


def test_a_session_over_the_week_boundary_touches_both_periods():
    # PAY_RULES example 3: Sun 2026-11-01 22:00 -> Mon 02:00 local.
    start = datetime(2026, 11, 1, 22, 0, tzinfo=CHICAGO)
    end = datetime(2026, 11, 2, 2, 0, tzinfo=CHICAGO)
    assert periods_touched(start, end, CHICAGO) == ["2026-W44", "2026-W45"]


def test_a_session_ending_exactly_at_the_boundary_touches_one_period():
    start = datetime(2026, 11, 1, 22, 0, tzinfo=CHICAGO)
    end = datetime(2026, 11, 2, 0, 0, tzinfo=CHICAGO)
    assert periods_touched(start, end, CHICAGO) == ["2026-W44"]


def test_a_running_session_touches_its_start_period():
    assert periods_touched(datetime(2026, 11, 2, 6, 0, tzinfo=UTC), None, CHICAGO) == ["2026-W45"]


@pytest.mark.parametrize("key", ["2026-45", "2026-W5", "2025-W53", "2026-W00", "2026-W54", "", "W45"])
def test_invalid_period_keys_are_refused(key):
    with pytest.raises(ValueError, match=r"week"):
        parse_period_key(key)


def test_valid_week_53():
    assert parse_period_key("2026-W53") == (2026, 53)
