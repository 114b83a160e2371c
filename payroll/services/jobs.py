"""Background jobs with visible progress, started at most once per kind and arguments.

A job is a row (payroll.models.Job) that a Celery task fills in. Big jobs fan out in
chunks (JobChunk rows); each chunk is marked done once, whatever Celery redelivers, and
the job is done when every chunk is. Starting a job that is already queued or running
with the same arguments returns that job (a partial unique index holds this).
"""

import json
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from payroll.models import UNFINISHED_JOB_STATUSES, Job, JobChunk, JobStatus
from trainers.models import User

# Which task runs each kind of job (resolved lazily: tasks import the services).
JOB_TASKS = {
    "close_period": "payroll.tasks.close_period",
    "issue_invoices": "payroll.tasks.issue_invoices",
    "export_report": "payroll.tasks.export_report",
}


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
    task = import_string(JOB_TASKS[kind])
    transaction.on_commit(lambda: task.delay(job.pk))
    return job, True


def job_plan_chunks(*, job_id: int, chunks: Sequence[list[int]]) -> list[int]:
    """Record the job's chunks and mark it running; a rerun keeps the first plan.

    Returns the indexes of the chunks not yet done, for the caller to dispatch.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
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
    with transaction.atomic():
        newly_done = JobChunk.objects.filter(job_id=job_id, index=index, done_at__isnull=True).update(
            done_at=timezone.now()
        )
        if not newly_done:
            return  # a redelivered chunk: already counted
        Job.objects.filter(pk=job_id).update(done_chunks=F("done_chunks") + 1)
        job = Job.objects.select_for_update().get(pk=job_id)
        for name, value in counts.items():
            job.result[name] = job.result.get(name, 0) + value
        if job.done_chunks == job.total_chunks:
            job.status, job.finished_at = JobStatus.DONE, timezone.now()
        job.save(update_fields=["result", "status", "finished_at"])


def job_finish(*, job_id: int, result: dict[str, Any]) -> None:
    """Mark an unfinished job done with its result (a job of one step, e.g. an export)."""
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
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
