"""Issuing invoices (PAY_RULES §7): numbered without gaps, copied from the timesheet.

The number comes from a per-year counter row locked in the same transaction that inserts
the invoice and moves the timesheet to `invoiced`: if anything fails, all three roll back
together and the number is never used. Issuing twice returns the first invoice.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from payroll.models import Invoice, InvoiceCounter, InvoiceLine, InvoiceStatus, Timesheet, TimesheetStatus
from payroll.money import clock_hours, round_half_up
from payroll.selectors.timesheets import timesheet_figures
from payroll.services.timesheets import timesheet_transition
from trainers.errors import Conflict, Forbidden, InvalidInput
from trainers.models import Role, User, Worker


def invoice_issue(
    *, timesheet: Timesheet, actor: User | None = None, now: datetime | None = None
) -> tuple[Invoice, bool]:
    """Issue the invoice of an approved timesheet; return it and whether it is new."""
    now = now or timezone.now()
    with transaction.atomic():
        worker = Worker.objects.select_for_update().get(pk=timesheet.worker_id)
        timesheet = Timesheet.objects.select_for_update(of=("self",)).get(pk=timesheet.pk)
        existing = Invoice.objects.filter(timesheet=timesheet).first()
        if existing:
            return existing, False
        if timesheet.status != TimesheetStatus.APPROVED:
            raise Conflict(f"Only approved timesheets are invoiced; this one is {timesheet.status}.")
        invoice = _create_invoice(timesheet, worker, now.astimezone(worker.zone).date())
        timesheet_transition(actor=actor, timesheet=timesheet, action="invoice", note=invoice.number, now=now)
    return invoice, True


def _create_invoice(timesheet: Timesheet, worker: Worker, issued_on: date) -> Invoice:
    lines = _invoice_lines(timesheet)
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    tax = round_half_up(subtotal * worker.tax_rate)
    sequence = _next_sequence(issued_on.year)
    invoice = Invoice.objects.create(
        number=f"{settings.INVOICE_PREFIX}-{issued_on.year}-{sequence:06d}",
        year=issued_on.year,
        sequence=sequence,
        timesheet=timesheet,
        worker=worker,
        period=timesheet.period,
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=settings.INVOICE_DUE_DAYS),
        currency=timesheet.currency,
        subtotal=subtotal,
        tax_rate=worker.tax_rate,
        tax=tax,
        total=subtotal + tax,
        **invoice_parties(worker),
    )
    for position, line in enumerate(lines, start=1):
        line.invoice, line.position = invoice, position
    InvoiceLine.objects.bulk_create(lines)
    return invoice


def invoice_parties(worker: Worker) -> dict[str, dict[str, Any]]:
    """The snapshots an invoice keeps of its two parties: `company` (settings), `contractor`."""
    return {
        "company": {
            "name": settings.COMPANY_NAME,
            "address": settings.COMPANY_ADDRESS,
            "tax_id": settings.COMPANY_TAX_ID,
            "email": settings.COMPANY_EMAIL,
        },
        "contractor": {
            "worker": worker.pk,
            "full_name": worker.full_name,
            "email": worker.email,
            "time_zone": worker.time_zone,
            "team": worker.team.name if worker.team else "",
            "currency": worker.currency,
        },
    }


def _invoice_lines(timesheet: Timesheet) -> list[InvoiceLine]:
    """The timesheet's stored lines, then its adjustments, as invoice lines."""
    figures = timesheet_figures(timesheet)
    lines = [
        InvoiceLine(
            description=f"{line.project_name} ({line.kind}) {clock_hours(line.seconds)} = {line.hours} h",
            kind=line.kind,
            seconds=line.seconds,
            hourly_rate=line.hourly_rate,
            multiplier=line.multiplier,
            amount=line.amount,
        )
        for line in figures.lines
    ]
    lines += [
        InvoiceLine(
            description=f"Adjustment: {adjustment.reason}"[:300], kind="adjustment", amount=adjustment.amount
        )
        for adjustment in figures.adjustments
    ]
    return lines


def _next_sequence(year: int) -> int:
    """Take the next number of `year` from its counter row, locked until the transaction ends."""
    counter = InvoiceCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                InvoiceCounter.objects.create(year=year)
        except IntegrityError:  # another transaction created this year's counter first
            pass
        counter = InvoiceCounter.objects.select_for_update().get(year=year)
    counter.last_sequence += 1
    counter.save(update_fields=["last_sequence"])
    return counter.last_sequence


def invoice_pay(*, actor: User, invoice: Invoice, paid_on: date, payment_reference: str) -> Invoice:
    """Mark an issued invoice paid; its figures never change."""
    _ensure_finance(actor)
    if not payment_reference.strip():
        raise InvalidInput({"payment_reference": ["Give the payment's reference."]})
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.status != InvoiceStatus.ISSUED:
            raise Conflict(f"Only issued invoices can be paid; {invoice.number} is {invoice.status}.")
        if paid_on < invoice.issued_on:
            raise InvalidInput({"paid_on": [f"Cannot be before the issue date, {invoice.issued_on}."]})
        invoice.status, invoice.paid_on, invoice.payment_reference = (
            InvoiceStatus.PAID,
            paid_on,
            payment_reference,
        )
        invoice.save(update_fields=["status", "paid_on", "payment_reference"])
    return invoice


def invoice_void(*, actor: User, invoice: Invoice, reason: str) -> Invoice:
    """Void an unpaid invoice; its number stays used and it is never deleted."""
    _ensure_finance(actor)
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why the invoice is void."]})
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.status != InvoiceStatus.ISSUED:
            raise Conflict(
                f"Only issued, unpaid invoices can be voided; {invoice.number} is {invoice.status}."
            )
        invoice.status, invoice.void_reason = InvoiceStatus.VOID, reason
        invoice.save(update_fields=["status", "void_reason"])
    return invoice


def approved_timesheet_ids(period: str) -> list[int]:
    """Ids of the period's approved timesheets without an invoice, in a stable order."""
    return list(
        Timesheet.objects.filter(period=period, status=TimesheetStatus.APPROVED, invoice__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _ensure_finance(actor: User) -> None:
    if actor.role not in (Role.FINANCE, Role.ADMIN):
        raise Forbidden("Only finance or an admin may do this to an invoice.")
