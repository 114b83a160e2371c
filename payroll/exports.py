"""Files finance downloads: rows in, CSV text out, with spreadsheet formulas neutralised.

A text cell starting with =, +, -, @, a tab or a carriage return is read as a formula by
spreadsheet programs (LESSONS: Hours #585, Kimai PR #5899); such cells get a leading
apostrophe. Numbers stay numbers: only text is touched.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db.models import QuerySet

from payroll.models import Invoice, InvoiceStatus

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAYOUT_COLUMNS = ("worker", "email", "amount", "currency", "invoice_number", "reference")

Cell = str | int | Decimal


def neutralise(cell: Cell) -> Cell:
    """Make a text cell inert in a spreadsheet; numbers pass unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """CSV with a header row, every text cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()


def payout_rows(invoices: QuerySet[Invoice]) -> list[tuple[Cell, ...]]:
    """One row per issued (unpaid, not void) invoice: what a payments provider's bulk upload takes."""
    unpaid = (
        invoices.filter(status=InvoiceStatus.ISSUED).select_related("worker").order_by("year", "sequence")
    )
    return [
        (
            invoice.worker.full_name,
            invoice.worker.email,
            invoice.total,
            invoice.currency,
            invoice.number,
            f"Fairhour {invoice.number} {invoice.period}",
        )
        for invoice in unpaid
    ]


def payout_csv(invoices: QuerySet[Invoice]) -> str:
    """The payout file of some invoices (e.g. one period's), as CSV text."""
    return csv_text(PAYOUT_COLUMNS, payout_rows(invoices))
