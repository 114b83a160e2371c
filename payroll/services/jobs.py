"""Background jobs with visible progress, started at most once per kind and arguments.

A job is a row (payroll.models.Job) that a Celery task fills in. Big jobs fan out in
chunks (JobChunk rows); each chunk is marked done once, whatever Celery redelivers, and
the job is done when every chunk is. Starting a job that is already queued or running
with the same arguments returns that job (a partial unique index holds this).

Every delivery of a chunk is counted (JobChunk.attempts) before it works, so a chunk that
kills its worker is not redelivered forever: past JOB_CHUNK_MAX_ATTEMPTS its job fails.
A sweep (`jobs_sweep_stalled`) restarts jobs whose messages the broker lost.
"""

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string

from core.db import locks
from payroll.models import UNFINISHED_JOB_STATUSES, Job, JobChunk, JobStatus
from trainers.models import User

logger = logging.getLogger(__name__)

# Which task runs each kind of job (resolved lazily: tasks import the services).
JOB_TASKS = {
    "close_period": "payroll.tasks.close_period",
    "issue_invoices": "payroll.tasks.issue_invoices",
    "export_report": "payroll.tasks.export_report",
}
# ... and each chunk of it (taking the job id and the chunk index).
JOB_CHUNK_TASKS = {
    "close_period": "payroll.tasks.close_period_chunk",
    "issue_invoices": "payroll.tasks.issue_invoices_chunk",
}
# A queued job not planned after this long lost its message (Redis keeps nothing on disk).
QUEUED_GRACE = timedelta(minutes=5)
# A running job with no chunk started or finished for `stall_window()` lost its chunk
# messages: the broker would have redelivered anything merely unacknowledged.
STALL_MARGIN = timedelta(minutes=10)


def stall_window() -> timedelta:
    """How long a running job may go without a sign before its messages are taken for lost.

    A chunk whose worker died is handed out again within the broker's visibility timeout,
    and a running chunk ends within the task time limit: quiet past both and STALL_MARGIN,
    the job lost its messages. A chunk still running is never sent a second time.
    """
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    return timedelta(seconds=max(visibility, settings.CELERY_TASK_TIME_LIMIT)) + STALL_MARGIN


def period_job_params(period: str) -> dict[str, str]:
    """The arguments of a job over a period: the same everywhere, so one unfinished job per period."""
    return {"period": period}


def chunked(ids: list[int], size: int | None = None) -> list[list[int]]:
    """Split ids into consecutive chunks of at most `size` (JOB_CHUNK_SIZE by default).

    Chunks, not one task per worker: ten times faster on a big close (LESSONS).
    """
    size = size or settings.JOB_CHUNK_SIZE
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def job_start(*, kind: str, params: dict[str, Any], actor: User | None) -> tuple[Job, bool]:
    """Queue a job after commit, or return the unfinished one with the same arguments."""
    key = json.dumps(params, sort_keys=True, separators=(",", ":"))
    existing = Job.objects.filter(kind=kind, params_key=key, status__in=UNFINISHED_JOB_STATUSES).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            job = Job.objects.create(kind=kind, params=params, params_key=key, created_by=actor)
    except IntegrityError:  # started concurrently: the partial unique index keeps one
        return Job.objects.get(kind=kind, params_key=key, status__in=UNFINISHED_JOB_STATUSES), False
    _send_job_task_after_commit(job)
    return job, True


@dataclass(frozen=True)
class PeriodJobStart:
    """A job over a period the beat asked for: its period, the job, and whether it is a new job."""

    period: str
    job: Job
    created: bool


def period_jobs_start(*, kind: str, periods: Iterable[str]) -> list[PeriodJobStart]:
    """Start (or find unfinished) a job of `kind` over each period, as the beat does (no actor)."""
    starts = []
    for period in periods:
        with transaction.atomic():  # the job is queued when this commits
            job, created = job_start(kind=kind, params=period_job_params(period), actor=None)
        starts.append(PeriodJobStart(period, job, created))
    return starts


def job_plan_chunks(*, job_id: int, chunks: Sequence[list[int]]) -> list[int]:
    """Record the job's chunks and mark it running; a rerun keeps the first plan.

    Returns the indexes of the chunks not yet done, for the caller to dispatch.
    """
    with transaction.atomic():
        job = locks.job(job_id)
        if not job.chunks.exists():
            JobChunk.objects.bulk_create(
                JobChunk(job=job, index=i, items=items) for i, items in enumerate(chunks)
            )
            job.total_chunks = len(chunks)
            job.started_at = timezone.now()
            job.status = JobStatus.RUNNING if chunks else JobStatus.DONE
            job.finished_at = None if chunks else timezone.now()
            job.save()
        return list(job.chunks.filter(done_at__isnull=True).order_by("index").values_list("index", flat=True))


def job_chunk_done(*, job_id: int, index: int, counts: dict[str, int]) -> None:
    """Count a finished chunk once; the last one marks the job done with the summed counts."""
    now = timezone.now()
    with transaction.atomic():
        newly_done = JobChunk.objects.filter(job_id=job_id, index=index, done_at__isnull=True).update(
            done_at=now
        )
        if not newly_done:
            return  # a redelivered chunk: already counted
        Job.objects.filter(pk=job_id).update(done_chunks=F("done_chunks") + 1)
        job = locks.job(job_id)
        for name, value in counts.items():
            job.result[name] = job.result.get(name, 0) + value
        job.progressed_at = now
        # A job failed meanwhile (another delivery hit the attempts cap) stays failed, as in
        # job_finish: its counts are kept, and it can be started again.
        if job.done_chunks == job.total_chunks and job.status == JobStatus.RUNNING:
            job.status, job.finished_at = JobStatus.DONE, now
        job.save(update_fields=["result", "status", "finished_at", "progressed_at"])


def job_chunk_run(*, job_id: int, index: int, work: Callable[[JobChunk], dict[str, int]]) -> JobChunk | None:
    """Do a chunk's work and count it done in one transaction: exact counts after a kill.

    `work` gets the chunk (with its job and the job's creator) and returns the counts to
    add to the job's result. A chunk already done is skipped (None).
    """
    chunk = JobChunk.objects.select_related("job__created_by").get(job_id=job_id, index=index)
    if chunk.done_at is not None:
        return None
    with transaction.atomic():
        counts = work(chunk)
        _check_deferred_keys()
        job_chunk_done(job_id=job_id, index=index, counts=counts)
    return chunk


def _check_deferred_keys() -> None:
    """Check the chunk's deferred foreign keys now, before the job row is locked.

    Otherwise PostgreSQL checks thousands of them at commit, with the job row (which
    every chunk updates last) held all that time: parallel chunks would queue on it.
    """
    connection.check_constraints()


def job_chunk_begin(*, job_id: int, index: int) -> bool:
    """Count a delivery of a chunk (committed at once); whether the chunk should work now.

    No for a chunk already done or of a job no longer running. No either past
    JOB_CHUNK_MAX_ATTEMPTS deliveries: then the job fails, so a chunk that kills its worker
    (redelivered by `reject_on_worker_lost`, celery #9082) stops looping.
    """
    with transaction.atomic():
        counted = JobChunk.objects.filter(
            job_id=job_id, index=index, done_at__isnull=True, job__status=JobStatus.RUNNING
        ).update(attempts=F("attempts") + 1)
        if not counted:
            return False
        Job.objects.filter(pk=job_id).update(progressed_at=timezone.now())
        attempts = JobChunk.objects.get(job_id=job_id, index=index).attempts
    cap = settings.JOB_CHUNK_MAX_ATTEMPTS
    if attempts > cap:
        job_fail(job_id=job_id, error=_over_cap_error(index, attempts - 1, cap))
        return False
    return True


def _over_cap_error(index: int, deliveries: int, cap: int) -> str:
    return (
        f"Chunk {index} was started {deliveries} times without finishing (each time its worker "
        f"died, hit the time limit or lost its message), and JOB_CHUNK_MAX_ATTEMPTS is {cap}. "
        "Check the workers' logs for that chunk, then start the job again."
    )


def job_finish(*, job_id: int, result: dict[str, Any]) -> None:
    """Mark an unfinished job done with its result (a job of one step, e.g. an export)."""
    now = timezone.now()
    with transaction.atomic():
        job = locks.job(job_id)
        if job.status not in UNFINISHED_JOB_STATUSES:
            return  # done already, or failed: a late duplicate changes nothing
        JobChunk.objects.filter(job=job, done_at__isnull=True).update(done_at=now)
        job.done_chunks = job.total_chunks
        job.result = {**job.result, **result}
        job.status, job.finished_at, job.progressed_at = JobStatus.DONE, now, now
        job.started_at = job.started_at or now
        job.save(
            update_fields=["done_chunks", "result", "status", "finished_at", "progressed_at", "started_at"]
        )


def job_fail(*, job_id: int, error: str) -> None:
    """Mark a job failed with a reason a person can read."""
    Job.objects.filter(pk=job_id, status__in=UNFINISHED_JOB_STATUSES).update(
        status=JobStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )


# The sweep of stalled jobs ------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: jobs planned again, jobs whose chunks were sent again, jobs failed."""

    replanned: list[int]
    redispatched: list[int]
    failed: list[int]


def jobs_sweep_stalled(*, now: datetime | None = None) -> SweepResult:
    """Restart the jobs whose broker messages were lost; fail those past the attempts cap.

    A queued job still unplanned after QUEUED_GRACE gets its planning task again. A running
    job with no chunk started or finished for `stall_window()` gets its undone chunks again
    (chunks are idempotent), unless one of them has used up JOB_CHUNK_MAX_ATTEMPTS: then it
    fails. A nudged job is left alone for a
    whole window again, so a slow broker is not flooded with copies.
    """
    now = now or timezone.now()
    stalled_before = now - stall_window()
    last_sign = Coalesce("progressed_at", "started_at", "created_at")
    queued = _stale_job_ids(JobStatus.QUEUED, last_sign, now - QUEUED_GRACE)
    running = _stale_job_ids(JobStatus.RUNNING, last_sign, stalled_before)
    result = SweepResult(replanned=[], redispatched=[], failed=[])
    for job_id in queued:
        if _nudge_safely(job_id, JobStatus.QUEUED, now - QUEUED_GRACE, now):
            result.replanned.append(job_id)
    for job_id in running:
        outcome = _nudge_safely(job_id, JobStatus.RUNNING, stalled_before, now)
        if outcome == "failed":
            result.failed.append(job_id)
        elif outcome:
            result.redispatched.append(job_id)
    return result


def _stale_job_ids(status: str, last_sign: Coalesce, before: datetime) -> list[int]:
    return list(
        Job.objects.annotate(last_sign=last_sign)
        .filter(status=status, last_sign__lt=before)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _nudge_safely(job_id: int, status: str, before: datetime, now: datetime) -> str:
    """_nudge one job; an error there is logged and the sweep goes on to the next job."""
    try:
        return _nudge(job_id, status, before, now)
    except Exception:  # one job's bad state must not leave every later stalled job stalled
        logger.exception("Could not restart stalled job %s", job_id)
        return ""


def _send_job_task_after_commit(job: Job) -> None:
    """Queue the job's own task once the transaction commits (it plans the work, or does it)."""
    task = import_string(JOB_TASKS[job.kind])
    job_id = job.pk
    transaction.on_commit(lambda: task.delay(job_id))


def _nudge(job_id: int, status: str, before: datetime, now: datetime) -> str:
    """Re-check one job under its row lock and send its tasks again after commit ("" if not)."""
    with transaction.atomic():
        job = locks.job_unless_busy(job_id, status)
        if job is None or (job.progressed_at or job.started_at or job.created_at) >= before:
            return ""  # finished, progressed or being updated meanwhile
        if status == JobStatus.QUEUED:
            job.progressed_at = now
            job.save(update_fields=["progressed_at"])
            _send_job_task_after_commit(job)
            return "replanned"
        undone = list(job.chunks.filter(done_at__isnull=True).order_by("index"))
        cap = settings.JOB_CHUNK_MAX_ATTEMPTS
        spent = next((chunk for chunk in undone if chunk.attempts >= cap), None)
        if spent is not None:
            job_fail(job_id=job_id, error=_over_cap_error(spent.index, spent.attempts, cap))
            return "failed"
        job.progressed_at = now
        job.save(update_fields=["progressed_at"])
        if job.kind not in JOB_CHUNK_TASKS:  # one step (an export): its task runs it again, once
            _send_job_task_after_commit(job)
            return "redispatched"
        chunk_task = import_string(JOB_CHUNK_TASKS[job.kind])
        indexes = [chunk.index for chunk in undone]
        transaction.on_commit(lambda: [chunk_task.delay(job_id, index) for index in indexes])
        return "redispatched"
