"""manage.py close_period: validates the key, starts the close once, and is idempotent."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from payroll.models import Job, JobStatus, Timesheet, TimesheetLine
from tests.factories import RateFactory

PERIOD = "2026-W45"


def run(*args: str) -> str:
    out = StringIO()
    call_command("close_period", *args, stdout=out)
    return out.getvalue()


def timesheet_state() -> tuple[list[tuple], list[tuple]]:
    sheets = sorted(Timesheet.objects.values_list("pk", "worker_id", "period", "status", "total"))
    lines = sorted(
        TimesheetLine.objects.values_list(
            "pk", "timesheet_id", "project_id", "kind", "hourly_rate", "multiplier", "seconds", "amount"
        )
    )
    return sheets, lines


@pytest.fixture
def priced_world(world):
    for worker in (world.worker_a, world.worker_a2, world.worker_b):
        RateFactory(worker=worker)
    return world


@pytest.mark.parametrize("key", ["2026-45", "2026-W54", "1999-W10", "2026-W1", ""])
def test_a_bad_key_is_refused_with_the_reason(db, key):
    with pytest.raises(CommandError, match=r"is not an ISO week|is outside"):
        run(key)
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_inline_celery_prints_the_finished_result(priced_world):
    # when
    output = run(PERIOD)
    # then
    job = Job.objects.get()
    assert (job.status, job.created_by) == (JobStatus.DONE, None)
    assert output.strip() == f'Closed {PERIOD} (job {job.pk}): {{"changed": 3, "timesheets": 3}}'
    assert Timesheet.objects.filter(period=PERIOD).count() == 3


@pytest.mark.django_db(transaction=True)
def test_running_it_five_times_gives_the_same_timesheets(priced_world):
    # given
    run(PERIOD)
    after_one = timesheet_state()
    # when
    outputs = [run(PERIOD) for _ in range(4)]
    # then
    assert timesheet_state() == after_one
    assert len(after_one[0]) == 3 and len(after_one[1]) == 3
    assert all('{"changed": 0, "timesheets": 3}' in output for output in outputs)
    assert Job.objects.filter(status=JobStatus.DONE).count() == 5


def test_with_a_broker_it_prints_the_job_and_how_to_watch_it(priced_world, monkeypatch):
    # given a real broker (not inline); in this test transaction nothing is queued at all
    monkeypatch.setattr("payroll.management.job_command.runs_inline", lambda: False)
    # when
    first = run(PERIOD)
    second = run(PERIOD)
    # then
    job = Job.objects.get()
    assert job.status == JobStatus.QUEUED
    assert f"Close of {PERIOD} queued as job {job.pk}." in first
    assert f"GET /api/v1/jobs/{job.pk}/" in first
    assert f"A close of {PERIOD} is already queued as job {job.pk}." in second


@pytest.mark.django_db(transaction=True)
def test_a_failed_close_is_reported_as_an_error(priced_world, monkeypatch):
    # given
    def broken(**kwargs):
        raise ValueError("pricing exploded")

    monkeypatch.setattr("payroll.tasks.timesheets_close", broken)
    # when / then
    with pytest.raises(CommandError, match="pricing exploded"):
        run(PERIOD)
    assert Job.objects.get().status == JobStatus.FAILED
