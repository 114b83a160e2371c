"""Files finance downloads: rows in, CSV text or XLSX bytes out, spreadsheet formulas neutralised.

A text cell starting with =, +, -, @, a tab or a carriage return is read as a formula by
spreadsheet programs (LESSONS: Hours #585, Kimai PR #5899); such cells get a leading
apostrophe. Numbers stay numbers: only text is touched (in XLSX they are typed number
cells, so a negative adjustment is -12.5, not the text "-12.50").
"""

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from payroll.models import Invoice, InvoiceStatus
from payroll.selectors.reports import REPORT_FIGURES, PayReport, PayReportRow

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


# Pay report files ---------------------------------------------------------------------

_GROUP_COLUMNS = {
    "worker": ("worker_id", "worker"),
    "project": ("project_id", "project"),
    "team": ("team_id", "team"),
    "period": ("period",),
}
NO_TEAM = "No team"
# Number formats of the XLSX's number cells: money and hours show two decimals.
TWO_DECIMALS = "0.00"
WHOLE = "0"


def report_table(report: PayReport) -> tuple[tuple[str, ...], list[tuple[Cell, ...]]]:
    """The report as a header and rows of cells: ids, names, currency, then the figures."""
    header = (*_GROUP_COLUMNS[report.group_by], *REPORT_FIGURES)
    rows = []
    for row in report.rows:
        if report.group_by == "period":
            group: tuple[Cell, ...] = (row.name,)
        else:
            no_team = report.group_by == "team" and row.key is None
            no_id = no_team or row.key is None  # no team, or the top-ups, which have no project
            group = ("" if no_id else int(row.key or 0), NO_TEAM if no_team else row.name)
        rows.append((*group, *(_figure(row, name) for name in REPORT_FIGURES)))
    return header, rows


def _figure(row: PayReportRow, name: str) -> Cell:
    value = getattr(row, name)
    return "" if value is None else value  # no time, no effective rate


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], title: str = "Report") -> bytes:
    """An XLSX workbook of one sheet: a bold header, typed number cells, inert text cells."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, name, font=bold) for name in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet: object, value: Cell, font: Font | None = None) -> WriteOnlyCell:
    if isinstance(value, str):
        # Drop characters XML cannot hold first, so none can hide a formula start.
        cell = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)))
        cell.data_type = "s"  # text, never a formula, whatever it starts with
    else:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = TWO_DECIMALS if isinstance(value, Decimal) else WHOLE
    if font is not None:
        cell.font = font
    return cell
