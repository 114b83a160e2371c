"""The pay web pages: who may open which, 404 for other people's objects, actions and messages."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from payroll.models import (
    Adjustment,
    Invoice,
    InvoiceStatus,
    Job,
    JobStatus,
    Rate,
    Timesheet,
    TimesheetStatus,
)
from payroll.selectors.reports import PayReportRow
from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from payroll.views.reports import _chart
from tests.factories import RateFactory, SessionFactory
from trainers.models import LabellingSession, Worker

ROLES = ["contractor_a", "manager_a", "finance", "admin"]
# page -> roles that may open it (everyone else: 403)
PAGES = {
    "payroll:timesheets": {"contractor_a", "manager_a", "finance", "admin"},
    "payroll:approvals": {"manager_a", "admin"},
    "payroll:adjustments": {"manager_a", "finance", "admin"},
    "payroll:overview": {"finance", "admin"},
    "payroll:invoices": {"contractor_a", "finance", "admin"},
    "payroll:rates": {"finance", "admin"},
    "payroll:rate-new": {"finance", "admin"},
    "payroll:current-figures": {"contractor_a"},
    "payroll:reports": {"manager_a", "finance", "admin"},
}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def submitted(world) -> Timesheet:
    """Contractor A's week of session_a, priced and submitted."""
    for worker in (world.worker_a, world.worker_a2, world.worker_b):
        RateFactory(worker=worker)
    # entered during the week, so nothing is flagged as a late entry
    LabellingSession.objects.filter(pk=world.session_a.pk).update(
        created_at=world.session_a.ended_at, updated_at=world.session_a.ended_at
    )
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=world.session_a.period)
    return timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")


@pytest.fixture
def invoice(world, submitted) -> Invoice:
    approved = timesheet_transition(actor=world.manager_a, timesheet=submitted, action="approve")
    return invoice_issue(timesheet=approved, actor=world.finance)[0]


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("who", ROLES)
def test_who_may_open_which_page(world, page, who):
    # when
    response = signed_in(world.user(who)).get(reverse(page))
    # then
    assert response.status_code == (200 if who in PAGES[page] else 403)


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(PAGES))
def test_anonymous_visitors_are_sent_to_sign_in(client, page):
    # when
    response = client.get(reverse(page))
    # then
    assert response.status_code == 302 and "/sign-in/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("contractor_a", 200),
        ("manager_a", 200),
        ("finance", 200),
        ("admin", 200),
        ("contractor_a2", 404),
        ("manager_b", 404),
        ("contractor_b", 404),
    ],
)
def test_a_timesheet_is_found_only_by_those_who_may_see_it(world, submitted, who, status):
    # when
    response = signed_in(world.user(who)).get(reverse("payroll:timesheet", args=[submitted.pk]))
    # then
    assert response.status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"), [("contractor_a", 200), ("finance", 200), ("contractor_a2", 404), ("manager_a", 403)]
)
def test_an_invoice_is_found_only_by_its_contractor_and_finance(world, invoice, who, status):
    # when
    response = signed_in(world.user(who)).get(reverse("payroll:invoice", args=[invoice.pk]))
    # then
    assert response.status_code == status


@pytest.mark.django_db
def test_rejecting_without_a_note_shows_the_api_message(world, submitted):
    # when
    response = signed_in(world.manager_a).post(
        reverse("payroll:timesheet-action", args=[submitted.pk, "reject"]), {"note": " "}, follow=True
    )
    # then
    assert "A rejection needs a note saying what to fix." in response.content.decode()
    assert Timesheet.objects.get(pk=submitted.pk).status == TimesheetStatus.SUBMITTED


@pytest.mark.django_db
def test_reject_fix_resubmit_approve(world, submitted):
    # given
    manager, contractor = signed_in(world.manager_a), signed_in(world.contractor_a)
    action = lambda verb: reverse("payroll:timesheet-action", args=[submitted.pk, verb])  # noqa: E731
    # when
    rejected = manager.post(action("reject"), {"note": "Tuesday is missing"}, follow=True)
    seen = contractor.get(reverse("payroll:timesheet", args=[submitted.pk]))
    contractor.post(action("submit"))
    approved = manager.post(action("approve"), follow=True)
    # then
    assert (
        f"Timesheet {submitted.period} of {world.worker_a.full_name} rejected." in rejected.content.decode()
    )
    assert "Tuesday is missing" in seen.content.decode() and b'id="submit-timesheet"' in seen.content
    assert "approved." in approved.content.decode()
    assert Timesheet.objects.get(pk=submitted.pk).status == TimesheetStatus.APPROVED


@pytest.mark.django_db
def test_a_manager_of_another_team_cannot_decide(world, submitted):
    # when
    response = signed_in(world.manager_b).post(
        reverse("payroll:timesheet-action", args=[submitted.pk, "approve"])
    )
    # then
    assert response.status_code == 404
    assert Timesheet.objects.get(pk=submitted.pk).status == TimesheetStatus.SUBMITTED


@pytest.mark.django_db
def test_the_invoice_transition_has_no_web_route(world, submitted):
    # when finance tries to move a timesheet to invoiced without an invoice
    response = signed_in(world.finance).post(f"/timesheets/{submitted.pk}/invoice/")
    # then
    assert response.status_code == 404


@pytest.mark.django_db
def test_approval_queue_lists_problems_and_bulk_approves_the_clean_ones(world, submitted):
    # given
    client = signed_in(world.manager_a)
    # when
    queue = client.get(reverse("payroll:approvals"))
    done = client.post(reverse("payroll:approve-many"), {"timesheet": [str(submitted.pk)]}, follow=True)
    # then
    assert world.worker_a.full_name in queue.content.decode()
    assert f'name="timesheet" value="{submitted.pk}"'.encode() in queue.content
    assert "Approved 1 timesheet." in done.content.decode()
    assert Timesheet.objects.get(pk=submitted.pk).status == TimesheetStatus.APPROVED


@pytest.mark.django_db
def test_bulk_approve_skips_what_the_manager_may_not_see(world, submitted):
    # when
    signed_in(world.manager_b).post(reverse("payroll:approve-many"), {"timesheet": [str(submitted.pk)]})
    # then
    assert Timesheet.objects.get(pk=submitted.pk).status == TimesheetStatus.SUBMITTED


@pytest.mark.django_db
def test_the_adjustment_form_asks_no_currency_and_names_each_workers(world):
    # when
    page = signed_in(world.manager_a).get(reverse("payroll:adjustments")).content.decode()
    # then the worker's currency is known: shown beside their name, never typed
    assert 'name="currency"' not in page
    assert f"{world.worker_a.full_name} (USD)" in page


@pytest.mark.django_db
def test_an_adjustment_without_a_reason_is_refused_in_plain_words(world):
    # given
    form = {"worker": world.worker_a.pk, "amount": "12.50", "reason": " "}
    # when
    response = signed_in(world.manager_a).post(reverse("payroll:adjustments"), form)
    # then
    page = response.content.decode()
    assert "Say why the adjustment is made." in page
    assert 'name="reason" cols="40" rows="2" maxlength' in page and "required" in page
    assert not Adjustment.objects.exists()


@pytest.mark.django_db
def test_adjustment_is_added_in_the_workers_currency_with_a_message(world):
    # given a manager adjusting a EUR worker's pay (no currency on the form)
    Worker.objects.filter(pk=world.worker_b.pk).update(currency="EUR")
    form = {"worker": world.worker_b.pk, "amount": "12.50", "reason": "bonus"}
    # when
    response = signed_in(world.manager_b).post(reverse("payroll:adjustments"), form, follow=True)
    # then
    assert "Adjustment of 12.50 EUR for" in response.content.decode()
    assert Adjustment.objects.get().currency == "EUR"


@pytest.mark.django_db
def test_finance_closes_and_invoices_a_period_and_follows_the_jobs(
    world, submitted, django_capture_on_commit_callbacks
):
    # given
    timesheet_transition(actor=world.manager_a, timesheet=submitted, action="approve")
    client = signed_in(world.finance)
    period = submitted.period
    # when
    with django_capture_on_commit_callbacks(execute=True):  # the jobs run eagerly after commit
        closed = client.post(reverse("payroll:start-job", args=["close_period"]), {"period": period})
        invoiced = client.post(reverse("payroll:start-job", args=["issue_invoices"]), {"period": period})
    closed, invoiced = client.get(closed["Location"]), client.get(invoiced["Location"])
    job = Job.objects.get(kind="issue_invoices")
    progress = client.get(reverse("payroll:job", args=[job.pk]))
    # then
    assert f"Close of {period} started" in closed.content.decode()
    assert f"Invoicing of {period} started" in closed.content.decode()  # both messages show at once
    assert b'data-testid="count-invoiced">1<' in invoiced.content
    assert (
        job.status == JobStatus.DONE
        and b'value="100"' in progress.content
        and b"hx-trigger" not in progress.content
    )
    assert Invoice.objects.filter(timesheet=submitted).exists()


@pytest.mark.django_db
def test_a_running_job_keeps_polling(world):
    # given
    job = Job.objects.create(
        kind="close_period", params={"period": "2026-W45"}, params_key="x", created_by=world.finance
    )
    # when
    response = signed_in(world.finance).get(reverse("payroll:job", args=[job.pk]))
    # then
    assert b'hx-trigger="every 1s"' in response.content
    assert "HX-Refresh" not in response


@pytest.mark.django_db
def test_a_job_that_finishes_while_watched_reloads_the_page(world):
    # given
    job = Job.objects.create(
        kind="close_period", params={"period": "2026-W45"}, params_key="x", created_by=world.finance
    )
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
    # when htmx polls it
    response = signed_in(world.finance).get(reverse("payroll:job", args=[job.pk]), HTTP_HX_REQUEST="true")
    # then
    assert response["HX-Refresh"] == "true" and b"hx-trigger" not in response.content


@pytest.mark.django_db
def test_a_bad_period_is_refused_with_the_api_words(world):
    # when
    response = signed_in(world.finance).post(
        reverse("payroll:start-job", args=["close_period"]), {"period": "2026-W99"}, follow=True
    )
    # then
    assert "&#x27;2026-W99&#x27; is not an ISO week such as 2026-W45." in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_invoices_filter_and_pay_and_void(world, invoice):
    # given
    client = signed_in(world.finance)
    # when
    listed = client.get(reverse("payroll:invoices"), {"period": invoice.period, "status": "issued"})
    empty = client.get(reverse("payroll:invoices"), {"status": "paid"})
    early = client.post(
        reverse("payroll:invoice-action", args=[invoice.pk, "pay"]),
        {"paid_on": "2000-01-01", "payment_reference": "T-1"},
        follow=True,
    )
    paid = client.post(
        reverse("payroll:invoice-action", args=[invoice.pk, "pay"]),
        {"paid_on": invoice.issued_on.isoformat(), "payment_reference": "T-1"},
        follow=True,
    )
    void = client.post(
        reverse("payroll:invoice-action", args=[invoice.pk, "void"]), {"reason": "x"}, follow=True
    )
    # then
    assert invoice.number in listed.content.decode() and invoice.number not in empty.content.decode()
    assert f"Cannot be before the issue date, {invoice.issued_on}." in early.content.decode()
    assert f"Invoice {invoice.number} marked paid." in paid.content.decode()
    assert f"{invoice.number} is paid." in void.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID


@pytest.mark.django_db
def test_contractors_cannot_pay_invoices(world, invoice):
    # when
    response = signed_in(world.contractor_a).post(
        reverse("payroll:invoice-action", args=[invoice.pk, "pay"]),
        {"paid_on": "2026-12-01", "payment_reference": "x"},
    )
    # then
    assert response.status_code == 403


@pytest.mark.django_db
def test_rates_add_refuse_edit_delete(world):
    # given
    client = signed_in(world.finance)
    form = {
        "worker": world.worker_a.pk,
        "hourly_rate": "20.8625",
        "currency": "USD",
        "effective_from": "2026-02-01",
    }
    # when
    added = client.post(reverse("payroll:rate-new"), form, follow=True)
    clash = client.post(reverse("payroll:rate-new"), form)
    rate = Rate.objects.get(worker=world.worker_a)
    edited = client.post(
        reverse("payroll:rate-edit", args=[rate.pk]), {**form, "hourly_rate": "21"}, follow=True
    )
    deleted = client.post(reverse("payroll:rate-delete", args=[rate.pk]), follow=True)
    # then
    assert "Rate added: 20.8625 USD/h" in added.content.decode()
    assert "A rate for this worker and scope already starts on that day." in clash.content.decode()
    assert "Rate saved: 21 USD/h" in edited.content.decode()
    assert "Rate removed" in deleted.content.decode() and not Rate.objects.filter(pk=rate.pk).exists()


@pytest.mark.django_db
def test_the_current_timesheet_shows_hours_and_pay_per_project(world, frozen_now):
    # given an hour of this week's work at 15.00
    RateFactory(worker=world.worker_a, effective_from=date(2020, 1, 1))
    SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=frozen_now - timedelta(hours=1),
        ended_at=frozen_now,
    )
    # when
    response = signed_in(world.contractor_a).get(reverse("payroll:current-figures"))
    # then
    page = response.content.decode()
    assert world.project_a.name in page and "1:00:00" in page and "15.00 USD" in page
    assert 'id="submit-week"' in page


@pytest.mark.django_db
def test_reports_chart_data_per_week_project_and_team_for_a_manager(world, submitted):
    # when manager A asks for the submitted week
    period = submitted.period
    response = signed_in(world.manager_a).get(
        reverse("payroll:reports"), {"period_from": period, "period_to": period}
    )
    # then three charts carry the figures as strings (no floats), and no export for managers
    page = response.content.decode()
    for chart in ("chart-period-data", "chart-project-data", "chart-team-data"):
        assert f'id="{chart}"' in page
    assert '{"labels": ["' + period + '"], "hours": ["2.00"], "amounts": {"USD": ["30.00"]}}' in page
    assert 'id="start-export"' not in page
    # and each grouping draws hours and USD on charts of their own, its figures in plain view
    for group_by in ("period", "project", "team"):
        assert f'id="chart-{group_by}-hours"' in page and f'id="chart-{group_by}-amount-USD"' in page
    assert "<details" not in page and "<caption>Figures per week</caption>" in page


def test_the_report_chart_gives_each_currency_its_chart_and_total():
    # given a week paid in USD and EUR
    rows = [
        PayReportRow("2026-W45", "2026-W45", "EUR", 1800, Decimal("7.50"), Decimal("0.00")),
        PayReportRow("2026-W45", "2026-W45", "USD", 3600, Decimal("0.10"), Decimal("0.00")),
        PayReportRow("2026-W46", "2026-W46", "USD", 3600, Decimal("0.20"), Decimal("0.00")),
    ]
    # when
    chart = _chart("period", "per week", rows)
    # then the hours add up across currencies, the amounts never do
    assert chart["data"] == {
        "labels": ["2026-W45", "2026-W46"],
        "hours": ["1.50", "1.00"],
        "amounts": {"EUR": ["7.50", "0.00"], "USD": ["0.10", "0.20"]},
    }
    assert [(canvas["id"], canvas["currency"]) for canvas in chart["canvases"]] == [
        ("chart-period-hours", ""),
        ("chart-period-amount-EUR", "EUR"),
        ("chart-period-amount-USD", "USD"),
    ]
    assert chart["canvases"][2]["label"] == (
        "Bar chart of the amount in USD per week; the table below has the figures."
    )
    assert [(total.currency, total.hours, total.amount) for total in chart["totals"]] == [
        ("EUR", Decimal("0.50"), Decimal("7.50")),
        ("USD", Decimal("2.00"), Decimal("0.30")),
    ]


@pytest.mark.django_db
def test_reports_show_the_report_rule_when_the_range_is_backwards(world):
    # when
    response = signed_in(world.finance).get(
        reverse("payroll:reports"), {"period_from": "2026-W45", "period_to": "2026-W40"}
    )
    # then the report's rule, in the page's words
    assert "Must not be before the first week." in response.content.decode()


@pytest.mark.django_db
def test_finance_exports_the_report_and_gets_a_download_link(
    world, submitted, django_capture_on_commit_callbacks
):
    # given
    client = signed_in(world.finance)
    form = {
        "period_from": submitted.period,
        "period_to": submitted.period,
        "group_by": "worker",
        "format": "csv",
    }
    # when
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("payroll:export"), form)
    page = client.get(started["Location"]).content.decode()
    # then
    job = Job.objects.get(kind="export_report")
    assert "Export of the pay report as CSV started" in page
    assert reverse("export-download", args=[job.pk]) in page and "Download CSV" in page


@pytest.mark.django_db
def test_managers_may_not_export(world):
    # when
    response = signed_in(world.manager_a).post(
        reverse("payroll:export"),
        {"period_from": "2026-W45", "period_to": "2026-W45", "group_by": "worker", "format": "csv"},
    )
    # then
    assert response.status_code == 403 and not Job.objects.exists()


@pytest.mark.django_db
def test_the_invoice_page_links_its_pdf(world, invoice):
    # when
    response = signed_in(world.contractor_a).get(reverse("payroll:invoice", args=[invoice.pk]))
    # then
    assert reverse("invoice-pdf", args=[invoice.pk]).encode() in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["²", "٣", "1" * 40, "-1", " 1"])
def test_ids_that_are_not_plain_digits_are_ignored_not_a_500(world, submitted, raw):
    # when a bulk approval and a rate filter get ids that str.isdigit() alone would let through
    approved = signed_in(world.manager_a).post(reverse("payroll:approve-many"), {"timesheet": [raw]})
    rates = signed_in(world.finance).get(reverse("payroll:rates"), {"worker": raw})
    # then nothing breaks and nothing is approved
    assert (approved.status_code, rates.status_code) == (302, 200)
    assert Timesheet.objects.get(pk=submitted.pk).status == TimesheetStatus.SUBMITTED


@pytest.mark.django_db
def test_bulk_approve_refuses_a_timesheet_with_warnings_whatever_is_posted(world, submitted):
    # given a warning on the submitted week: more hours than the contract's weekly cap
    Worker.objects.filter(pk=world.worker_a.pk).update(weekly_hours_cap=1)
    # when a manager posts its id to the bulk approval anyway
    done = signed_in(world.manager_a).post(
        reverse("payroll:approve-many"), {"timesheet": [str(submitted.pk)]}, follow=True
    )
    # then it stays submitted and the page says why
    assert Timesheet.objects.get(pk=submitted.pk).status == TimesheetStatus.SUBMITTED
    page = done.content.decode()
    assert f"{world.worker_a.full_name} {submitted.period}: Has problems to look at first:" in page
    assert "over the contract&#x27;s weekly cap of 1.00 h. Open it to approve it on its own." in page


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["1_000", "\u0661\u0662.\u0665"])
def test_an_adjustment_amount_in_other_digits_is_refused_not_misread(world, amount):
    # when a manager types an amount Python's Decimal() would read as 1000 or 12.5
    form = {"worker": world.worker_a.pk, "amount": amount, "currency": "USD", "reason": "Bonus."}
    response = signed_in(world.manager_a).post(reverse("payroll:adjustments"), form)
    # then the form says how to write it, and no money is added
    assert "Write the number with the digits 0-9 and a dot" in response.content.decode()
    assert not Adjustment.objects.exists()


@pytest.mark.django_db
def test_the_timesheet_page_lists_a_session_that_began_the_week_before(world, submitted):
    # given a session from Sunday 22:00 before W45 to Monday 02:00 (Chicago): 2 h of it is W45's
    SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=datetime(2026, 11, 2, 4, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
    )
    # when the manager opens W45
    page = signed_in(world.manager_a).get(reverse("payroll:timesheet", args=[submitted.pk]))
    # then the session the lines count is on the page
    assert "Sun 1 Nov" in page.content.decode()  # its start, in the worker's zone


def test_the_report_chart_adds_up_groups_that_share_a_name():
    # given two clients' projects both called "Image QA"
    rows = [
        PayReportRow(1, "Image QA", "USD", 3600, Decimal("1000.00"), Decimal("0.00")),
        PayReportRow(2, "Image QA", "USD", 1800, Decimal("200.00"), Decimal("0.00")),
    ]
    # when they are charted per project
    chart = _chart("project", "Per project", rows)
    # then each keeps its own bar, hours and amount
    assert chart["data"]["labels"] == ["Image QA", "Image QA"]
    assert chart["data"]["hours"] == ["1.00", "0.50"]
    assert chart["data"]["amounts"] == {"USD": ["1000.00", "200.00"]}
