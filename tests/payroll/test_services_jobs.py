"""Jobs that survive the real world: every chunk delivery counted and capped; stalled jobs swept."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from payroll import tasks
from payroll.models import Invoice, Job, JobChunk, JobStatus, Timesheet
from payroll.services.jobs import job_chunk_begin, job_fail, job_plan_chunks, job_start, jobs_sweep_stalled
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import (
    ProjectFactory,
    RateFactory,
    SessionFactory,
    TeamFactory,
    UserFactory,
    WorkerFactory,
)
from trainers.models import Role

pytestmark = pytest.mark.django_db
PERIOD = "2026-W45"
STALLED = timedelta(hours=1)  # past the default time limit (30 min) plus the margin (10 min)


@pytest.fixture
def close_job(world, settings, django_capture_on_commit_callbacks) -> Job:
    """A queued close of W45 for the world's three contractors, one worker per chunk (not run)."""
    settings.JOB_CHUNK_SIZE = 1
    for worker in (world.worker_a, world.worker_a2, world.worker_b):
        RateFactory(worker=worker)
    with django_capture_on_commit_callbacks(execute=False):
        job, _ = job_start(kind="close_period", params={"period": PERIOD}, actor=None)
    return job


@pytest.fixture
def planned_job(close_job, monkeypatch) -> Job:
    """The close planned in three chunks whose messages were lost (never delivered)."""
    monkeypatch.setattr(tasks.close_period_chunk, "delay", lambda *args: None)
    tasks.close_period.delay(close_job.pk)
    monkeypatch.undo()
    return Job.objects.get(pk=close_job.pk)


@pytest.fixture
def refresh_calls(monkeypatch) -> list[list[int]]:
    """Record the workers each close chunk works on (instead of working)."""
    calls: list[list[int]] = []
    monkeypatch.setattr(
        "payroll.tasks.timesheets_close",
        lambda *, worker_ids, period: calls.append(list(worker_ids)) or 0,
    )
    return calls


def attempts_of(job: Job) -> list[int]:
    return list(JobChunk.objects.filter(job=job).order_by("index").values_list("attempts", flat=True))


# The redelivery cap --------------------------------------------------------------------


def test_each_delivery_is_counted_before_the_work_and_the_count_survives_a_failure(planned_job, monkeypatch):
    # given a chunk whose work fails
    def broken(**kwargs):
        raise ValueError("pricing exploded")

    monkeypatch.setattr("payroll.tasks.timesheets_close", broken)
    before = timezone.now()
    # when
    with pytest.raises(ValueError, match="pricing exploded"):
        tasks.close_period_chunk.delay(planned_job.pk, 0)
    # then the delivery was counted and marked as progress, although the work rolled back
    job = Job.objects.get(pk=planned_job.pk)
    assert attempts_of(job) == [1, 0, 0]
    assert job.progressed_at is not None and job.progressed_at >= before


def test_a_finished_chunk_marks_progress_and_a_redelivery_after_it_is_not_counted(planned_job):
    # when chunk 0 runs, then is delivered again
    tasks.close_period_chunk.delay(planned_job.pk, 0)
    finished = Job.objects.get(pk=planned_job.pk).progressed_at
    tasks.close_period_chunk.delay(planned_job.pk, 0)
    # then
    job = Job.objects.get(pk=planned_job.pk)
    assert (job.done_chunks, attempts_of(job)) == (1, [1, 0, 0])
    assert JobChunk.objects.get(job=job, index=0).done_at == finished
    assert job.progressed_at == finished


def test_a_chunk_past_the_cap_fails_its_job_and_does_no_work(planned_job, settings, refresh_calls):
    # given chunk 1 was delivered twice already and each delivery killed its worker
    settings.JOB_CHUNK_MAX_ATTEMPTS = 2
    JobChunk.objects.filter(job=planned_job, index=1).update(attempts=2)
    # when the broker delivers it a third time
    tasks.close_period_chunk.delay(planned_job.pk, 1)
    # then
    job = Job.objects.get(pk=planned_job.pk)
    assert refresh_calls == []
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Chunk 1 was started 2 times without finishing")
    assert "JOB_CHUNK_MAX_ATTEMPTS is 2" in job.error
    assert attempts_of(job) == [0, 3, 0]
    _, created = job_start(kind="close_period", params={"period": PERIOD}, actor=None)
    assert created  # the failed job no longer blocks the next close


def test_the_delivery_at_the_cap_still_works(planned_job, settings, refresh_calls):
    settings.JOB_CHUNK_MAX_ATTEMPTS = 2
    JobChunk.objects.filter(job=planned_job, index=1).update(attempts=1)
    tasks.close_period_chunk.delay(planned_job.pk, 1)
    assert len(refresh_calls) == 1
    assert Job.objects.get(pk=planned_job.pk).status == JobStatus.RUNNING


def test_chunks_of_a_failed_job_do_no_work_and_are_not_counted(planned_job, refresh_calls):
    # given
    job_fail(job_id=planned_job.pk, error="Closing chunk 0 failed: pricing exploded")
    # when the other chunks arrive
    tasks.close_period_chunk.delay(planned_job.pk, 1)
    assert job_chunk_begin(job_id=planned_job.pk, index=2) is False
    # then
    assert refresh_calls == []
    assert attempts_of(planned_job) == [0, 0, 0]


# The sweep of stalled jobs --------------------------------------------------------------


def test_a_queued_job_whose_message_was_lost_is_planned_again(close_job, django_capture_on_commit_callbacks):
    # given the close's message vanished with a Redis restart: queued for 6 minutes
    later = timezone.now() + timedelta(minutes=6)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = jobs_sweep_stalled(now=later)
    # then the planning task ran again and the job finished
    job = Job.objects.get(pk=close_job.pk)
    assert (result.replanned, result.redispatched, result.failed) == ([job.pk], [], [])
    assert (job.status, job.done_chunks, job.total_chunks) == (JobStatus.DONE, 3, 3)
    assert Timesheet.objects.filter(period=PERIOD).count() == 3


def test_a_job_queued_for_a_moment_is_left_alone(close_job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as sent:
        result = jobs_sweep_stalled(now=timezone.now() + timedelta(minutes=2))
    assert (result.replanned, sent) == ([], [])
    assert Job.objects.get(pk=close_job.pk).status == JobStatus.QUEUED


def test_a_running_job_whose_chunks_were_lost_gets_its_undone_chunks_again(
    planned_job, django_capture_on_commit_callbacks
):
    # given chunk 0 ran; the messages of chunks 1 and 2 were lost an hour ago
    tasks.close_period_chunk.delay(planned_job.pk, 0)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = jobs_sweep_stalled(now=timezone.now() + STALLED)
    # then chunks 1 and 2 were sent once each, chunk 0 not again
    job = Job.objects.get(pk=planned_job.pk)
    assert (result.replanned, result.redispatched, result.failed) == ([], [job.pk], [])
    assert (job.status, job.done_chunks, job.progress) == (JobStatus.DONE, 3, 100)
    assert attempts_of(job) == [1, 1, 1]
    assert job.result == {"timesheets": 3, "changed": 3}


def test_a_swept_job_is_given_a_whole_window_before_the_next_sweep_sends_again(
    planned_job, django_capture_on_commit_callbacks
):
    # given a sweep sent the chunks again, and the broker is slow to deliver them
    later = timezone.now() + STALLED
    with django_capture_on_commit_callbacks(execute=False) as first:
        jobs_sweep_stalled(now=later)
    # when the next sweep comes ten minutes later
    with django_capture_on_commit_callbacks(execute=False) as second:
        result = jobs_sweep_stalled(now=later + timedelta(minutes=10))
    # then it sends nothing
    assert (len(first), second, result.redispatched) == (1, [], [])


def test_a_running_job_that_progressed_recently_is_left_alone(
    planned_job, django_capture_on_commit_callbacks
):
    # given chunk 0 finished just now; a long close is still on its way
    tasks.close_period_chunk.delay(planned_job.pk, 0)
    # when the sweep runs half an hour later (the chunk may still run: inside the time limit)
    with django_capture_on_commit_callbacks(execute=True) as sent:
        result = jobs_sweep_stalled(now=timezone.now() + timedelta(minutes=30))
    # then
    assert (result.redispatched, result.failed, sent) == ([], [], [])
    assert Job.objects.get(pk=planned_job.pk).status == JobStatus.RUNNING


def test_a_stalled_job_with_a_chunk_past_the_cap_fails_instead_of_being_sent_again(
    planned_job, settings, django_capture_on_commit_callbacks
):
    # given chunk 2 was started as often as allowed and never finished
    settings.JOB_CHUNK_MAX_ATTEMPTS = 3
    JobChunk.objects.filter(job=planned_job, index=2).update(attempts=3)
    # when
    with django_capture_on_commit_callbacks(execute=True) as sent:
        result = jobs_sweep_stalled(now=timezone.now() + STALLED)
    # then
    job = Job.objects.get(pk=planned_job.pk)
    assert (result.redispatched, result.failed, sent) == ([], [job.pk], [])
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Chunk 2 was started 3 times without finishing")


def test_the_stall_window_follows_the_visibility_timeout_or_the_time_limit(planned_job, settings):
    # given a broker that redelivers after 10 minutes, and tasks limited to 5
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    settings.CELERY_TASK_TIME_LIMIT = 300
    now = timezone.now()
    # then stalled after 10 + 10 minutes, not before
    assert jobs_sweep_stalled(now=now + timedelta(minutes=19)).redispatched == []
    assert jobs_sweep_stalled(now=now + timedelta(minutes=21)).redispatched == [planned_job.pk]


def test_a_chunk_may_run_its_whole_time_limit_before_its_job_is_swept(planned_job, settings):
    # given a broker that redelivers a dead worker's chunk after 30 s, and tasks limited to 30 min
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 30}
    settings.CELERY_TASK_TIME_LIMIT = 1800
    now = timezone.now()
    # then a job quiet for less than 30 + 10 minutes may have a chunk still running
    assert jobs_sweep_stalled(now=now + timedelta(minutes=39)).redispatched == []
    assert jobs_sweep_stalled(now=now + timedelta(minutes=41)).redispatched == [planned_job.pk]


def test_finished_jobs_are_never_swept(planned_job):
    tasks.close_period.delay(planned_job.pk)  # runs the three chunks inline
    job_fail(job_id=planned_job.pk, error="ignored: the job is done")
    result = jobs_sweep_stalled(now=timezone.now() + timedelta(days=30))
    assert (result.replanned, result.redispatched, result.failed) == ([], [], [])
    assert Job.objects.get(pk=planned_job.pk).status == JobStatus.DONE


def test_the_sweep_task_reports_what_it_did(close_job, monkeypatch):
    # given the clock is past the queued grace
    later = timezone.now() + timedelta(minutes=6)
    monkeypatch.setattr("payroll.tasks.timezone.now", lambda: later)
    # when (the planning it sends waits for a commit that this test never makes)
    report = tasks.sweep_stalled_jobs.delay().get()
    # then
    assert report == {"replanned": [close_job.pk], "redispatched": [], "failed": []}


# Duplicate deliveries racing -------------------------------------------------------------


def approved_timesheet_ids(count: int) -> list[int]:
    """Ids of `count` approved W45 timesheets (2 h at 15.00 each), of workers in one team."""
    manager = UserFactory(role=Role.MANAGER)
    workers = [WorkerFactory(team=TeamFactory(managers=[manager])) for _ in range(count)]
    project = ProjectFactory(workers=workers)
    ids = []
    for worker in workers:
        RateFactory(worker=worker)
        SessionFactory(worker=worker, project=project)
        timesheet, _ = timesheet_get_or_create(worker=worker, period=PERIOD)
        timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
        ids.append(timesheet_transition(actor=manager, timesheet=timesheet, action="approve").pk)
    return sorted(ids)


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_invoicing_chunk_at_once_issue_each_invoice_once(frozen_now):
    # given eight approved timesheets in one chunk (a redelivery racing its original, as a
    # short visibility timeout or a sweep after a slow broker can cause)
    timesheet_ids = approved_timesheet_ids(8)
    job = Job.objects.create(kind="issue_invoices", params={"period": PERIOD}, params_key=PERIOD)
    job_plan_chunks(job_id=job.pk, chunks=[timesheet_ids])
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait()
            tasks.issue_invoices_chunk.delay(job.pk, 0)
        except BaseException as error:  # reported below, with the assertion
            errors.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then each timesheet has one invoice, numbered 1..8, and the chunk counted once
    assert errors == []
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, 9))
    assert sorted(Invoice.objects.values_list("timesheet_id", flat=True)) == sorted(timesheet_ids)
    job.refresh_from_db()
    assert (job.status, job.done_chunks, attempts_of(job)) == (JobStatus.DONE, 1, [2])
