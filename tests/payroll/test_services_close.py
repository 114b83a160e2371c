"""The period close: who has time in a period (each in their own zone), chunks, refresh."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.periods import period_bounds
from payroll.models import Adjustment, Job, JobStatus, Timesheet, TimesheetStatus
from payroll.selectors.close import workers_to_close
from payroll.services.close import timesheets_refresh
from payroll.services.jobs import chunked, job_start, period_job_params
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import ProjectFactory, RateFactory, SessionFactory, WorkerFactory
from trainers.models import Worker

pytestmark = pytest.mark.django_db
PERIOD = "2026-W45"  # Mon 2 Nov to Mon 9 Nov 2026, local


def lines_of(timesheet: Timesheet) -> list[tuple]:
    return sorted(
        (line.project_id, line.kind, line.hourly_rate, line.seconds, line.amount)
        for line in timesheet.lines.all()
    )


def worker_with_session(zone: str, start: datetime, end: datetime | None) -> Worker:
    worker = WorkerFactory(time_zone=zone)
    SessionFactory(worker=worker, project=ProjectFactory(workers=[worker]), started_at=start, ended_at=end)
    return worker


def test_workers_to_close_reads_the_period_in_each_workers_zone(world):
    # given: Sun 8 Nov 23:00 in Chicago is still W45; Mon 9 Nov 00:30 in Kolkata is W46
    late_sunday_chicago = worker_with_session(
        "America/Chicago", datetime(2026, 11, 9, 5, 0, tzinfo=UTC), datetime(2026, 11, 9, 5, 30, tzinfo=UTC)
    )
    monday_kolkata = worker_with_session(
        "Asia/Kolkata", datetime(2026, 11, 8, 19, 0, tzinfo=UTC), datetime(2026, 11, 8, 20, 0, tzinfo=UTC)
    )
    # when
    ids = workers_to_close(PERIOD)
    # then
    assert late_sunday_chicago.pk in ids
    assert monday_kolkata.pk not in ids
    assert monday_kolkata.pk in workers_to_close("2026-W46")
    assert {world.worker_a.pk, world.worker_a2.pk, world.worker_b.pk} <= set(ids)
    assert ids == sorted(ids)


def test_a_running_session_counts_and_a_session_ending_at_the_start_does_not(world):
    # given
    running = worker_with_session("UTC", datetime(2026, 11, 8, 20, 0, tzinfo=UTC), None)
    touching = worker_with_session(
        "UTC", datetime(2026, 11, 1, 22, 0, tzinfo=UTC), datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    )
    # when
    ids = workers_to_close(PERIOD)
    # then
    assert running.pk in ids
    assert touching.pk not in ids


def test_a_worker_with_only_an_adjustment_in_the_period_is_closed_too(world):
    # given a worker without time whose back pay lands on the period
    idle = WorkerFactory()
    Adjustment.objects.create(
        worker=idle, amount=Decimal("25.00"), currency=idle.currency, reason="Back pay",
        applies_to_period=PERIOD, created_by=world.finance,
    )  # fmt: skip
    # when, then: the close builds the timesheet the adjustment shows on, and no other week's
    assert idle.pk in workers_to_close(PERIOD)
    assert idle.pk not in workers_to_close("2026-W46")


def test_chunked_splits_in_order_with_a_short_last_chunk(settings):
    assert chunked([1, 2, 3, 4, 5], size=2) == [[1, 2], [3, 4], [5]]
    settings.JOB_CHUNK_SIZE = 3  # the default size comes from the setting
    assert chunked([1, 2, 3, 4, 5]) == [[1, 2, 3], [4, 5]]
    assert chunked([]) == []
    assert period_job_params(PERIOD) == {"period": PERIOD}


def test_refresh_creates_open_timesheets_with_stored_lines_and_totals(world):
    # given: 2 h at 15.00 each
    for worker in (world.worker_a, world.worker_b):
        RateFactory(worker=worker)
    # when
    changed = timesheets_refresh(workers=[world.worker_a, world.worker_b], period=PERIOD)
    # then
    assert changed == 2
    timesheet = Timesheet.objects.get(worker=world.worker_a, period=PERIOD)
    assert timesheet.status == TimesheetStatus.OPEN
    assert timesheet.total == Decimal("30.00")
    assert lines_of(timesheet) == [
        (world.project_a.pk, "regular", Decimal("15.0000"), 7200, Decimal("30.00"))
    ]
    kolkata = Timesheet.objects.get(worker=world.worker_b, period=PERIOD)
    assert kolkata.period_start == datetime(2026, 11, 1, 18, 30, tzinfo=UTC)  # Mon 00:00 IST


def test_refresh_creates_timesheets_as_the_services_do_and_keeps_an_existing_one(world):
    # given: B's timesheet exists already (the services made it)
    existing, _ = timesheet_get_or_create(worker=world.worker_b, period=PERIOD)
    # when
    timesheets_refresh(workers=[world.worker_a, world.worker_b], period=PERIOD)
    # then
    assert Timesheet.objects.get(worker=world.worker_b, period=PERIOD).pk == existing.pk
    made = Timesheet.objects.get(worker=world.worker_a, period=PERIOD)
    start, end = period_bounds(PERIOD, world.worker_a.zone)
    assert (made.period_start, made.period_end, made.currency, made.status) == (start, end, "USD", "open")
    assert (made.submitted_at, made.decided_at, made.decided_by, made.decision_note) == (None, None, None, "")
    assert made.created_at is not None
    assert made.updated_at >= made.created_at


def test_refresh_twice_writes_nothing_new(world):
    # given
    RateFactory(worker=world.worker_a)
    timesheets_refresh(workers=[world.worker_a], period=PERIOD)
    before = Timesheet.objects.get(worker=world.worker_a, period=PERIOD)
    line_ids = sorted(before.lines.values_list("pk", flat=True))
    # when
    changed = timesheets_refresh(workers=[world.worker_a], period=PERIOD)
    # then
    after = Timesheet.objects.get(worker=world.worker_a, period=PERIOD)
    assert changed == 0
    assert (after.pk, after.total, after.updated_at) == (before.pk, before.total, before.updated_at)
    assert sorted(after.lines.values_list("pk", flat=True)) == line_ids


def test_refresh_picks_up_edits_and_adjustments(world):
    # given
    RateFactory(worker=world.worker_a)
    timesheets_refresh(workers=[world.worker_a], period=PERIOD)
    world.session_a.ended_at += timedelta(hours=1)
    world.session_a.save()
    Adjustment.objects.create(
        worker=world.worker_a,
        amount=Decimal("-5.00"),
        currency="USD",
        reason="Overpaid last week",
        applies_to_period=PERIOD,
        created_by=world.manager_a,
    )
    # when
    changed = timesheets_refresh(workers=[world.worker_a], period=PERIOD)
    # then: 3 h at 15.00 minus 5.00
    timesheet = Timesheet.objects.get(worker=world.worker_a, period=PERIOD)
    assert changed == 1
    assert timesheet.total == Decimal("40.00")
    assert [line[3] for line in lines_of(timesheet)] == [3 * 3600]


@pytest.mark.parametrize("status", [TimesheetStatus.SUBMITTED, TimesheetStatus.APPROVED])
def test_refresh_leaves_a_locked_timesheet_alone(world, status):
    # given a locked timesheet whose stored figures differ from the sessions
    RateFactory(worker=world.worker_a)
    timesheets_refresh(workers=[world.worker_a], period=PERIOD)
    Timesheet.objects.filter(worker=world.worker_a).update(status=status, total=Decimal("1.00"))
    world.session_a.ended_at += timedelta(hours=1)
    world.session_a.save()
    # when
    changed = timesheets_refresh(workers=[world.worker_a], period=PERIOD)
    # then
    timesheet = Timesheet.objects.get(worker=world.worker_a, period=PERIOD)
    assert changed == 0
    assert timesheet.total == Decimal("1.00")
    assert [line[3] for line in lines_of(timesheet)] == [7200]


def test_a_rejected_timesheet_is_refreshed(world):
    # given
    RateFactory(worker=world.worker_a)
    timesheets_refresh(workers=[world.worker_a], period=PERIOD)
    Timesheet.objects.filter(worker=world.worker_a).update(status=TimesheetStatus.REJECTED)
    world.session_a.ended_at += timedelta(hours=1)
    world.session_a.save()
    # when
    changed = timesheets_refresh(workers=[world.worker_a], period=PERIOD)
    # then
    assert changed == 1
    assert Timesheet.objects.get(worker=world.worker_a, period=PERIOD).total == Decimal("45.00")


def test_the_whole_close_fans_out_in_chunks_and_finishes(world, settings, django_capture_on_commit_callbacks):
    # given chunks of one worker each
    settings.JOB_CHUNK_SIZE = 1
    for worker in (world.worker_a, world.worker_a2, world.worker_b):
        RateFactory(worker=worker)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        job, created = job_start(kind="close_period", params={"period": PERIOD}, actor=world.finance)
    # then
    job.refresh_from_db()
    assert created
    assert (job.status, job.total_chunks, job.done_chunks, job.progress) == (JobStatus.DONE, 3, 3, 100)
    assert job.result == {"timesheets": 3, "changed": 3}
    assert Timesheet.objects.filter(period=PERIOD).count() == 3


def test_a_close_with_nobody_to_close_is_done_at_once(db, django_capture_on_commit_callbacks):
    # given / when
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = job_start(kind="close_period", params={"period": "2026-W01"}, actor=None)
    # then
    job = Job.objects.get(pk=job.pk)
    assert (job.status, job.total_chunks, job.progress) == (JobStatus.DONE, 0, 100)
