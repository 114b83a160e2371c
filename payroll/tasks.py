"""Thin Celery tasks: take ids, re-fetch, call a service; safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from payroll.models import Job, JobChunk
from payroll.services.close import chunked, workers_with_time
from payroll.services.jobs import job_chunk_done, job_fail, job_plan_chunks
from payroll.services.timesheets import timesheets_refresh
from trainers.models import Worker

# Idempotent tasks only: redelivered after a killed worker, capped, with backoff.
RELIABLE = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(name="payroll.close_period", **RELIABLE)
def close_period(job_id: int) -> None:
    """Plan the close of a period in chunks of workers and fan the chunks out."""
    job = Job.objects.get(pk=job_id)
    try:
        pending = job_plan_chunks(job_id=job_id, chunks=chunked(workers_with_time(job.params["period"])))
    except Exception as error:
        job_fail(job_id=job_id, error=f"Planning the close failed: {error}")
        raise
    for index in pending:
        close_period_chunk.delay(job_id, index)


@shared_task(name="payroll.close_period_chunk", **RELIABLE)
def close_period_chunk(job_id: int, index: int) -> None:
    """Build or refresh the timesheets of one chunk of workers, then count the chunk done."""
    chunk = JobChunk.objects.select_related("job").get(job_id=job_id, index=index)
    if chunk.done_at is not None:
        return
    workers = Worker.objects.filter(pk__in=chunk.items).select_related("team")
    changed = timesheets_refresh(workers=workers, period=chunk.job.params["period"])
    job_chunk_done(job_id=job_id, index=index, counts={"timesheets": len(chunk.items), "changed": changed})
