"""Activities, task lines and the fair-pay top-up in a real browser (PAY_RULES §8-10).

The contractor starts the timer on an activity; a week paid by the piece shows its task
line and its top-up with the words that explain it; the invoice and its PDF carry both.
Each page is saved as a screenshot.
"""

import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from payroll.models import Invoice
from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.browser.test_flows import sign_in
from tests.factories import RateFactory
from trainers.models import LabellingSession

TOP_UP_WORDS = "Fair-pay top-up: floor 15.00/h x 2:00:00 = 30.00; earned 12.95"


@pytest.fixture
def piece_work(transactional_db, live_server, world):
    """Worker A paid 0.35 a task on project A with a 15.00/h floor; their 2 h session did 37 tasks.

    PAY_RULES worked example 6: tasks 12.95, floor 30.00, top-up 17.05.
    """
    RateFactory(worker=world.worker_a, effective_from=date(2020, 1, 1))  # 15.00/h by default
    RateFactory(
        worker=world.worker_a,
        project=world.project_a,
        hourly_rate=Decimal("0.00"),
        task_rate=Decimal("0.35"),
        effective_from=date(2020, 1, 1),
    )
    world.worker_a.minimum_hourly = Decimal("15.00")
    world.worker_a.save()
    LabellingSession.objects.filter(pk=world.session_a.pk).update(task_count=37)
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=world.session_a.period)
    return live_server.url, timesheet


def test_the_timer_starts_on_an_activity(page: Page, piece_work, world, shot):
    site, _ = piece_work
    sign_in(page, site, "contractor_a")
    page.get_by_label("Project").select_option(label=str(world.project_a))
    page.get_by_label("Activity").select_option(label="Training")
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".messages")).to_contain_text(f"Timer started on {world.project_a.name}.")
    expect(page.locator("#timer")).to_contain_text("(training)")
    shot("timer-activity")
    assert LabellingSession.objects.get(worker=world.worker_a, ended_at=None).activity == "training"


def test_a_piece_work_week_shows_its_task_line_and_top_up(page: Page, piece_work, world, shot):
    site, timesheet = piece_work
    sign_in(page, site, "contractor_a")
    page.goto(f"{site}/timesheets/{timesheet.pk}/")
    expect(page.get_by_test_id("top-up-line")).to_contain_text(TOP_UP_WORDS)
    expect(page.get_by_test_id("top-up-line")).to_contain_text("17.05")
    expect(page.get_by_role("row", name="Project A labelling tasks 37")).to_contain_text("0.35/task")
    expect(page.get_by_test_id("total-amount")).to_contain_text("30.00")
    expect(page.get_by_test_id("effective-hourly")).to_contain_text("15.00/h effective")
    expect(page.locator(".problems")).to_contain_text("The task rate may be too low")
    shot("timesheet-top-up")


def test_the_invoice_and_its_pdf_carry_the_task_line_and_the_top_up(page: Page, piece_work, world, shot):
    site, timesheet = piece_work
    timesheet = timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    timesheet = timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="approve")
    invoice, _ = invoice_issue(timesheet=timesheet, actor=world.finance)
    sign_in(page, site, "finance")
    page.goto(f"{site}/invoices/{invoice.pk}/")
    expect(page.get_by_role("heading", name=invoice.number)).to_be_visible()
    expect(page.locator("main")).to_contain_text(TOP_UP_WORDS)
    expect(page.locator("main")).to_contain_text("37 x 0.35")
    shot("invoice-top-up")
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Download PDF").click()
    text = pdf_text(pdf.value.path().read_bytes())
    # the description wraps in its column: its two parts, and the line's rate and amount
    assert "Fair-pay top-up: floor 15.00/h x 2:00:00 =" in text and "30.00; earned 12.95" in text, text
    assert "15.00/h floor 1.00 17.05" in text, text
    assert "37 x 0.35" in text and "0.35/task" in text
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("30.00")


def pdf_text(content: bytes) -> str:
    """The PDF's text as poppler's pdftotext reads it (one line per line, joined by spaces)."""
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "The PDF checks need poppler's pdftotext: apt-get install poppler-utils"
    result = subprocess.run([pdftotext, "-layout", "-", "-"], input=content, capture_output=True, check=True)  # noqa: S603
    return " ".join(result.stdout.decode().split())
