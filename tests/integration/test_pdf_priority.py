"""Invoice PDFs wait behind job work in the broker: a close queued after them runs first.

A real prefork worker on Redis starts with invoice PDF renders already queued, at the
PDF priority the invoicing sends them with, and a close queued after them. Kombu polls a
queue's priority 0 list before its priority 9 list, so the close runs while renders are
still waiting; in plain first-in-first-out order every render would run first.
"""

import pytest

from payroll import tasks
from payroll.models import Invoice, Job, JobStatus
from payroll.selectors.invoices import approved_timesheet_ids
from payroll.services.close import timesheets_refresh
from payroll.services.invoices import invoices_issue_batch
from payroll.services.jobs import chunked, job_start
from tests.integration.helpers import PERIOD, approve_all, job_finished, make_workers, wait_for
from trainers.models import Worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORKERS = 80
PDFS_PER_TASK = 10  # about a second of rendering per task: 8 tasks


def test_a_close_queued_behind_invoice_pdfs_runs_before_them(producer, start_worker, send_to_broker):
    # given 80 invoices of W45 without their PDFs
    manager = make_workers(WORKERS)
    timesheets_refresh(workers=Worker.objects.all(), period=PERIOD)
    approve_all(manager)
    invoices_issue_batch(timesheet_ids=approved_timesheet_ids(PERIOD))
    invoice_ids = sorted(Invoice.objects.values_list("pk", flat=True))
    # and their renders queued in the broker at the PDF priority, then a close of the week
    for ids in chunked(invoice_ids, PDFS_PER_TASK):
        producer.send_task(tasks.render_invoice_pdfs.name, [ids], priority=tasks.PDF_PRIORITY)
    close, _ = job_start(kind="close_period", params={"period": PERIOD}, actor=None)

    # when a worker (two processes) starts on that queue
    worker = start_worker("config")
    wait_for(f"close job {close.pk} to finish", job_finished(close.pk), worker, 60)

    # then the close finished while renders were still waiting: the second process took one
    # while the first planned the close, and maybe a second while the first closed (in
    # first-in-first-out order all eight would run before the close)
    rendered = Invoice.objects.exclude(pdf="").count()
    assert rendered <= 2 * PDFS_PER_TASK, f"{rendered} PDFs were rendered before the close finished"
    # and the renders all run afterwards
    wait_for("every PDF", lambda: not Invoice.objects.filter(pdf="").exists(), worker, 120)
    assert Job.objects.get(pk=close.pk).status == JobStatus.DONE
