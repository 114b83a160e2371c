"""Files finance downloads: rows in, CSV text or XLSX bytes out, spreadsheet formulas neutralised.

A text cell starting with =, +, -, @, a tab or a carriage return is read as a formula by
spreadsheet programs (LESSONS: Hours #585, Kimai PR #5899); such cells get a leading
apostrophe. Numbers stay numbers: only text is touched (in XLSX they are typed number
cells, so a negative adjustment is -12.5, not the text "-12.50").
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from payroll.models import Invoice, InvoiceStatus
from payroll.selectors.reports import REPORT_FIGURES, TOTAL, PayReport, PayReportRow, currency_totals

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
#
# Headers are for people: "Worker", "Hours", "Amount (USD)". A file of one currency names
# it in its money headers; a file of several says plain "Amount" and each row's currency
# is in the Currency column, which every file keeps so its columns never move. The XLSX
# ends with a bold total row per currency (never one across currencies); the CSV has none,
# so a program or a pivot table reads one row per group and nothing else.

_GROUP_HEADERS = {
    "worker": ("Worker ID", "Worker"),
    "project": ("Project ID", "Project"),
    "team": ("Team ID", "Team"),
    "period": ("Week",),
}
_FIGURE_HEADERS = {
    "currency": "Currency",
    "seconds": "Seconds",
    "duration": "Duration",
    "hours": "Hours",
    "tasks": "Tasks",
    "top_up": "Top-up",
    "adjustments": "Adjustments",
    "amount": "Amount",
    "effective_hourly": "Effective hourly",
}
_MONEY_FIGURES = ("top_up", "adjustments", "amount")
NO_TEAM = "No team"
# Number formats of the XLSX's number cells: money and hours show two decimals.
TWO_DECIMALS = "0.00"
WHOLE = "0"
# Column widths in characters: room for the longest cell, within reason.
WIDTH_PADDING = 2
MAX_WIDTH = 60


@dataclass(frozen=True)
class ReportTable:
    """A report as its files hold it: the header, a row per group, a total row per currency."""

    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    totals: list[tuple[Cell, ...]]


def report_table(report: PayReport) -> ReportTable:
    """The report as cells: ids, names, currency, then the figures; totals per currency."""
    groups = list(report.rows)  # read once: by worker, each reading runs the report's queries
    currencies = {row.currency for row in groups}
    currency = currencies.pop() if len(currencies) == 1 else None
    header = (
        *_GROUP_HEADERS[report.group_by],
        *(_figure_header(name, currency) for name in REPORT_FIGURES),
    )
    rows = [(*_group_cells(report.group_by, row), *_figures(row)) for row in groups]
    blank_group = ("",) * (len(_GROUP_HEADERS[report.group_by]) - 1)
    totals = [(TOTAL, *blank_group, *_figures(total)) for total in currency_totals(groups)]
    return ReportTable(header, rows, totals)


def _figure_header(name: str, currency: str | None) -> str:
    """A figure's header, naming the file's one currency on its money columns."""
    text = _FIGURE_HEADERS[name]
    if currency is None:
        return text
    if name in _MONEY_FIGURES:
        return f"{text} ({currency})"
    if name == "effective_hourly":
        return f"{text} ({currency}/h)"
    return text


def _group_cells(group_by: str, row: PayReportRow) -> tuple[Cell, ...]:
    if group_by == "period":
        return (row.name,)
    no_team = group_by == "team" and row.key is None
    no_id = no_team or row.key is None  # no team, or the top-ups, which have no project
    return ("" if no_id else int(row.key or 0), NO_TEAM if no_team else row.name)


def _figures(row: PayReportRow) -> tuple[Cell, ...]:
    return tuple(_figure(row, name) for name in REPORT_FIGURES)


def _figure(row: PayReportRow, name: str) -> Cell:
    value = getattr(row, name)
    return "" if value is None else value  # no time, no effective rate


def xlsx_bytes(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    title: str = "Report",
    totals: Sequence[Sequence[Cell]] = (),
) -> bytes:
    """An XLSX workbook of one sheet: a bold, frozen header, typed number cells, inert text
    cells, columns as wide as their cells, and the `totals` rows last, in bold."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    # A write-only sheet writes its views and columns before its first row: set them now.
    sheet.freeze_panes = "A2"
    for index, width in enumerate(_column_widths([header, *rows, *totals]), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, name, font=bold) for name in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, cell) for cell in row])
    for row in totals:
        sheet.append([_xlsx_cell(sheet, cell, font=bold) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column_widths(rows: Sequence[Sequence[Cell]]) -> list[int]:
    """Each column's width: its longest cell as shown, plus a little room."""
    widths: list[int] = []
    for row in rows:
        for index, cell in enumerate(row):
            shown = len(f"{cell:.2f}" if isinstance(cell, Decimal) else str(cell))
            if index == len(widths):
                widths.append(0)
            widths[index] = max(widths[index], shown)
    return [min(width + WIDTH_PADDING, MAX_WIDTH) for width in widths]


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
