"""The Celery tasks: thin, named, safe to run twice; and the beat schedule that runs them."""

from types import SimpleNamespace

import pytest
from celery.exceptions import Retry
from celery.schedules import crontab
from django.core import mail
from django.db import OperationalError

from config.celery_app import app
from payroll import tasks
from payroll.models import Job, JobChunk, JobStatus, Timesheet
from payroll.services.close import timesheets_refresh
from payroll.services.jobs import job_chunk_done, job_start
from tests.factories import RateFactory

pytestmark = pytest.mark.django_db
PERIOD = "2026-W45"


@pytest.fixture
def close_job(world, settings) -> Job:
    """A queued close of W45 for the world's three contractors, one worker per chunk."""
    settings.JOB_CHUNK_SIZE = 1
    for worker in (world.worker_a, world.worker_a2, world.worker_b):
        RateFactory(worker=worker)
    job, _ = job_start(kind="close_period", params={"period": PERIOD}, actor=None)  # not committed: not run
    return job


def snapshot() -> list[tuple]:
    return sorted(Timesheet.objects.values_list("pk", "worker_id", "total", "updated_at"))


def test_the_close_task_run_twice_on_one_job_counts_each_chunk_once(close_job):
    # when a redelivered close runs again after the first finished
    tasks.close_period.delay(close_job.pk)
    first = snapshot()
    tasks.close_period.delay(close_job.pk)
    # then
    job = Job.objects.get(pk=close_job.pk)
    assert (job.status, job.total_chunks, job.done_chunks) == (JobStatus.DONE, 3, 3)
    assert job.result == {"timesheets": 3, "changed": 3}
    assert JobChunk.objects.filter(job=job).count() == 3
    assert snapshot() == first


def test_a_chunk_run_again_after_it_is_done_is_a_no_op(close_job):
    # given
    tasks.close_period.delay(close_job.pk)
    job = Job.objects.get(pk=close_job.pk)
    chunk = JobChunk.objects.get(job=job, index=0)
    before = (snapshot(), job.result, job.done_chunks, job.finished_at, chunk.done_at)
    # when
    tasks.close_period_chunk.delay(close_job.pk, 0)
    job_chunk_done(job_id=close_job.pk, index=0, counts={"timesheets": 1, "changed": 1})  # a raced duplicate
    # then
    job.refresh_from_db()
    chunk.refresh_from_db()
    assert (snapshot(), job.result, job.done_chunks, job.finished_at, chunk.done_at) == before


def test_a_planning_task_redelivered_before_its_chunks_ran_dispatches_them_once(close_job, monkeypatch):
    # given a first delivery that planned the chunks but died before dispatching them
    monkeypatch.setattr(tasks.close_period_chunk, "delay", lambda *args: None)
    tasks.close_period.delay(close_job.pk)
    monkeypatch.undo()
    # when
    tasks.close_period.delay(close_job.pk)
    # then
    job = Job.objects.get(pk=close_job.pk)
    assert (job.status, job.done_chunks, job.result) == (JobStatus.DONE, 3, {"timesheets": 3, "changed": 3})


def test_a_failing_chunk_fails_the_job_so_a_new_close_can_start(close_job, monkeypatch):
    # given
    def broken(**kwargs):
        raise ValueError("pricing exploded")

    monkeypatch.setattr("payroll.tasks.timesheets_close", broken)
    # when
    with pytest.raises(ValueError, match="pricing exploded"):
        tasks.close_period.delay(close_job.pk)
    # then
    job = Job.objects.get(pk=close_job.pk)
    assert job.status == JobStatus.FAILED
    assert job.error == "Closing chunk 0 failed: pricing exploded"
    _, created = job_start(kind="close_period", params={"period": PERIOD}, actor=None)
    assert created


def test_a_failing_plan_fails_the_job(close_job, monkeypatch):
    # given
    def broken(period):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr("payroll.tasks.workers_to_close", broken)
    # when: inline Celery raises the retry instead of retrying, so this is the last attempt
    with pytest.raises(Retry):
        tasks.close_period.delay(close_job.pk)
    # then
    job = Job.objects.get(pk=close_job.pk)
    assert (job.status, job.error) == (
        JobStatus.FAILED,
        "Planning the close failed: server closed the connection",
    )


@pytest.mark.parametrize(
    ("error", "retries", "eager", "expected"),
    [
        (OperationalError("down"), 0, False, True),
        (OperationalError("down"), 4, False, True),
        (OperationalError("down"), 5, False, False),  # the last retry: the job fails
        (OperationalError("down"), 0, True, False),  # inline Celery does not retry
        (ValueError("bug"), 0, False, False),
    ],
)
def test_a_job_is_failed_only_when_celery_will_not_retry(error, retries, eager, expected):
    task = SimpleNamespace(
        request=SimpleNamespace(retries=retries, is_eager=eager, called_directly=False), max_retries=5
    )
    assert tasks._will_retry(task, error) is expected  # type: ignore[arg-type]


def test_the_hourly_task_starts_the_close_of_the_period_just_ended(world, frozen_now):
    # when: Fri 20 Nov 2026, so W46 has ended in every zone of the world
    job_ids = tasks.close_ended_periods.delay().get()
    # then
    job = Job.objects.get()
    assert job_ids == [job.pk]
    assert (job.kind, job.params, job.created_by) == ("close_period", {"period": "2026-W46"}, None)


def test_the_daily_task_sends_reminders_once(world, frozen_now):
    # given the W45 timesheets exist (the close makes them) and are still open
    for worker in (world.worker_a, world.worker_a2, world.worker_b):
        RateFactory(worker=worker)
    timesheets_refresh(workers=[world.worker_a, world.worker_a2, world.worker_b], period=PERIOD)
    # when
    first = tasks.send_reminders.delay().get()
    second = tasks.send_reminders.delay().get()
    # then
    assert (first["submit"], second["submit"]) == (3, 0)
    assert len(mail.outbox) == 3


# The beat schedule ----------------------------------------------------------------------

# task: (when, expires after) - each run expires before the next is due
EXPECTED_BEAT = {
    "payroll.close_ended_periods": (crontab(minute=5), 55 * 60),
    "payroll.send_reminders": (crontab(hour=14, minute=0), 12 * 60 * 60),
    "payroll.invoice_ended_periods": (crontab(hour=6, minute=0), 12 * 60 * 60),
    "trainers.stop_forgotten_timers": (crontab(minute="*/10"), 9 * 60),
    "payroll.sweep_stalled_jobs": (crontab(minute="*/10"), 9 * 60),
    "payroll.compact_pay_summaries": (crontab(minute="*/10"), 9 * 60),
}


def test_the_beat_schedule_runs_registered_tasks_at_their_cadence():
    app.loader.import_default_modules()
    entries = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}
    assert set(entries) == set(EXPECTED_BEAT)
    for name, (schedule, expires) in EXPECTED_BEAT.items():
        assert name in app.tasks, name
        assert entries[name]["schedule"] == schedule
        assert entries[name]["options"]["expires"] == expires


@pytest.mark.parametrize(
    "name",
    [
        "payroll.close_period",
        "payroll.close_period_chunk",
        "payroll.issue_invoices",
        "payroll.issue_invoices_chunk",
        "payroll.sweep_stalled_jobs",
        "payroll.close_ended_periods",
        "payroll.send_reminders",
        "payroll.render_invoice_pdfs",
        "payroll.invoice_ended_periods",
        "payroll.compact_pay_summaries",
        "trainers.stop_forgotten_timers",
    ],
)
def test_every_task_has_a_stable_name_and_the_reliable_options(name):
    app.loader.import_default_modules()
    task = app.tasks[name]
    assert (task.acks_late, task.reject_on_worker_lost, task.max_retries) == (True, True, 5)
    assert OperationalError in task.autoretry_for


@pytest.mark.parametrize("name", ["payroll.close_period_chunk", "payroll.issue_invoices_chunk"])
def test_a_chunk_retries_through_half_a_minute_of_database_restart(name):
    # given a chunk task's retry options
    app.loader.import_default_modules()
    task = app.tasks[name]
    # when its waits between runs are added up (full jitter could make each one 0 s)
    assert (task.retry_backoff, task.retry_jitter) == (True, False)
    most = getattr(task, "retry_backoff_max", 600)  # Celery's default when unset
    waits = [min(most, 2**retries) for retries in range(task.max_retries)]
    # then its last run comes after half a minute (1 + 2 + 4 + 8 + 16 s)
    assert sum(waits) >= 30
