"""The payout CSV and the report files: formulas neutralised, headers people read, totals."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from payroll.exports import csv_text, neutralise, report_table, xlsx_bytes
from payroll.selectors.reports import PayReport, PayReportRow
from payroll.services.invoice_payments import invoice_pay
from payroll.services.invoices import invoice_issue
from tests.factories import RateFactory
from tests.payroll.test_services_invoices import W45, approved_timesheet


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Ana María", "Ana María"),
        (Decimal("-12.50"), Decimal("-12.50")),  # numbers stay numbers
        (7, 7),
    ],
)
def test_text_that_a_spreadsheet_would_run_is_neutralised(cell, expected):
    assert neutralise(cell) == expected


def test_csv_text_neutralises_every_text_cell_but_not_the_header():
    text = csv_text(["name", "amount"], [["=cmd|'/c calc'!A1", Decimal("1.00")]])
    assert list(csv.reader(io.StringIO(text))) == [["name", "amount"], ["'=cmd|'/c calc'!A1", "1.00"]]


@pytest.mark.django_db
def test_the_payout_csv_lists_unpaid_invoices_of_the_period(world, frozen_now, client_for):
    # given two invoices of W45, one already paid, and a hostile worker name
    world.worker_b.full_name = '=HYPERLINK("http://evil")'
    world.worker_b.save()
    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_b, hourly_rate=Decimal("12.50"))
    paid, _ = invoice_issue(timesheet=approved_timesheet(world))
    invoice_pay(actor=world.finance, invoice=paid, paid_on=date(2026, 11, 20), payment_reference="T-1")
    unpaid, _ = invoice_issue(timesheet=approved_timesheet(world, world.worker_b, world.manager_b))
    # when finance downloads the payout file
    response = client_for(world.finance).get(f"/api/v1/invoices/payout/?period={W45}")
    # then one row: the unpaid invoice, its name neutralised
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"payout-{W45}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["worker", "email", "amount", "currency", "invoice_number", "reference"],
        [
            '\'=HYPERLINK("http://evil")',
            world.worker_b.email,
            "25.00",
            "USD",
            unpaid.number,
            f"Fairhour {unpaid.number} {W45}",
        ],
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("caller", "query", "status"),
    [
        ("anonymous", f"period={W45}", 401),
        ("contractor_a", f"period={W45}", 403),
        ("manager_a", f"period={W45}", 403),
        ("admin", f"period={W45}", 200),
        ("finance", "period=2026-45", 400),
        ("finance", "", 400),
    ],
)
def test_the_payout_csv_is_for_finance_and_admins(world, client_for, caller, query, status):
    assert client_for(world.user(caller)).get(f"/api/v1/invoices/payout/?{query}").status_code == status


def test_xlsx_keeps_numbers_typed_and_text_inert():
    # given a negative adjustment as a number and the same text as a string
    data = xlsx_bytes(["name", "amount"], [["-12.50", Decimal("-12.50")], ["@SUM(A1)", 7]])
    # when
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2))
    # then
    assert [(cell.value, cell.data_type) for cell in rows[0]] == [("'-12.50", "s"), (-12.5, "n")]
    assert [(cell.value, cell.data_type) for cell in rows[1]] == [("'@SUM(A1)", "s"), (7, "n")]
    assert (rows[0][1].number_format, rows[1][1].number_format) == ("0.00", "0")


def cents(*texts: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(text) for text in texts)


def usd_and_eur_report() -> PayReport:
    """Cents a float would lose (0.10 + 0.20) and an hourly rate that does not divide evenly."""
    rows = [
        PayReportRow(3, "Ana", "USD", 3600, Decimal("0.10"), Decimal("0.00")),
        PayReportRow(1, "Ben", "EUR", 1800, Decimal("7.50"), Decimal("0.00"), 2, Decimal("1.25")),
        PayReportRow(2, "Cy", "USD", 3600, Decimal("0.20"), Decimal("0.00")),
        PayReportRow(4, "Di", "USD", 3600, Decimal("10.05"), Decimal("0.05"), 3, Decimal("0.40")),
    ]
    return PayReport("worker", "2026-W45", "2026-W45", None, rows)


def test_the_report_table_adds_up_each_currency_on_its_own_to_the_cent():
    # when
    table = report_table(usd_and_eur_report())
    # then a total per currency, by code: hours of the summed seconds, and the USD effective
    # hourly (amount - adjustments) per hour is 10.30 / 3 h = 3.43
    assert table.totals == [
        ("Total", "", "EUR", 1800, "0:30:00", *cents("0.50"), 2, *cents("1.25", "0.00", "7.50", "15.00")),
        ("Total", "", "USD", 10800, "3:00:00", *cents("3.00"), 3, *cents("0.40", "0.05", "10.35", "3.43")),
    ]
    assert table.header[-4:] == ("Top-up", "Adjustments", "Amount", "Effective hourly")
    assert [row[1] for row in table.rows] == ["Ana", "Ben", "Cy", "Di"]  # the report's order


def test_a_report_of_one_currency_names_it_and_a_week_total_has_no_id_column():
    # given a report by week in one currency
    rows = [
        PayReportRow("2026-W45", "2026-W45", "EUR", 7200, Decimal("20.00"), Decimal("0.00")),
        PayReportRow("2026-W46", "2026-W46", "EUR", 0, Decimal("-3.00"), Decimal("-3.00")),
    ]
    # when
    table = report_table(PayReport("period", "2026-W45", "2026-W46", None, rows))
    # then
    assert table.header == (
        *("Week", "Currency", "Seconds", "Duration", "Hours", "Tasks", "Top-up (EUR)"),
        *("Adjustments (EUR)", "Amount (EUR)", "Effective hourly (EUR/h)"),
    )
    assert table.rows[1][-1] == ""  # no time, no effective rate
    assert table.totals == [
        ("Total", "EUR", 7200, "2:00:00", *cents("2.00"), 0, *cents("0.00", "-3.00", "17.00", "10.00"))
    ]


def test_an_empty_report_has_plain_headers_and_no_total():
    table = report_table(PayReport("team", "2026-W45", "2026-W45", None, []))
    assert (table.header[:3], table.header[-2], table.rows, table.totals) == (
        ("Team ID", "Team", "Currency"),
        "Amount",
        [],
        [],
    )


def test_the_xlsx_freezes_its_header_sizes_its_columns_and_bolds_its_totals():
    # given
    table = report_table(usd_and_eur_report())
    # when
    data = xlsx_bytes(table.header, table.rows, title="Pay by worker", totals=table.totals)
    sheet = load_workbook(io.BytesIO(data)).active
    # then
    assert (sheet.title, sheet.freeze_panes) == ("Pay by worker", "A2")
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJK"]
    assert widths[:3] == [len("Worker ID") + 2, len("Worker") + 2, len("Currency") + 2]
    assert widths[-1] == len("Effective hourly") + 2
    header, *rows = sheet.iter_rows()
    assert all(cell.font.bold for cell in header)
    assert [row[0].value for row in rows] == [3, 1, 2, 4, "Total", "Total"]
    assert [any(cell.font.bold for cell in row) for row in rows] == [False] * 4 + [True] * 2
    totals = [(row[2].value, f"{row[9].value:.2f}", f"{row[10].value:.2f}") for row in rows[-2:]]
    assert totals == [("EUR", "7.50", "15.00"), ("USD", "10.35", "3.43")]


def test_a_long_name_widens_its_column_only_so_far():
    data = xlsx_bytes(["Worker", "Amount"], [["x" * 200, Decimal("123456.78")]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert (sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width) == (60, 11)
