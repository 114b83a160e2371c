"""Thin Celery tasks: take ids, re-fetch, call a service; safe to run twice."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial, wraps
from typing import Any

from celery import Task, shared_task
from django.db import OperationalError, transaction
from django.utils import timezone

from payroll.models import Job, JobChunk
from payroll.selectors.close import workers_to_close
from payroll.selectors.invoices import approved_timesheet_ids, invoices_without_pdf
from payroll.services import invoice_schedule, reminders, schedule
from payroll.services.close import timesheets_close
from payroll.services.exports import report_export
from payroll.services.invoice_documents import PDF_CHUNK_SIZE, invoice_render_pdf
from payroll.services.invoices import invoices_issue_batch
from payroll.services.jobs import (
    chunked,
    job_chunk_begin,
    job_chunk_run,
    job_fail,
    job_plan_chunks,
    jobs_sweep_stalled,
)
from payroll.services.pay_summaries import pay_summaries_compact

# Idempotent tasks only: redelivered after a killed worker, capped, with backoff.
# No jitter: the five retries wait 1, 2, 4, 8 and 16 s, so a task rides out a database
# restart of half a minute. Celery's full jitter may draw waits near 0 s: a chunk then spent
# its retries in a 5 s restart and its job hung until the stalled-job sweep, an hour later.
RELIABLE: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_jitter": False,
    "max_retries": 5,
}


def _will_retry(task: Task, error: Exception) -> bool:
    """Whether Celery runs the task again after this error (autoretry with retries left)."""
    request = task.request
    return (
        isinstance(error, RELIABLE["autoretry_for"])
        and request.retries < (task.max_retries or 0)
        and not request.is_eager
        and not request.called_directly
    )


@contextmanager
def job_fails_unless_retried(task: Task, job_id: int, what: str) -> Iterator[None]:
    """Let an error through to Celery, first failing the job unless Celery will retry.

    A failed job lets the next one with the same arguments start; a job left running
    would block it (one unfinished job per kind and arguments).
    """
    try:
        yield
    except Exception as error:
        if not _will_retry(task, error):
            job_fail(job_id=job_id, error=f"{what} failed: {error}")
        raise


ChunkRun = Callable[[Task, int, int], None]


def counted_delivery(run: ChunkRun) -> ChunkRun:
    """Count each delivery of a chunk task first; skip the work when the chunk must not run.

    The count is committed before any work, so a delivery that kills its worker still
    counts, and past JOB_CHUNK_MAX_ATTEMPTS the job fails instead of looping.
    """

    @wraps(run)
    def counted(self: Task, job_id: int, index: int) -> None:
        if job_chunk_begin(job_id=job_id, index=index):
            run(self, job_id, index)

    return counted


def _plan_period_chunks(
    task: Task, job_id: int, what: str, ids_in: Callable[[str], list[int]], chunk_task: Task
) -> None:
    """Split the ids of the job's period into chunks and queue the chunks not yet done."""
    job = Job.objects.get(pk=job_id)
    with job_fails_unless_retried(task, job_id, what):
        pending = job_plan_chunks(job_id=job_id, chunks=chunked(ids_in(job.params["period"])))
    for index in pending:
        chunk_task.delay(job_id, index)


@shared_task(name="payroll.close_period", bind=True, **RELIABLE)
def close_period(self: Task, job_id: int) -> None:
    """Plan the close of a period in chunks of workers and fan the chunks out."""
    _plan_period_chunks(self, job_id, "Planning the close", workers_to_close, close_period_chunk)


@shared_task(name="payroll.close_period_chunk", bind=True, **RELIABLE)
@counted_delivery
def close_period_chunk(self: Task, job_id: int, index: int) -> None:
    """Build or refresh the timesheets of one chunk of workers, then count the chunk done."""
    with job_fails_unless_retried(self, job_id, f"Closing chunk {index}"):
        job_chunk_run(job_id=job_id, index=index, work=_close_workers)


def _close_workers(chunk: JobChunk) -> dict[str, int]:
    changed = timesheets_close(worker_ids=chunk.items, period=chunk.job.params["period"])
    return {"timesheets": len(chunk.items), "changed": changed}


@shared_task(name="payroll.issue_invoices", bind=True, **RELIABLE)
def issue_invoices(self: Task, job_id: int) -> None:
    """Plan the invoicing of a period's approved timesheets in chunks and fan them out."""
    _plan_period_chunks(self, job_id, "Planning the invoicing", approved_timesheet_ids, issue_invoices_chunk)


@shared_task(name="payroll.issue_invoices_chunk", bind=True, **RELIABLE)
@counted_delivery
def issue_invoices_chunk(self: Task, job_id: int, index: int) -> None:
    """Issue the invoices of one chunk of timesheets (one transaction), then count the chunk done."""
    with job_fails_unless_retried(self, job_id, f"Invoicing chunk {index}"):
        chunk = job_chunk_run(job_id=job_id, index=index, work=_invoice_timesheets)
    if chunk is not None and not self.request.is_eager:  # eagerly they would render inside the invoicing
        _render_pdfs_later(chunk.items)


def _invoice_timesheets(chunk: JobChunk) -> dict[str, int]:
    issued = invoices_issue_batch(timesheet_ids=chunk.items, actor=chunk.job.created_by)
    return {"timesheets": len(chunk.items), "issued": issued}


# Invoice PDFs are sent at the lowest priority. On Redis, kombu polls a queue's priority 0
# list before its 3, 6 and 9 lists, so every close, invoicing chunk and scheduled task
# queued after an invoicing runs before its PDFs: 100,000 invoices are hours of rendering
# for two worker processes, and a close must not wait behind them. (Redis's order: on
# RabbitMQ with x-max-priority, 9 would come first. Fairhour's broker is Redis.)
PDF_PRIORITY = 9


def _render_pdfs_later(timesheet_ids: list[int]) -> None:
    """Queue the PDFs of these timesheets' invoices, off the invoicing path, after commit.

    Those without a PDF, not only the ones this run issued: a retried chunk finds its first
    attempt's invoices already issued. Without a broker PDFs render on first download.
    """
    for ids in chunked(invoices_without_pdf(timesheet_ids=timesheet_ids), PDF_CHUNK_SIZE):
        transaction.on_commit(partial(render_invoice_pdfs.apply_async, (ids,), priority=PDF_PRIORITY))


@shared_task(name="payroll.render_invoice_pdfs", **RELIABLE)
def render_invoice_pdfs(invoice_ids: list[int]) -> int:
    """Render and store the PDFs of these invoices; ones already stored are left alone."""
    for invoice_id in invoice_ids:
        invoice_render_pdf(invoice_id=invoice_id)
    return len(invoice_ids)


@shared_task(name="payroll.export_report", bind=True, **RELIABLE)
def export_report(self: Task, job_id: int) -> None:
    """Write a report export's file as the job's creator and finish the job (one step)."""
    with job_fails_unless_retried(self, job_id, "Exporting"):
        report_export(job_id=job_id)


@shared_task(name="payroll.sweep_stalled_jobs", **RELIABLE)
def sweep_stalled_jobs() -> dict[str, list[int]]:
    """Restart jobs whose messages the broker lost, fail those past the attempts cap (every 10 min)."""
    result = jobs_sweep_stalled(now=timezone.now())
    return {"replanned": result.replanned, "redispatched": result.redispatched, "failed": result.failed}


@shared_task(name="payroll.compact_pay_summaries", **RELIABLE)
def compact_pay_summaries() -> int:
    """Fold each pay-summary group's rows into one (every 10 min); how many rows the folded weeks keep."""
    with transaction.atomic():
        return pay_summaries_compact()


@shared_task(name="payroll.close_ended_periods", **RELIABLE)
def close_ended_periods() -> list[int]:
    """Start the close of each period that has just ended in some worker's zone (hourly)."""
    return [start.job.pk for start in schedule.close_ended_periods(now=timezone.now())]


@shared_task(name="payroll.send_reminders", **RELIABLE)
def send_reminders() -> dict[str, int]:
    """Mail contractors to submit ended periods and managers to approve (daily)."""
    return reminders.reminders_send(now=timezone.now())


@shared_task(name="payroll.invoice_ended_periods", **RELIABLE)
def invoice_ended_periods() -> list[int]:
    """Start the invoicing of each period over everywhere for a day with approved timesheets (daily)."""
    return [start.job.pk for start in invoice_schedule.invoice_ended_periods(now=timezone.now())]
