"""Issuing invoices (PAY_RULES §7): numbered without gaps, copied from the timesheet.

The number comes from a per-year counter row locked in the same transaction that inserts
the invoice and moves the timesheet to `invoiced` (the state machine's `invoice` step):
if anything fails, all three roll back together and the number is never used. Issuing
twice returns the first invoice.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.db import locks
from core.db.bulk import allocate_ids, insert_rows, stored_rows
from core.errors import Conflict
from payroll.models import (
    Adjustment,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    Timesheet,
)
from payroll.money import round_half_up
from payroll.selectors.timesheets import LineFigures, stored_lines
from payroll.services.timesheet_transitions import (
    TRANSITIONS,
    Moved,
    timesheet_events_insert,
    timesheets_move,
)
from trainers.models import User, Worker


def invoice_issue(
    *, timesheet: Timesheet, actor: User | None = None, now: datetime | None = None
) -> tuple[Invoice, bool]:
    """Issue the invoice of an approved timesheet; return it and whether it is new (a batch of one)."""
    with transaction.atomic():
        issued = invoices_issue_batch(timesheet_ids=[timesheet.pk], actor=actor, now=now)
        invoice = Invoice.objects.filter(timesheet_id=timesheet.pk).first()
        if invoice is None:
            status = Timesheet.objects.values_list("status", flat=True).get(pk=timesheet.pk)
            raise Conflict(f"Only approved timesheets are invoiced; this one is {status}.")
    return invoice, issued == 1


def invoice_number(year: int, sequence: int) -> str:
    """An invoice's number: `{INVOICE_PREFIX}-{year}-{sequence:06d}`."""
    return f"{settings.INVOICE_PREFIX}-{year}-{sequence:06d}"


def invoice_parties(worker: Worker) -> dict[str, dict[str, Any]]:
    """The snapshots an invoice keeps of its two parties: `company` (settings), `contractor`."""
    return {
        "company": company_snapshot(),
        "contractor": _contractor_snapshot(
            _Contractor(
                worker.pk,
                worker.full_name,
                worker.email,
                worker.time_zone,
                worker.team.name if worker.team else "",
                worker.currency,
                worker.tax_rate,
            )
        ),
    }


def company_snapshot() -> dict[str, Any]:
    """The company's details an invoice keeps (from settings)."""
    return {
        "name": settings.COMPANY_NAME,
        "address": settings.COMPANY_ADDRESS,
        "tax_id": settings.COMPANY_TAX_ID,
        "email": settings.COMPANY_EMAIL,
    }


class _Contractor(NamedTuple):
    """What an invoice needs of its worker, read and locked in one query for a whole batch."""

    pk: int
    full_name: str
    email: str
    time_zone: str
    team_name: str | None
    currency: str
    tax_rate: Decimal


def _contractor_snapshot(worker: _Contractor) -> dict[str, Any]:
    return {
        "worker": worker.pk,
        "full_name": worker.full_name,
        "email": worker.email,
        "time_zone": worker.time_zone,
        "team": worker.team_name or "",
        "currency": worker.currency,
    }


class LineValues(NamedTuple):
    """An invoice line's values before it has an invoice and a position."""

    description: str
    kind: str
    seconds: int
    units: int
    hourly_rate: Decimal | None
    multiplier: Decimal | None
    amount: Decimal


def _lines_of(lines: Iterable[LineFigures], adjustments: Iterable[Adjustment]) -> list[LineValues]:
    copied = [
        LineValues(
            line.description,
            line.kind,
            line.seconds,
            line.units,
            line.hourly_rate,
            line.multiplier,
            line.amount,
        )
        for line in lines
    ]
    copied += [
        LineValues(
            f"Adjustment: {adjustment.reason}"[:300], "adjustment", 0, 0, None, None, adjustment.amount
        )
        for adjustment in adjustments
    ]
    return copied


def _take_sequences(year: int, count: int) -> int:
    """Take `count` consecutive numbers of `year` from its counter row; return the first.

    The row stays locked until the transaction ends: the numbers are used by what it
    commits, or never taken at all if it rolls back (no gaps).
    """
    counter = locks.invoice_counter(year)
    if counter is None:
        try:
            with transaction.atomic():
                InvoiceCounter.objects.create(year=year)
        except IntegrityError:  # another transaction created this year's counter first
            pass
        counter = cast(InvoiceCounter, locks.invoice_counter(year))  # created now, or by the winner
    first = counter.last_sequence + 1
    counter.last_sequence += count
    counter.save(update_fields=["last_sequence"])
    return first


# Many invoices at once (the invoicing job; a single invoice is a batch of one) ----------


def invoices_issue_batch(
    *, timesheet_ids: Sequence[int], actor: User | None = None, now: datetime | None = None
) -> int:
    """Issue the invoices of many approved timesheets in one transaction; return how many are new.

    Numbered in timesheet-id order from one block per year taken from the counter row
    once (still gap-free: the block commits or rolls back with the invoices). Locks in a
    fixed order: workers by id, then the timesheets by id (the state machine's `invoice`
    step moves each approved one to `invoiced`), then the counter rows by year.
    Timesheets already invoiced, or no longer approved, are skipped.

    The counter rows are the one lock every chunk needs, held from numbering to commit:
    so everything else is done first, and only plain-row writes follow the numbering, or
    parallel chunks would take turns for the whole of their work.
    """
    with transaction.atomic():
        contractors = _lock_contractors(timesheet_ids)
        due = _move_to_invoiced(timesheet_ids, contractors, actor)
        now = now or timezone.now()  # once the timesheets are locked: their events' time
        drafts = _drafts(due, contractors, now)
        if drafts:
            _write(drafts, actor, now)
    return len(drafts)


def _lock_contractors(timesheet_ids: Sequence[int]) -> dict[int, _Contractor]:
    """Lock the timesheets' workers in id order; return what their invoices need of them."""
    rows = locks.workers_of_timesheets(timesheet_ids).values_list(*CONTRACTOR_FIELDS)
    return {row[0]: _Contractor(*row) for row in rows}


# What _Contractor holds of a worker, in its order.
CONTRACTOR_FIELDS = (
    "pk", "full_name", "email", "time_zone", "team__name", "currency", "tax_rate",
)  # fmt: skip


def _move_to_invoiced(
    timesheet_ids: Sequence[int], contractors: dict[int, _Contractor], actor: User | None
) -> list[Moved]:
    """Take the `invoice` step, guarded: the approved timesheets move, the rest are skipped."""
    TRANSITIONS["invoice"].guard(actor, [])  # who invoices depends on the actor alone
    return timesheets_move(action="invoice", ids=timesheet_ids)


class _Draft(NamedTuple):
    """An invoice before it has an id and a number."""

    due: Moved
    contractor: _Contractor
    issued_on: date
    lines: list[LineValues]
    subtotal: Decimal
    tax: Decimal


def _drafts(due: list[Moved], contractors: dict[int, _Contractor], now: datetime) -> list[_Draft]:
    """Each due timesheet's invoice: lines copied, subtotal, tax once on the subtotal."""
    lines = _lines_by_timesheet(due)
    drafts = []
    for timesheet in due:
        contractor = contractors[timesheet.worker_id]
        subtotal = sum((line.amount for line in lines[timesheet.pk]), Decimal("0.00"))
        tax = round_half_up(subtotal * contractor.tax_rate)
        issued_on = now.astimezone(ZoneInfo(contractor.time_zone)).date()  # ZoneInfo caches zones
        drafts.append(_Draft(timesheet, contractor, issued_on, lines[timesheet.pk], subtotal, tax))
    return drafts


def _write(drafts: list[_Draft], actor: User | None, now: datetime) -> None:
    """Write all that needs no number before taking the numbers, then the rest.

    With ids from the sequence the lines go first (their key to the invoice is checked at
    commit), and the invoices' fields are built: under the counter lock are left only
    the invoices' COPY (their JSON already encoded), the events that name them, and the
    commit.
    """
    ids = allocate_ids(Invoice, len(drafts))
    insert_rows(InvoiceLine, INVOICE_LINE_COLUMNS, _line_rows(drafts, ids))
    fields = stored_rows(Invoice, INVOICE_FIELDS, _invoice_fields(drafts))
    numbers = _number(drafts)
    rows = ((pk, *numbered, *values) for pk, numbered, values in zip(ids, numbers, fields, strict=True))
    insert_rows(Invoice, ("id", *NUMBER_COLUMNS, *INVOICE_FIELDS), rows, stored=True)
    named = {draft.due.pk: number for draft, (number, _, _) in zip(drafts, numbers, strict=True)}
    timesheet_events_insert(
        action="invoice", moved=[draft.due for draft in drafts], actor=actor, at=now, notes=named
    )


# An invoice's number, year and sequence, in NUMBER_COLUMNS order.
Numbered = tuple[str, int, int]


def _number(drafts: list[_Draft]) -> list[Numbered]:
    """Number the drafts in order from one block per year (locks the counter rows until commit)."""
    years = Counter(draft.issued_on.year for draft in drafts)
    following = {year: _take_sequences(year, count) for year, count in sorted(years.items())}
    numbers = []
    for draft in drafts:
        year = draft.issued_on.year
        numbers.append((invoice_number(year, following[year]), year, following[year]))
        following[year] += 1
    return numbers


NUMBER_COLUMNS = ("number", "year", "sequence")
INVOICE_FIELDS = (
    "timesheet_id", "worker_id", "period", "issued_on", "due_on", "currency", "subtotal", "tax_rate", "tax",
    "total", "status", "paid_on", "payment_reference", "void_reason", "company", "contractor", "pdf",
    "pdf_sha256", "created_at",
)  # fmt: skip


def _invoice_fields(drafts: list[_Draft]) -> list[tuple[object, ...]]:
    """Each issued invoice's values but its number, in INVOICE_FIELDS order."""
    company, created_at = company_snapshot(), timezone.now()
    return [_fields_of(draft, company, created_at) for draft in drafts]


def _fields_of(draft: _Draft, company: dict[str, Any], created_at: datetime) -> tuple[object, ...]:
    """An issued invoice's values but its number: every field it gets, in one place."""
    due_on = draft.issued_on + timedelta(days=settings.INVOICE_DUE_DAYS)
    total = draft.subtotal + draft.tax
    return (
        draft.due.pk, draft.due.worker_id, draft.due.period, draft.issued_on, due_on, draft.due.currency,
        draft.subtotal, draft.contractor.tax_rate, draft.tax, total, InvoiceStatus.ISSUED.value, None, "", "",
        company, _contractor_snapshot(draft.contractor), "", "", created_at,
    )  # fmt: skip


def _lines_by_timesheet(due: list[Moved]) -> dict[int, list[LineValues]]:
    """Each timesheet's stored lines then adjustments, as invoice lines (2 queries)."""
    stored = stored_lines([t.pk for t in due])
    adjustments: dict[tuple[int, str], list[Adjustment]] = defaultdict(list)
    for adjustment in Adjustment.objects.filter(
        worker_id__any_of={t.worker_id for t in due}, applies_to_period__in={t.period for t in due}
    ).order_by("pk"):
        adjustments[(adjustment.worker_id, adjustment.applies_to_period)].append(adjustment)
    return {t.pk: _lines_of(stored[t.pk], adjustments[(t.worker_id, t.period)]) for t in due}


INVOICE_LINE_COLUMNS = (
    "invoice_id",
    "position",
    "description",
    "kind",
    "seconds",
    "units",
    "hourly_rate",
    "multiplier",
    "amount",
)


def _line_rows(drafts: list[_Draft], invoice_ids: list[int]) -> Iterable[tuple[object, ...]]:
    for draft, invoice_id in zip(drafts, invoice_ids, strict=True):
        for position, line in enumerate(draft.lines, start=1):
            yield (invoice_id, position, *line)
