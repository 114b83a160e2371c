"""The payout CSV: one row per unpaid invoice, spreadsheet formulas neutralised."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from payroll.exports import csv_text, neutralise, xlsx_bytes
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
