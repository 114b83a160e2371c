"""The hourly close: in each worker's zone, the period that just ended is closed once.

Week 2026-W46 ends at local Monday 16 Nov 00:00: in Tonga (UTC+13) at Sun 15 Nov 11:00
UTC, in Kolkata (UTC+5:30) at Sun 15 Nov 18:30 UTC, in Chicago (UTC-6) at Mon 16 Nov
06:00 UTC. W45 ends a week earlier in each.
"""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from payroll.models import Job, JobStatus
from payroll.selectors.close import last_ended_period, periods_to_close
from payroll.services.schedule import close_ended_periods
from tests.factories import WorkerFactory

pytestmark = pytest.mark.django_db
ZONES = ("America/Chicago", "Asia/Kolkata", "Pacific/Tongatapu")
W46_ENDS = {
    "Pacific/Tongatapu": datetime(2026, 11, 15, 11, 0, tzinfo=UTC),
    "Asia/Kolkata": datetime(2026, 11, 15, 18, 30, tzinfo=UTC),
    "America/Chicago": datetime(2026, 11, 16, 6, 0, tzinfo=UTC),
}
W45_ENDS_IN_CHICAGO = datetime(2026, 11, 9, 6, 0, tzinfo=UTC)
SUNDAY_NOON_UTC = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)  # only Tonga has finished W46
MONDAY_0700_UTC = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # everyone has finished W46


@pytest.fixture
def workers(db) -> None:
    for zone in ZONES:
        WorkerFactory(time_zone=zone)
    WorkerFactory(time_zone="America/Chicago")  # zones are asked once each


def finished_close(period: str, created_at: datetime, status: str = JobStatus.DONE) -> Job:
    params = {"period": period}
    job = Job.objects.create(
        kind="close_period", params=params, params_key=json.dumps(params, sort_keys=True), status=status
    )
    Job.objects.filter(pk=job.pk).update(created_at=created_at, finished_at=created_at)
    return job


def started_periods(now: datetime) -> list[tuple[str, bool]]:
    return [(start.period, start.created) for start in close_ended_periods(now=now)]


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Pacific/Tongatapu", ("2026-W46", W46_ENDS["Pacific/Tongatapu"])),
        ("Asia/Kolkata", ("2026-W45", datetime(2026, 11, 8, 18, 30, tzinfo=UTC))),
        ("America/Chicago", ("2026-W45", W45_ENDS_IN_CHICAGO)),
    ],
)
def test_the_last_ended_period_is_read_in_the_zone(zone, expected):
    assert last_ended_period(SUNDAY_NOON_UTC, ZoneInfo(zone)) == expected


def test_a_period_has_ended_from_the_instant_of_local_monday_midnight():
    tonga = ZoneInfo("Pacific/Tongatapu")
    end = W46_ENDS["Pacific/Tongatapu"]
    assert last_ended_period(end, tonga)[0] == "2026-W46"
    assert last_ended_period(end - timedelta(seconds=1), tonga)[0] == "2026-W45"


def test_each_period_is_due_from_its_latest_end_among_the_zones_where_it_ended_last(workers):
    assert periods_to_close(SUNDAY_NOON_UTC) == {
        "2026-W45": W45_ENDS_IN_CHICAGO,
        "2026-W46": W46_ENDS["Pacific/Tongatapu"],
    }
    assert periods_to_close(MONDAY_0700_UTC) == {"2026-W46": W46_ENDS["America/Chicago"]}


def test_with_no_close_yet_both_periods_are_started(workers):
    # when
    started = started_periods(SUNDAY_NOON_UTC)
    # then
    assert started == [("2026-W45", True), ("2026-W46", True)]
    assert Job.objects.filter(kind="close_period", status=JobStatus.QUEUED).count() == 2


def test_an_unfinished_close_is_not_started_again(workers):
    # given
    started_periods(SUNDAY_NOON_UTC)
    # when the next hour's beat runs while both are still queued
    again = started_periods(SUNDAY_NOON_UTC.replace(hour=13))
    # then
    assert again == [("2026-W45", False), ("2026-W46", False)]
    assert Job.objects.count() == 2


def test_a_close_done_after_the_period_ended_everywhere_is_enough(workers):
    # given W45 closed at Mon 9 Nov 07:00 UTC, after it ended in Chicago
    finished_close("2026-W45", datetime(2026, 11, 9, 7, 0, tzinfo=UTC))
    # when
    started = started_periods(SUNDAY_NOON_UTC)
    # then
    assert started == [("2026-W46", True)]


def test_a_close_made_before_the_period_ended_in_chicago_does_not_count(workers):
    # given W45 closed at Mon 9 Nov 03:00 UTC: ended in Tonga and Kolkata, not yet in Chicago
    finished_close("2026-W45", datetime(2026, 11, 9, 3, 0, tzinfo=UTC))
    # when
    started = started_periods(SUNDAY_NOON_UTC)
    # then
    assert started == [("2026-W45", True), ("2026-W46", True)]


def test_the_early_close_for_tonga_is_redone_once_chicago_finishes_the_week(workers):
    # given W46 closed on Sunday noon UTC, when only Tonga had finished it
    finished_close("2026-W46", SUNDAY_NOON_UTC)
    # when / then
    assert started_periods(MONDAY_0700_UTC) == [("2026-W46", True)]


def test_nothing_is_started_once_the_period_is_closed_after_its_last_end(workers):
    # given
    finished_close("2026-W46", datetime(2026, 11, 16, 6, 5, tzinfo=UTC))
    # when / then
    assert started_periods(MONDAY_0700_UTC) == []
    assert Job.objects.count() == 1


def test_a_failed_close_is_tried_again(workers):
    # given
    finished_close("2026-W46", datetime(2026, 11, 16, 6, 5, tzinfo=UTC), status=JobStatus.FAILED)
    # when / then
    assert started_periods(MONDAY_0700_UTC) == [("2026-W46", True)]


def test_with_no_workers_nothing_is_due(db):
    assert started_periods(MONDAY_0700_UTC) == []
