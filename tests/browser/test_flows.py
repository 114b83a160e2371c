"""The issue's flows in a real browser: a contractor's week, a rejected and fixed timesheet,
finance invoicing a period (progress bar, PDF, report chart, XLSX). Each page visited is
saved as a screenshot.
"""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from payroll.models import Invoice, Job, JobStatus, Timesheet, TimesheetStatus
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory
from trainers.models import LabellingSession

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's


@pytest.fixture
def site(transactional_db, live_server, world):
    """The live server's address, with the world's contractors priced at 15.00/h."""
    for worker in (world.worker_a, world.worker_a2, world.worker_b):
        RateFactory(worker=worker, effective_from=date(2020, 1, 1))
    return live_server.url


def sign_in(page: Page, site: str, username: str) -> None:
    page.goto(f"{site}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".messages")).to_contain_text(f"Signed in as {username}.")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".messages")).to_contain_text("Signed out.")


def test_contractor_starts_and_stops_the_timer_and_submits_the_week(page: Page, site, world, shot):
    # given the sign-in page
    page.goto(site)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot("sign-in")
    sign_in(page, site, "contractor_a")
    expect(page.locator("#current-figures")).to_contain_text("No finished sessions in this week yet.")
    shot("contractor-home")

    # when the timer runs: no reload, and the clock ticks
    page.get_by_label("Project").select_option(label=str(world.project_a))
    page.get_by_label("Notes (optional)").fill("ranking batch 7")
    page.get_by_role("button", name="Start").click()
    clock = page.get_by_role("timer")
    expect(clock).to_have_text(re.compile(r"0:00:0[2-9]"), timeout=5000)
    expect(page.locator(".messages")).to_contain_text(f"Timer started on {world.project_a.name}.")
    shot("timer-running")
    # the keyboard stays on the timer: the new Stop button has the focus, Enter presses it
    expect(page.get_by_role("button", name="Stop")).to_be_focused()
    page.keyboard.press("Enter")

    # then the session, the week and the pay update in place
    expect(page.locator(".messages")).to_contain_text("Timer stopped after 0:00:0")
    expect(page.locator("#week-sessions")).to_contain_text("ranking batch 7")
    expect(page.locator("#current-figures")).to_contain_text(world.project_a.name)
    expect(page.get_by_role("button", name="Start")).to_be_visible()
    shot("timer-stopped")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # tables scroll, the page does not
    shot("contractor-home-phone")
    page.set_viewport_size({"width": 1280, "height": 860})

    # when the week, not over yet, is submitted: the card says what that locks, and asks
    expect(page.locator("#current-figures")).to_contain_text("is not over yet: it runs until Sunday")
    lock = page.get_by_label("Lock this week now")
    expect(lock).not_to_be_checked()
    shot("submit-asks-to-confirm")
    page.get_by_role("button", name="Submit this week").click()  # unticked: the browser holds it
    expect(page.locator(".messages")).not_to_contain_text("submitted.")
    lock.check()
    page.get_by_role("button", name="Submit this week").click()
    expect(page.locator(".messages")).to_contain_text("submitted.")
    expect(page.locator("#current-figures")).to_contain_text("Submitted")
    shot("week-submitted")
    session = LabellingSession.objects.get(worker=world.worker_a, notes="ranking batch 7")
    assert session.duration_seconds >= 2
    assert (
        Timesheet.objects.get(worker=world.worker_a, period=session.period).status
        == TimesheetStatus.SUBMITTED
    )

    # and the other contractor pages open
    for name, path in [
        ("sessions", "/sessions/"),
        ("session-new", "/sessions/new/"),
        ("import", "/sessions/import/"),
    ]:
        page.goto(site + path)
        expect(page.locator("h1")).to_be_visible()
        shot(f"contractor-{name}")


def test_manager_rejects_contractor_fixes_and_resubmits_manager_approves(page: Page, site, world, shot):
    # given contractor A's week of session_a, submitted
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=world.session_a.period)
    timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    name = world.worker_a.full_name

    # when the manager rejects with a note
    sign_in(page, site, "manager_a")
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    shot("manager-approvals")
    page.get_by_role("link", name=name).click()
    page.get_by_label("Note").fill("Tuesday afternoon is missing")
    shot("manager-timesheet")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator(".messages")).to_contain_text(f"Timesheet {timesheet.period} of {name} rejected.")
    sign_out(page)

    # and the contractor fixes a session and resubmits
    sign_in(page, site, "contractor_a")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Timesheets").click()
    expect(page.locator("tbody")).to_contain_text("Tuesday afternoon is missing")
    shot("contractor-timesheets")
    page.get_by_role("link", name=timesheet.period).click()
    expect(page.locator(".message.warning")).to_contain_text("Sent back: Tuesday afternoon is missing")
    page.get_by_role("link", name=f"Edit session {world.session_a.pk}").click()
    page.get_by_label("Tasks done").fill("31")
    page.get_by_label("Notes").fill("Tuesday added")
    shot("contractor-session-edit")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text(f"Session {world.session_a.pk} saved.")
    page.get_by_role("button", name="Resubmit").click()
    expect(page.locator(".messages")).to_contain_text("submitted.")
    shot("contractor-resubmitted")
    sign_out(page)

    # then the manager approves
    sign_in(page, site, "manager_a")
    page.get_by_role("link", name=name).click()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".messages")).to_contain_text(f"Timesheet {timesheet.period} of {name} approved.")
    shot("manager-approved")
    timesheet.refresh_from_db()
    assert timesheet.status == TimesheetStatus.APPROVED
    assert list(timesheet.events.values_list("to_status", flat=True)) == [
        "submitted",
        "rejected",
        "submitted",
        "approved",
    ]


def test_finance_invoices_a_period_downloads_pdf_and_xlsx_and_sees_the_chart(page: Page, site, world, shot):
    # given an approved week
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=world.session_a.period)
    timesheet = timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="approve")
    period = timesheet.period

    # and a close of the period half done (a real worker would be filling it in)
    close = Job.objects.create(
        kind="close_period",
        params={"period": period},
        params_key=f'{{"period":"{period}"}}',
        status=JobStatus.RUNNING,
        total_chunks=2,
        done_chunks=1,
        created_by=world.finance,
    )

    # when finance opens the period, the close's bar moves as the job does
    sign_in(page, site, "finance")
    page.goto(f"{site}/finance/?period={period}")
    expect(page.get_by_test_id("count-approved")).to_have_text("1")
    expect(page.locator(f"#job-bar-{close.pk}")).to_have_attribute("value", "50")
    shot("finance-overview")
    Job.objects.filter(pk=close.pk).update(done_chunks=2, status=JobStatus.DONE)
    expect(page.locator(f"#job-{close.pk}").get_by_test_id("job-status")).to_have_text("Done")
    expect(page.locator(f"#job-bar-{close.pk}")).to_have_attribute("value", "100")

    # and finance starts the invoicing of the period
    page.get_by_role("button", name=f"Invoice approved timesheets of {period}").click()

    # then the progress bar follows the job to the end
    invoicing = Job.objects.get(kind="issue_invoices")
    expect(page.locator(f"#job-{invoicing.pk}").get_by_test_id("job-status")).to_have_text(
        "Done", timeout=10_000
    )
    expect(page.locator(f"#job-bar-{invoicing.pk}")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("count-invoiced")).to_have_text("1")
    shot("finance-invoiced")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Payout CSV of {period}").click()
    assert Invoice.objects.get(timesheet=timesheet).number in download.value.path().read_text()

    # and the invoice, rates and adjustments pages open
    page.get_by_role("link", name=f"Invoices of {period}").click()
    number = Invoice.objects.get(timesheet=timesheet).number
    page.get_by_role("link", name=number, exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(number))).to_be_visible()
    shot("finance-invoice")
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Download PDF").click()
    assert pdf.value.suggested_filename == f"{number}.pdf"
    assert pdf.value.path().read_bytes().startswith(b"%PDF")

    # and the pay report draws its charts and exports an XLSX file
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_label("From week").fill(period)
    page.get_by_label("To week").fill(period)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#chart-period-hours")).to_be_visible()
    labels = page.evaluate("Chart.getChart(document.getElementById('chart-period-hours')).data.labels")
    assert labels == [period]
    assert page.evaluate("document.getElementById('chart-project-hours').height") > 0
    page.get_by_label("Format").select_option("xlsx")
    page.get_by_role("button", name="Export").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Done", timeout=10_000)
    shot("finance-reports")
    with page.expect_download() as xlsx:
        page.get_by_role("link", name="Download XLSX").click()
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    assert xlsx.value.path().read_bytes().startswith(b"PK")  # a zip: the XLSX container
    for name, path in [
        ("rates", "/rates/"),
        ("adjustments", "/adjustments/"),
        ("timesheets", "/timesheets/"),
    ]:
        page.goto(site + path)
        expect(page.locator("h1")).to_be_visible()
        shot(f"finance-{name}")
