"""The PDF task and its queueing by the invoicing chunks; the daily invoicing task.

Rendering is never on the invoicing path: a chunk run by a worker queues its invoices'
PDFs after commit; run eagerly (no broker), PDFs render on their first download instead.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from payroll import tasks
from payroll.models import Invoice, Job
from payroll.services.jobs import chunked, job_plan_chunks, job_start
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory

pytestmark = pytest.mark.django_db
W45 = "2026-W45"


@pytest.fixture(autouse=True)
def _now_and_storage(frozen_now, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


@pytest.fixture
def approved(world) -> list[int]:
    """W45 of contractors A and B, approved; their timesheet ids."""
    ids = []
    for worker, manager in ((world.worker_a, world.manager_a), (world.worker_b, world.manager_b)):
        RateFactory(worker=worker, hourly_rate=Decimal("15.00"))
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
        timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
        ids.append(timesheet_transition(actor=manager, timesheet=timesheet, action="approve").pk)
    return ids


@pytest.fixture
def queued(monkeypatch) -> list[list[int]]:
    """Record what is queued for rendering instead of rendering it (always at the PDF priority)."""
    calls: list[list[int]] = []

    def apply_async(args: tuple[list[int]], priority: int | None = None) -> None:
        assert priority == tasks.PDF_PRIORITY
        calls.append(args[0])

    monkeypatch.setattr(tasks.render_invoice_pdfs, "apply_async", apply_async)
    return calls


@pytest.fixture
def job(approved) -> Job:
    """The invoicing of W45 planned as one chunk (its own task never runs: nothing commits)."""
    job, _ = job_start(kind="issue_invoices", params={"period": W45}, actor=None)
    job_plan_chunks(job_id=job.pk, chunks=chunked(approved))
    return job


def run_invoicing_chunk(job: Job) -> None:
    """Run the chunk as a worker with a broker does (not eagerly in this process)."""
    tasks.issue_invoices_chunk(job.pk, 0)


def test_a_chunk_queues_the_pdfs_of_its_invoices_after_commit(
    job, queued, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_invoicing_chunk(job)
    # then nothing is rendered or queued inside the invoicing, only after its commit
    assert queued == []
    assert not Invoice.objects.exclude(pdf="").exists()
    assert len(callbacks) == 1
    callbacks[0]()
    assert queued == [sorted(Invoice.objects.values_list("pk", flat=True))]


def test_without_a_broker_the_invoicing_renders_nothing(job, queued, django_capture_on_commit_callbacks):
    # when the chunk runs eagerly, in the invoicing's own process
    with django_capture_on_commit_callbacks(execute=True):
        tasks.issue_invoices_chunk.delay(job.pk, 0)
    # then
    assert Invoice.objects.count() == 2
    assert queued == []
    assert not Invoice.objects.exclude(pdf="").exists()


def test_the_render_task_stores_each_pdf_once(job, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        tasks.issue_invoices_chunk.delay(job.pk, 0)
    ids = list(Invoice.objects.values_list("pk", flat=True))
    # when run twice, as a redelivery would
    tasks.render_invoice_pdfs.delay(ids)
    first = list(Invoice.objects.order_by("pk").values_list("pdf", "pdf_sha256"))
    tasks.render_invoice_pdfs.delay(ids)
    # then
    assert [name for name, _ in first] == ["invoices/FH-2026-000001.pdf", "invoices/FH-2026-000002.pdf"]
    assert all(len(digest) == 64 for _, digest in first)
    assert list(Invoice.objects.order_by("pk").values_list("pdf", "pdf_sha256")) == first


def test_the_daily_task_starts_the_invoicing_of_due_periods(approved, monkeypatch):
    # given Wed 11 Nov: W45 has been over everywhere for more than a day
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2026, 11, 11, 6, 0, tzinfo=UTC))
    # when
    job_ids = tasks.invoice_ended_periods.delay().result
    # then
    assert job_ids == [Job.objects.get(kind="issue_invoices", params={"period": W45}).pk]
