"""Money leaving the company: edge cases the invoice, payout, report and job tests leave out.

Every figure is worked by hand in a comment beside it: amount = round_half_up(seconds x
rate / 3600) once per line; subtotal = lines + adjustments; tax = round_half_up(subtotal x
tax_rate) once; total = subtotal + tax (PAY_RULES §4, §7).
"""

import csv
import io
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payroll import tasks
from payroll.models import Invoice, InvoiceCounter, Job, JobChunk, JobStatus, Timesheet, TimesheetStatus
from payroll.selectors.reports import pay_report
from payroll.services.adjustments import adjustment_create
from payroll.services.invoice_documents import invoice_pdf
from payroll.services.invoice_payments import invoice_pay, invoice_void
from payroll.services.invoices import invoice_issue, invoices_issue_batch
from payroll.services.jobs import (
    job_chunk_begin,
    job_chunk_run,
    job_plan_chunks,
    job_start,
    jobs_sweep_stalled,
)
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import ProjectFactory, RateFactory, SessionFactory, WorkerFactory
from tests.payroll.test_services_invoices import W45, approved_timesheet

pytestmark = pytest.mark.django_db

W47 = "2026-W47"
IN_W45 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)  # Tue 06:00 Chicago: W45 is the open period
STALLED = timedelta(hours=1)  # past the default time limit (30 min) plus the margin (10 min)
PDFTOTEXT = shutil.which("pdftotext")


def approved_at(worker, manager, period: str, now: datetime) -> Timesheet:
    """The worker's timesheet of `period`, submitted and approved at `now`."""
    timesheet, _ = timesheet_get_or_create(worker=worker, period=period)
    timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit", now=now)
    return timesheet_transition(actor=manager, timesheet=timesheet, action="approve", now=now)


# §7 numbering: a year boundary crossed in one zone and not yet in another ----------------------


def test_numbers_take_the_year_of_the_local_issue_date_each_year_gap_free(world, monkeypatch):
    """§7: `{prefix}-{year}-{sequence:06d}`, gap-free within a year and unique.

    At Thu 2026-12-31 10:30 UTC it is already Fri 2027-01-01 00:30 in Pacific/Kiritimati
    (UTC+14) and still 04:30 on 2026-12-31 in Chicago. One batch then numbers from both
    years' counters; later issues continue each year's sequence with no gap or repeat.
    """
    new_year_eve = datetime(2026, 12, 31, 10, 30, tzinfo=UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: new_year_eve)
    kiritimati = WorkerFactory(team=world.team_a, time_zone="Pacific/Kiritimati")
    chicago = [WorkerFactory(team=world.team_a) for _ in range(3)]
    project = ProjectFactory(workers=[kiritimati, *chicago])
    timesheets = []
    for worker in (kiritimati, *chicago):
        RateFactory(worker=worker)
        # Tue 2026-12-22 00:00-02:00 UTC is in 2026-W52 in both zones: 2 h x 15.00 = 30.00
        SessionFactory(
            worker=worker,
            project=project,
            started_at=datetime(2026, 12, 22, 0, 0, tzinfo=UTC),
            ended_at=datetime(2026, 12, 22, 2, 0, tzinfo=UTC),
        )
        timesheets.append(approved_at(worker, world.manager_a, "2026-W52", new_year_eve))
    # when the first two are issued in one batch at 10:30 UTC
    invoices_issue_batch(timesheet_ids=[timesheets[0].pk, timesheets[1].pk], now=new_year_eve)
    # and the third at 05:00 UTC on Jan 1 (23:00 on Dec 31 in Chicago), the fourth at 07:00 UTC
    invoice_issue(timesheet=timesheets[2], now=datetime(2027, 1, 1, 5, 0, tzinfo=UTC))
    invoice_issue(timesheet=timesheets[3], now=datetime(2027, 1, 1, 7, 0, tzinfo=UTC))
    # then
    issued = {invoice.timesheet_id: (invoice.number, invoice.issued_on) for invoice in Invoice.objects.all()}
    assert [issued[timesheet.pk] for timesheet in timesheets] == [
        ("FH-2027-000001", date(2027, 1, 1)),
        ("FH-2026-000001", date(2026, 12, 31)),
        ("FH-2026-000002", date(2026, 12, 31)),
        ("FH-2027-000002", date(2027, 1, 1)),
    ]
    assert dict(InvoiceCounter.objects.values_list("year", "last_sequence")) == {2026: 2, 2027: 2}
    # and the Kiritimati invoice may be paid on its own issue date, still Dec 31 in UTC
    first = Invoice.objects.get(timesheet=timesheets[0])
    paid = invoice_pay(actor=world.finance, invoice=first, paid_on=date(2027, 1, 1), payment_reference="T-1")
    assert paid.status == "paid"


# §7 invoices and the job: timesheets that move while an invoicing run is planned -------------------


def test_a_timesheet_reopened_and_reapproved_after_planning_is_invoiced_with_its_new_lines(world, frozen_now):
    """§6 (reopen only while no invoice exists), §7 (one invoice per approved timesheet, lines copied).

    The invoicing job plans A's and B's approved W45. Before its chunk runs, finance
    reopens A's (2 h = 30.00), A adds 1 h (3 h x 15.00 = 45.00) and it is approved again,
    and B's is reopened and left open. The chunk invoices A's new figures and skips B's,
    spending one number.
    """
    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_b)
    first = approved_timesheet(world)
    second = approved_timesheet(world, world.worker_b, world.manager_b)
    job, _ = job_start(kind="issue_invoices", params={"period": W45}, actor=world.finance)
    job_plan_chunks(job_id=job.pk, chunks=[[first.pk, second.pk]])
    for timesheet in (first, second):
        timesheet_transition(actor=world.finance, timesheet=timesheet, action="reopen", note="Missing hour")
    SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=datetime(2026, 11, 3, 15, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 3, 16, 0, tzinfo=UTC),
    )
    timesheet_transition(actor=world.contractor_a, timesheet=first, action="submit")
    timesheet_transition(actor=world.manager_a, timesheet=first, action="approve")
    # when the planned chunk is delivered
    tasks.issue_invoices_chunk.delay(job.pk, 0)
    # then
    invoice = Invoice.objects.get()
    assert (invoice.timesheet_id, invoice.number, invoice.subtotal) == (
        first.pk,
        "FH-2026-000001",
        Decimal("45.00"),
    )
    assert [(line.seconds, line.amount) for line in invoice.lines.all()] == [(10800, Decimal("45.00"))]
    assert Timesheet.objects.get(pk=second.pk).status == TimesheetStatus.OPEN
    job.refresh_from_db()
    assert (job.status, job.result) == (JobStatus.DONE, {"timesheets": 2, "issued": 1})
    assert InvoiceCounter.objects.get(year=2026).last_sequence == 1


def test_the_same_timesheet_in_two_chunks_and_twice_in_one_is_invoiced_once(world, frozen_now):
    """§7 (one invoice per timesheet; invoicing twice creates nothing new), LESSONS Odoo PR #250946.

    A plan that lists A's W45 twice in chunk 0 and again in chunk 1 (with B's) issues two
    invoices, numbered 1 and 2, and the job counts two issued.
    """
    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_b)
    first = approved_timesheet(world)
    second = approved_timesheet(world, world.worker_b, world.manager_b)
    job, _ = job_start(kind="issue_invoices", params={"period": W45}, actor=world.finance)
    job_plan_chunks(job_id=job.pk, chunks=[[first.pk, first.pk], [first.pk, second.pk]])
    # when
    for index in (0, 1):
        tasks.issue_invoices_chunk.delay(job.pk, index)
    # then
    numbers = dict(Invoice.objects.values_list("timesheet_id", "number"))
    assert numbers == {first.pk: "FH-2026-000001", second.pk: "FH-2026-000002"}
    job.refresh_from_db()
    assert (job.status, job.result["issued"]) == (JobStatus.DONE, 2)


# §6 adjustments: an adjustment must reach a timesheet and an invoice ------------------------------


def test_the_close_builds_the_timesheet_an_adjustment_lands_on_even_without_time(
    world, frozen_now, django_capture_on_commit_callbacks
):
    """§6: an adjustment is applied to the worker's next open period and shows as its own line
    on that timesheet and invoice; API.md: the close builds every open timesheet of the period.

    Now is Fri 2026-11-20 (W47). Finance adds a 25.00 back-pay adjustment for contractor
    A2, who logs no time in W47 (e.g. on leave, or their contract ended); it lands on W47.
    Contractor A works in W47, so the close of W47 has a chunk to run.
    """
    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_a2)
    SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=datetime(2026, 11, 16, 15, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 16, 17, 0, tzinfo=UTC),
    )
    adjustment = adjustment_create(
        actor=world.finance,
        worker=world.worker_a2,
        amount=Decimal("25.00"),
        currency="USD",
        reason="Back pay",
    )
    assert adjustment.applies_to_period == W47
    # when W47 is closed
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = job_start(kind="close_period", params={"period": W47}, actor=world.finance)
    assert Job.objects.get(pk=job.pk).status == JobStatus.DONE
    # then A2 has a W47 timesheet carrying the 25.00, to be submitted, approved and invoiced
    timesheet = Timesheet.objects.filter(worker=world.worker_a2, period=W47).first()
    assert timesheet is not None, "no W47 timesheet for A2: the 25.00 can never be invoiced"
    assert timesheet.total == Decimal("25.00")


def test_adjustments_that_net_a_week_to_zero_are_an_invoice_of_zero_with_their_lines(world, frozen_now):
    """§6/§7 and docs/pay-rules.md "No negative invoices": a clawback that takes a week to
    exactly 0.00 is allowed (only below zero blocks); the invoice keeps every line.

    2 h x 15.00 = 30.00, then -45.00 and +15.00: subtotal 0.00, tax 19 % of 0.00 = 0.00.
    """
    world.worker_a.tax_rate = Decimal("0.1900")
    world.worker_a.save()
    RateFactory(worker=world.worker_a)
    for amount in ("-45.00", "15.00"):
        adjustment_create(
            actor=world.finance,
            worker=world.worker_a,
            amount=Decimal(amount),
            currency="USD",
            reason=f"Fix {amount}",
            now=IN_W45,
        )
    invoice, _ = invoice_issue(timesheet=approved_timesheet(world), actor=world.finance)
    assert [line.amount for line in invoice.lines.order_by("position")] == [
        Decimal("30.00"),
        Decimal("-45.00"),
        Decimal("15.00"),
    ]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )


# §7 the PDF is the stored figures ------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: cannot read the PDF's text")
    result = subprocess.run(  # noqa: S603 - a fixed local binary, our own bytes
        [PDFTOTEXT, "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return " ".join(result.stdout.decode().split())


def test_the_pdf_prints_the_stored_figures_of_a_large_invoice_with_a_clawback(world, frozen_now, settings):
    """§7 (the PDF is the invoice: lines, subtotal, tax, total as stored), LESSONS Frappe #840.

    2 h at 1,234.5678/h = 2,469.1356 -> 2469.14; a clawback of -19.99; subtotal 2449.15;
    tax 7.25 %: 2449.15 x 0.0725 = 177.563375 -> 177.56; total 2626.71. Amounts over a
    thousand print without a separator, exactly as stored.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    world.worker_a.tax_rate = Decimal("0.0725")
    world.worker_a.save()
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("1234.5678"))
    adjustment_create(
        actor=world.finance,
        worker=world.worker_a,
        amount=Decimal("-19.99"),
        currency="USD",
        reason="=SUM(A1) overpaid",
        now=IN_W45,
    )
    invoice, _ = invoice_issue(timesheet=approved_timesheet(world), actor=world.finance)
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("2449.15"),
        Decimal("177.56"),
        Decimal("2626.71"),
    )
    # when
    text = pdf_text(invoice_pdf(invoice_id=invoice.pk)[1])
    # then every stored figure is printed as stored
    for expected in (
        "2:00:00 2.00 1234.5678 1.00 2469.14",
        "Adjustment: =SUM(A1) overpaid -19.99",
        f"Subtotal {invoice.subtotal} USD",
        f"Tax (7.25 %) {invoice.tax} USD",
        f"Total {invoice.total} USD",
    ):
        assert expected in text, (expected, text)


# The payout CSV ------------------------------------------------------------------------------------


def test_a_void_invoice_is_not_in_the_payout_file_and_cannot_then_be_paid(world, frozen_now, client_for):
    """API.md invoices/payout/: one row per unpaid invoice; §7 a void invoice keeps its number.

    A's invoice (30.00) is voided; B's (2 h x 12.50 = 25.00) stays issued; only B's is paid out.
    """
    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_b, hourly_rate=Decimal("12.50"))
    voided, _ = invoice_issue(timesheet=approved_timesheet(world))
    unpaid, _ = invoice_issue(timesheet=approved_timesheet(world, world.worker_b, world.manager_b))
    invoice_void(actor=world.finance, invoice=voided, reason="-1 wrong bank")
    # when
    response = client_for(world.finance).get(f"/api/v1/invoices/payout/?period={W45}")
    # then
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [(row[2], row[4]) for row in rows[1:]] == [("25.00", unpaid.number)]
    assert (
        client_for(world.finance)
        .post(
            f"/api/v1/invoices/{voided.pk}/pay/",
            {"paid_on": "2026-11-20", "payment_reference": "T-9"},
            format="json",
        )
        .status_code
        == 409
    )


# The pay report against the invoices ----------------------------------------------------------------


def test_the_invoiced_report_adds_up_to_the_invoices_subtotals_per_currency(world, frozen_now):
    """API.md pay report: amounts per currency, never summed across; §7 subtotal = lines + adjustments.

    W45, all invoiced: A 2 h x 15.3333 = 30.6666 -> 30.67, -1.25 -> 29.42 USD;
    A2 2 h x 20.005 = 40.01, +0.01 -> 40.02 USD; B 2 h x 10.00 = 20.00 EUR.
    USD 29.42 + 40.02 = 69.44; EUR 20.00. Tax is not pay: the report adds subtotals.
    """
    world.worker_b.currency = "EUR"
    world.worker_b.save()
    world.worker_a.tax_rate = Decimal("0.2000")
    world.worker_a.save()
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("15.3333"))
    RateFactory(worker=world.worker_a2, hourly_rate=Decimal("20.005"))
    RateFactory(worker=world.worker_b, hourly_rate=Decimal("10.00"))
    for worker, amount in ((world.worker_a, "-1.25"), (world.worker_a2, "0.01")):
        adjustment_create(
            actor=world.finance,
            worker=worker,
            amount=Decimal(amount),
            currency="USD",
            reason="Fix",
            now=IN_W45,
        )
    timesheets = [
        approved_timesheet(world),
        approved_timesheet(world, world.worker_a2),
        approved_timesheet(world, world.worker_b, world.manager_b),
    ]
    invoices_issue_batch(timesheet_ids=[t.pk for t in timesheets], actor=world.finance)
    invoiced: dict[str, Decimal] = {}
    for invoice in Invoice.objects.all():
        invoiced[invoice.currency] = invoiced.get(invoice.currency, Decimal("0.00")) + invoice.subtotal
    assert invoiced == {"USD": Decimal("69.44"), "EUR": Decimal("20.00")}
    # then every grouping but project (adjustments belong to no project) adds up to them
    for group_by in ("worker", "team", "period"):
        report = pay_report(
            user=world.finance, period_from=W45, period_to=W45, group_by=group_by, status="invoiced"
        )
        summed: dict[str, Decimal] = {}
        for row in report.rows:
            summed[row.currency] = summed.get(row.currency, Decimal("0.00")) + row.amount
        assert summed == invoiced, group_by


# Jobs: the stalled-job sweep and the attempts cap -----------------------------------------------------


def test_a_stalled_export_neither_crashes_the_sweep_nor_hides_a_stalled_invoicing_run(
    world, frozen_now, django_capture_on_commit_callbacks
):
    """LESSONS Jobs (lost broker messages; redelivery cap); the module's promise: the sweep
    restarts jobs whose messages the broker lost, or fails those past the attempts cap.

    An export and then an invoicing run were both planned (running) when Redis lost their
    messages an hour ago.
    """
    RateFactory(worker=world.worker_a)
    timesheet = approved_timesheet(world)
    with django_capture_on_commit_callbacks(execute=False):
        export, _ = job_start(
            kind="export_report",
            params={"report": "pay", "format": "csv", "params": {}, "user": world.finance.pk},
            actor=world.finance,
        )
        invoicing, _ = job_start(kind="issue_invoices", params={"period": W45}, actor=world.finance)
    job_plan_chunks(job_id=export.pk, chunks=[[export.pk]])  # what report_export does first
    job_plan_chunks(job_id=invoicing.pk, chunks=[[timesheet.pk]])
    # when the sweep runs
    with django_capture_on_commit_callbacks(execute=False):
        result = jobs_sweep_stalled(now=timezone.now() + STALLED)
    # then the invoicing run is sent again, and the export is sent again or failed
    assert invoicing.pk in result.redispatched
    assert export.pk in result.redispatched + result.replanned + result.failed


def test_a_job_failed_at_the_attempts_cap_stays_failed_when_a_slow_delivery_finishes(
    world, frozen_now, settings
):
    """API.md jobs/{id}: `failed` with a readable error past JOB_CHUNK_MAX_ATTEMPTS, then the same
    POST starts it again; job_finish already treats failed as final.

    Cap 1: delivery 1 starts and is slow; the broker redelivers it (delivery 2 fails the job at
    the cap); then delivery 1 finishes.
    """
    settings.JOB_CHUNK_MAX_ATTEMPTS = 1
    RateFactory(worker=world.worker_a)
    timesheet = approved_timesheet(world)
    job, _ = job_start(kind="issue_invoices", params={"period": W45}, actor=world.finance)
    job_plan_chunks(job_id=job.pk, chunks=[[timesheet.pk]])
    assert job_chunk_begin(job_id=job.pk, index=0)  # delivery 1: works
    assert not job_chunk_begin(job_id=job.pk, index=0)  # delivery 2: past the cap, fails the job
    assert Job.objects.get(pk=job.pk).status == JobStatus.FAILED
    # when delivery 1 finishes its work
    job_chunk_run(job_id=job.pk, index=0, work=tasks._invoice_timesheets)
    # then
    job.refresh_from_db()
    assert JobChunk.objects.get(job=job).attempts == 2
    assert (job.status, job.error[:8]) == (JobStatus.FAILED, "Chunk 0 ")
