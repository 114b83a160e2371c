"""Issuing invoices (PAY_RULES §7): numbered without gaps, copied from the timesheet.

The number comes from a per-year counter row locked in the same transaction that inserts
the invoice and moves the timesheet to `invoiced`: if anything fails, all three roll back
together and the number is never used. Issuing twice returns the first invoice.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from payroll.models import (
    LINE_ORDER,
    Adjustment,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    Timesheet,
    TimesheetEvent,
    TimesheetLine,
    TimesheetStatus,
)
from payroll.money import clock_hours, round_half_up
from payroll.selectors.timesheets import LineFigures, timesheet_figures
from payroll.services.bulk import allocate_ids, insert_rows
from payroll.services.timesheets import TRANSITIONS, timesheet_transition
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
    invoice = _new_invoice(timesheet, worker, issued_on, lines, _take_sequences(issued_on.year, 1))
    invoice.save(force_insert=True)
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, position=position, **line._asdict())
        for position, line in enumerate(lines, start=1)
    )
    return invoice


def _new_invoice(
    timesheet: Timesheet, worker: Worker, issued_on: date, lines: list["LineValues"], sequence: int
) -> Invoice:
    """The invoice of a timesheet, unsaved: every field an issued invoice gets, in one place."""
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    tax = round_half_up(subtotal * worker.tax_rate)
    return Invoice(
        number=invoice_number(issued_on.year, sequence),
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


def invoice_number(year: int, sequence: int) -> str:
    """An invoice's number: `{INVOICE_PREFIX}-{year}-{sequence:06d}`."""
    return f"{settings.INVOICE_PREFIX}-{year}-{sequence:06d}"


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


class LineValues(NamedTuple):
    """An invoice line's values before it has an invoice and a position."""

    description: str
    kind: str
    seconds: int
    hourly_rate: Decimal | None
    multiplier: Decimal | None
    amount: Decimal


def _invoice_lines(timesheet: Timesheet) -> list[LineValues]:
    """The timesheet's stored lines, then its adjustments, as invoice lines."""
    figures = timesheet_figures(timesheet)
    return _lines_of(figures.lines, figures.adjustments)


def _lines_of(lines: Iterable[LineFigures], adjustments: Iterable[Adjustment]) -> list[LineValues]:
    copied = [
        LineValues(
            f"{line.project_name} ({line.kind}) {clock_hours(line.seconds)} = {line.hours} h",
            line.kind,
            line.seconds,
            line.hourly_rate,
            line.multiplier,
            line.amount,
        )
        for line in lines
    ]
    copied += [
        LineValues(f"Adjustment: {adjustment.reason}"[:300], "adjustment", 0, None, None, adjustment.amount)
        for adjustment in adjustments
    ]
    return copied


def _take_sequences(year: int, count: int) -> int:
    """Take `count` consecutive numbers of `year` from its counter row; return the first.

    The row stays locked until the transaction ends: the numbers are used by what it
    commits, or never taken at all if it rolls back (no gaps).
    """
    counter = InvoiceCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                InvoiceCounter.objects.create(year=year)
        except IntegrityError:  # another transaction created this year's counter first
            pass
        counter = InvoiceCounter.objects.select_for_update().get(year=year)
    first = counter.last_sequence + 1
    counter.last_sequence += count
    counter.save(update_fields=["last_sequence"])
    return first


# Many invoices at once (the invoicing job) -----------------------------------------------


def invoices_issue_batch(
    *, timesheet_ids: Sequence[int], actor: User | None = None, now: datetime | None = None
) -> int:
    """Issue the invoices of many approved timesheets in one transaction; return how many are new.

    Each invoice is what `invoice_issue` would make, numbered in timesheet-id order from
    one block per year taken from the counter row once (still gap-free: the block commits
    or rolls back with the invoices). Locks as `invoice_issue` does, in a fixed order:
    workers by id, then timesheets by id, then the counter rows by year. Timesheets
    already invoiced, or no longer approved, are skipped.

    The counter rows are the one lock every chunk needs, held from numbering to commit:
    so everything else is done first, and only plain-row writes follow the numbering, or
    parallel chunks would take turns for the whole of their work.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = _lock_due(timesheet_ids)
        for timesheet in due:
            TRANSITIONS["invoice"].guard(actor, timesheet)
        issued = _unnumbered_invoices(due, now)
        _set_invoiced(due)
        invoices = [invoice for invoice, _ in issued]
        _reserve_ids(invoices)
        _number(issued)
        _insert_invoices(invoices)
        insert_rows(InvoiceLine, INVOICE_LINE_COLUMNS, _line_rows(issued))
        _insert_invoice_events(issued, actor, now)
    return len(issued)


def _lock_due(timesheet_ids: Sequence[int]) -> list[Timesheet]:
    """Lock the workers, then the timesheets; return the approved ones with no invoice yet."""
    worker_ids = Timesheet.objects.filter(pk__in=timesheet_ids).values_list("worker_id", flat=True)
    locked = Worker.objects.select_for_update(of=("self",)).select_related("team")  # team: the snapshot
    workers = {w.pk: w for w in locked.filter(pk__in=worker_ids).order_by("pk")}
    timesheets = (
        Timesheet.objects.select_for_update(of=("self",))  # not the outer-joined invoice side
        .filter(pk__in=timesheet_ids, status=TimesheetStatus.APPROVED, invoice__isnull=True)
        .order_by("pk")
    )
    due = list(timesheets)
    for timesheet in due:
        timesheet.worker = workers[timesheet.worker_id]
    return due


def _unnumbered_invoices(due: list[Timesheet], now: datetime) -> list[tuple[Invoice, list[LineValues]]]:
    """Unsaved invoices and their lines in timesheet order, without numbers yet (`_number`)."""
    lines = _lines_by_timesheet(due)
    issued = []
    for timesheet in due:
        day = now.astimezone(timesheet.worker.zone).date()
        invoice = _new_invoice(timesheet, timesheet.worker, day, lines[timesheet.pk], sequence=0)
        issued.append((invoice, lines[timesheet.pk]))
    return issued


def _number(issued: list[tuple[Invoice, list[LineValues]]]) -> None:
    """Number the invoices in order from one block per year (locks the counter rows until commit)."""
    years = Counter(invoice.year for invoice, _ in issued)
    following = {year: _take_sequences(year, count) for year, count in sorted(years.items())}
    for invoice, _ in issued:
        invoice.sequence = following[invoice.year]
        invoice.number = invoice_number(invoice.year, invoice.sequence)
        following[invoice.year] += 1


def _reserve_ids(invoices: list[Invoice]) -> None:
    """On PostgreSQL, give the invoices ids from the sequence, so COPY can write them."""
    if connection.vendor == "postgresql":
        for invoice, pk in zip(invoices, allocate_ids(Invoice, len(invoices)), strict=True):
            invoice.pk = pk


def _insert_invoices(invoices: list[Invoice]) -> None:
    """Insert the invoices: COPY on PostgreSQL (ids reserved), bulk_create (ids set) elsewhere."""
    if connection.vendor != "postgresql":
        Invoice.objects.bulk_create(invoices, batch_size=2_000)
        return
    created_at = timezone.now()  # what auto_now_add would set
    for invoice in invoices:
        invoice.created_at = created_at
        invoice._state.adding = False
    names = [field.attname for field in Invoice._meta.concrete_fields]
    insert_rows(Invoice, names, ([getattr(invoice, name) for name in names] for invoice in invoices))


def _lines_by_timesheet(due: list[Timesheet]) -> dict[int, list[LineValues]]:
    """Each timesheet's stored lines then adjustments, as `_invoice_lines` copies them (3 queries)."""
    stored: dict[int, list[LineFigures]] = defaultdict(list)
    rows = (
        TimesheetLine.objects.filter(timesheet_id__in=[t.pk for t in due])
        .order_by("timesheet_id", *LINE_ORDER)  # as the timesheet shows them
        .values_list("timesheet_id", *LINE_FIGURES)
    )
    for timesheet_id, *figures in rows:
        stored[timesheet_id].append(LineFigures(*figures))
    adjustments: dict[tuple[int, str], list[Adjustment]] = defaultdict(list)
    for adjustment in Adjustment.objects.filter(
        worker_id__in={t.worker_id for t in due}, applies_to_period__in={t.period for t in due}
    ):
        adjustments[(adjustment.worker_id, adjustment.applies_to_period)].append(adjustment)
    return {t.pk: _lines_of(stored[t.pk], adjustments[(t.worker_id, t.period)]) for t in due}


# The fields of a stored line that LineFigures holds, in its order.
LINE_FIGURES = ("project_id", "project__name", "kind", "hourly_rate", "multiplier", "seconds", "amount")


def _set_invoiced(due: list[Timesheet]) -> None:
    """The `invoice` transition of each timesheet, first half: its state (events: after numbering)."""
    Timesheet.objects.filter(pk__in=[timesheet.pk for timesheet in due]).update(
        status=TRANSITIONS["invoice"].target, updated_at=timezone.now()
    )


def _insert_invoice_events(
    issued: list[tuple[Invoice, list[LineValues]]], actor: User | None, now: datetime
) -> None:
    """The `invoice` transition of each timesheet, second half: an event naming the invoice."""
    source, target = TimesheetStatus.APPROVED, TRANSITIONS["invoice"].target
    actor_id = actor.pk if actor else None
    insert_rows(
        TimesheetEvent,
        ("timesheet_id", "from_status", "to_status", "actor_id", "at", "note"),
        ((invoice.timesheet_id, source, target, actor_id, now, invoice.number) for invoice, _ in issued),
    )


INVOICE_LINE_COLUMNS = (
    "invoice_id",
    "position",
    "description",
    "kind",
    "seconds",
    "hourly_rate",
    "multiplier",
    "amount",
)


def _line_rows(issued: list[tuple[Invoice, list[LineValues]]]) -> Iterable[tuple[object, ...]]:
    for invoice, lines in issued:
        for position, line in enumerate(lines, start=1):
            yield (invoice.pk, position, *line)


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
        if paid_on > latest_local_today():
            raise InvalidInput({"paid_on": ["Cannot be in the future: record a payment once it is made."]})
        invoice.status, invoice.paid_on, invoice.payment_reference = (
            InvoiceStatus.PAID,
            paid_on,
            payment_reference,
        )
        invoice.save(update_fields=["status", "paid_on", "payment_reference"])
    return invoice


def latest_local_today() -> date:
    """Today's date in the zone furthest ahead (UTC+14): no one has paid later than that."""
    return (timezone.now() + timedelta(hours=14)).date()


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
