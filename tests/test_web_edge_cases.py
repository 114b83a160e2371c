"""Edge cases of the web pages the view tests do not reach: other people's ids on every
route, CSRF, methods, redirects off site, garbage input, escaping, two-team managers, and
the htmx and sign-in paths a stale browser takes."""

from datetime import UTC, date, datetime

import pytest
from django.test import Client
from django.urls import reverse

from payroll.models import Adjustment, Invoice, InvoiceStatus, Job, Rate, Timesheet, TimesheetStatus
from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import ProjectFactory, RateFactory, SessionFactory, TeamFactory, WorkerFactory
from trainers.models import LabellingSession, Project, Team, Worker

SCRIPT = "<script>alert(1)</script>"
PASSWORD = "correct-horse-battery"


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)  # django-axes: login() would need a request
    return client


def messages_on(response) -> str:
    """The text of the messages block (where refusals without a form field land)."""
    page = response.content.decode()
    start = page.find('id="messages"')
    return page[start : page.find("</div>", start)]


def submit_week(worker, user, session) -> Timesheet:
    """Price the worker's week of `session` and submit it (entered in time: no late-entry flag)."""
    RateFactory(worker=worker)
    LabellingSession.objects.filter(pk=session.pk).update(
        created_at=session.ended_at, updated_at=session.ended_at
    )
    timesheet, _ = timesheet_get_or_create(worker=worker, period=session.period)
    return timesheet_transition(actor=user, timesheet=timesheet, action="submit")


@pytest.fixture
def submitted(world) -> Timesheet:
    """Contractor A's week of session_a, submitted to manager A."""
    return submit_week(world.worker_a, world.contractor_a, world.session_a)


@pytest.fixture
def invoice(world, submitted) -> Invoice:
    approved = timesheet_transition(actor=world.manager_a, timesheet=submitted, action="approve")
    return invoice_issue(timesheet=approved, actor=world.finance)[0]


@pytest.fixture
def export_job(world) -> Job:
    """A finished export of finance's (its file is not needed: nobody else may even find it)."""
    return Job.objects.create(
        kind="export_report",
        params={"report": "pay", "params": {}, "format": "csv"},
        params_key="export-x",
        created_by=world.finance,
        status="done",
    )


# Other people's objects ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "method", "route", "data"),
    [
        ("contractor_a2", "post", "trainers:timer-stop", {"task_count": "1"}),
        ("contractor_b", "post", "trainers:session-delete", {}),
        ("contractor_b", "post", "trainers:session-edit", {"notes": "mine now"}),
        ("contractor_a2", "post", "submit", {}),
        ("contractor_b", "get", "timesheet", None),
        ("manager_b", "post", "reject", {"note": "not yours"}),
        ("contractor_a2", "get", "invoice", None),
        ("contractor_b", "get", "invoice-pdf", None),
        ("manager_a", "get", "export-download", None),
    ],
)
def test_another_persons_object_is_not_found_on_every_route(
    world, invoice, export_job, who, method, route, data
):
    """docs/architecture.md: rows come from the scoped selectors, so another person's object is a 404."""
    # given contractor A's session, timesheet (invoiced), invoice and finance's export
    ids = {
        "trainers:timer-stop": ("trainers:timer-stop", [world.session_a.pk]),
        "trainers:session-delete": ("trainers:session-delete", [world.session_a.pk]),
        "trainers:session-edit": ("trainers:session-edit", [world.session_a.pk]),
        "submit": ("payroll:timesheet-action", [invoice.timesheet_id, "submit"]),
        "timesheet": ("payroll:timesheet", [invoice.timesheet_id]),
        "reject": ("payroll:timesheet-action", [invoice.timesheet_id, "reject"]),
        "invoice": ("payroll:invoice", [invoice.pk]),
        "invoice-pdf": ("invoice-pdf", [invoice.pk]),
        "export-download": ("export-download", [export_job.pk]),
    }
    name, args = ids[route]
    client = signed_in(world.user(who))
    # when
    response = getattr(client, method)(reverse(name, args=args), *([data] if data is not None else []))
    # then
    assert response.status_code == 404
    assert LabellingSession.objects.filter(pk=world.session_a.pk, notes="").exists()
    assert Timesheet.objects.get(pk=invoice.timesheet_id).status == TimesheetStatus.INVOICED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("contractor_a", "/approvals/approve/"),
        ("contractor_a", "/finance/close_period/start/"),
        ("contractor_a", "/reports/export/"),
        ("contractor_a", "/rates/new/"),
        ("manager_a", "/finance/issue_invoices/start/"),
        ("manager_a", "/invoices/{invoice}/void/"),
        ("manager_a", "/rates/{rate}/delete/"),
        ("finance", "/timer/start/"),
        ("finance", "/approvals/approve/"),
        ("admin", "/sessions/{session}/delete/"),
    ],
)
def test_a_post_from_the_wrong_role_is_refused_and_changes_nothing(world, invoice, who, url):
    """docs/architecture.md "Web pages": the navigation shows what a role may do; POSTs of
    other roles are a 403."""
    # given
    rate = Rate.objects.get(worker=world.worker_a)
    target = url.format(invoice=invoice.pk, rate=rate.pk, session=world.session_a.pk)
    form = {"period": invoice.period, "timesheet": [str(invoice.timesheet_id)], "reason": "x"}
    # when
    response = signed_in(world.user(who)).post(target, {**form, "project": world.project_a.pk})
    # then
    assert response.status_code == 403
    assert not Job.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.ISSUED
    assert Rate.objects.filter(pk=rate.pk).exists()
    assert LabellingSession.objects.filter(pk=world.session_a.pk).exists()
    assert not LabellingSession.objects.filter(ended_at__isnull=True).exists()


# Methods and CSRF ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("contractor_a", "/timer/start/"),
        ("contractor_a", "/timer/{session}/stop/"),
        ("contractor_a", "/timesheets/{timesheet}/submit/"),
        ("manager_a", "/timesheets/{timesheet}/approve/"),
        ("manager_a", "/approvals/approve/"),
        ("finance", "/finance/close_period/start/"),
        ("finance", "/invoices/{invoice}/pay/"),
        ("finance", "/reports/export/"),
        ("contractor_a", "/sign-out/"),
    ],
)
def test_a_get_on_a_post_only_route_is_405_and_changes_nothing(world, invoice, who, url):
    """A link or prefetch must never act: the action routes answer GET with 405."""
    # given
    target = url.format(session=world.session_a.pk, timesheet=invoice.timesheet_id, invoice=invoice.pk)
    # when
    response = signed_in(world.user(who)).get(target)
    # then
    assert response.status_code == 405
    assert not Job.objects.exists() and not LabellingSession.objects.filter(ended_at__isnull=True).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "url", "data"),
    [
        ("contractor_a", "/timer/start/", {"project": "{project}"}),
        ("contractor_a", "/sessions/{session}/delete/", {}),
        ("contractor_a", "/sign-out/", {}),
        ("manager_a", "/timesheets/{timesheet}/approve/", {}),
        ("manager_a", "/approvals/approve/", {"timesheet": "{timesheet}"}),
        ("manager_a", "/adjustments/", {"worker": "{worker}", "amount": "5.00", "currency": "USD"}),
        ("finance", "/finance/close_period/start/", {"period": "2026-W45"}),
        ("finance", "/rates/{rate}/delete/", {}),
        (None, "/sign-in/", {"username": "contractor_a", "password": PASSWORD}),
    ],
)
def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(world, submitted, who, url, data):
    """Every form posts with {% csrf_token %}: a forged cross-site POST is a 403 and writes nothing."""
    # given a browser that enforces CSRF like a real one
    rate = Rate.objects.get(worker=world.worker_a)
    values = {
        "project": world.project_a.pk,
        "session": world.session_a.pk,
        "timesheet": submitted.pk,
        "worker": world.worker_a.pk,
        "rate": rate.pk,
    }
    client = Client(enforce_csrf_checks=True)
    if who:
        client.force_login(world.user(who))
    form = {key: str(value).format(**values) for key, value in data.items()}
    # when
    response = client.post(url.format(**values), form)
    # then
    assert response.status_code == 403
    assert Timesheet.objects.get(pk=submitted.pk).status == TimesheetStatus.SUBMITTED
    assert LabellingSession.objects.filter(pk=world.session_a.pk).exists()
    assert not LabellingSession.objects.filter(ended_at__isnull=True).exists()
    assert not Adjustment.objects.exists() and not Job.objects.exists()
    assert Rate.objects.filter(pk=rate.pk).exists()
    if who:  # still signed in: the forged sign-out did nothing
        assert client.get("/timesheets/").status_code == 200


# Redirects -------------------------------------------------------------------------------

OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "https:evil.example",
    " https://evil.example",
    "http://testserver@evil.example/",
    "javascript:alert(1)",
]


@pytest.mark.django_db
@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_sends_anyone_off_site(world, client, target):
    """?next= keeps people on Fairhour: an outside address goes to the start page."""
    # when
    response = client.post(
        reverse("trainers:sign-in"), {"username": "contractor_a", "password": PASSWORD, "next": target}
    )
    again = client.get(reverse("trainers:sign-in"), {"next": target})  # already signed in
    # then
    assert (response.status_code, response["Location"]) == (302, "/")
    assert (again.status_code, again["Location"]) == (302, "/")


@pytest.mark.django_db
@pytest.mark.parametrize("target", OFF_SITE)
def test_actions_never_send_anyone_off_site(world, submitted, target):
    """trainers.web.back: a posted next that leaves the site is ignored after an action."""
    # given
    manager, contractor = signed_in(world.manager_a), signed_in(world.contractor_a)
    session = SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=datetime(2026, 11, 16, 15, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 16, 16, 0, tzinfo=UTC),
    )
    # when
    decided = manager.post(
        reverse("payroll:timesheet-action", args=[submitted.pk, "reject"]), {"note": "fix", "next": target}
    )
    deleted = contractor.post(reverse("trainers:session-delete", args=[session.pk]), {"next": target})
    # then
    assert decided["Location"] == reverse("payroll:timesheet", args=[submitted.pk])
    assert deleted["Location"] == reverse("trainers:sessions")


@pytest.mark.django_db
def test_a_deactivated_user_with_a_live_session_is_signed_out(world, invoice):
    """A person switched off by an admin loses the pages, the files and the actions at once."""
    # given a browser signed in before the account was deactivated
    client = signed_in(world.contractor_a)
    world.contractor_a.is_active = False
    world.contractor_a.save(update_fields=["is_active"])
    # when
    home = client.get("/")
    page = client.get(reverse("payroll:timesheets"))
    pdf = client.get(reverse("invoice-pdf", args=[invoice.pk]))
    start = client.post(reverse("trainers:timer-start"), {"project": world.project_a.pk})
    # then
    assert (home.status_code, home["Location"]) == (302, reverse("trainers:sign-in"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("trainers:sign-in"))
    assert pdf.status_code in (401, 403)
    assert start.status_code == 302 and not LabellingSession.objects.filter(ended_at__isnull=True).exists()


# Garbage input ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "url", "words"),
    [
        ("contractor_a", "/timesheets/?page=abc&period=xyz&status=bogus", "not one of the available choices"),
        ("contractor_a", "/timesheets/?page=99999999999999999999999", "Timesheets"),
        ("contractor_a", "/invoices/?page=-1&period=2026-W99&worker=abc", "is not an ISO week"),
        ("finance", "/invoices/?worker=99999999999999999999", "Invoices"),
        ("finance", "/finance/?period=%00", "Null characters are not allowed."),
        ("finance", "/finance/?period=2999-W52", "Period 2999-W52"),
        ("finance", "/rates/?worker=%00&page=0", "Rates"),
        ("manager_a", "/adjustments/?page=last", "Adjustments"),
        ("manager_a", "/reports/?period_from=2000-W01&period_to=2999-W52", "at most 106"),
        ("finance", "/reports/?status=bogus&job=abc", "This field is required."),
        ("finance", "/reports/?period_from=2026-W45&period_to=2026-W45&job=99999999999999999999", "Export"),
    ],
)
def test_garbage_query_parameters_on_list_pages_are_not_a_500(world, who, url, words):
    """API conventions carried to the pages: bad filters are explained or ignored, never a 500."""
    # when
    response = signed_in(world.user(who)).get(url)
    # then
    assert response.status_code == 200
    assert words in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("period", ["xyz", "1999-W52", "3000-W01", "2025-W53"])
def test_a_sessions_week_that_is_not_a_week_is_not_found(world, period):
    """trainers.views._period_param: a week Fairhour cannot hold is a 404, not a 500."""
    # when
    response = signed_in(world.contractor_a).get(reverse("trainers:sessions"), {"period": period})
    # then
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("period", ["2000-W01", "2999-W52"])
def test_the_first_and_last_weeks_fairhour_holds_list_and_link_their_neighbours(world, period):
    """The previous/next links of the edge weeks are computed without leaving the calendar."""
    # when
    response = signed_in(world.contractor_b).get(reverse("trainers:sessions"), {"period": period})
    # then
    assert response.status_code == 200 and f"week {period}" in response.content.decode()


SESSION = {"started_at": "2026-11-10T09:00", "ended_at": "2026-11-10T10:00", "task_count": "1"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"project": "{project_b}"}, "Select a valid choice."),
        ({"project": "99999999999999999999999"}, "Select a valid choice."),
        ({"project": "", "started_at": "", "ended_at": "", "task_count": ""}, "This field is required."),
        ({"task_count": "9" * 30}, "less than or equal to 1000000"),
        ({"notes": "n" * 100_000}, "at most 2000 characters (it has 100000)"),
        ({"notes": "a\x00b"}, "Null characters are not allowed."),
        ({"started_at": "2026-13-45T99:00"}, "Enter a valid date/time."),
        ({"started_at": "1999-12-31T23:00"}, "Must be on or after 2000-01-04."),
        ({"started_at": "2026-03-08T02:30", "ended_at": "2026-03-08T04:00"}, "02:30 does not exist"),
        ({"started_at": "2026-11-01T01:30", "ended_at": "2026-11-01T03:00"}, "01:30 happens twice"),
    ],
)
def test_bad_session_edits_reshow_the_form_and_leave_the_session_alone(world, change, words):
    """API.md: bad input re-shows the form with the message; nothing is half-written (edit, not new)."""
    # given
    session = world.session_a
    before = (session.project_id, session.started_at, session.ended_at, session.task_count, session.notes)
    form = {**SESSION, "project": world.project_a.pk, "notes": ""}
    form.update({key: value.format(project_b=world.project_b.pk) for key, value in change.items()})
    # when
    response = signed_in(world.contractor_a).post(reverse("trainers:session-edit", args=[session.pk]), form)
    # then
    assert response.status_code == 200
    assert words in response.content.decode()
    session.refresh_from_db()
    assert (
        session.project_id,
        session.started_at,
        session.ended_at,
        session.task_count,
        session.notes,
    ) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "url", "form", "words"),
    [
        (
            "finance",
            "/rates/new/",
            {"worker": "{worker}", "hourly_rate": "10", "currency": "USD", "effective_from": "9999-12-31"},
            "Must be between 2000-01-01 and 2999-12-31",
        ),
        (
            "finance",
            "/rates/new/",
            {"worker": "{worker}", "hourly_rate": "10", "currency": "USD", "effective_from": "0001-01-01"},
            "Must be between 2000-01-01 and 2999-12-31",
        ),
        (
            "finance",
            "/rates/new/",
            {
                "worker": "{worker}",
                "hourly_rate": "9" * 25,
                "currency": "USD",
                "effective_from": "2026-01-01",
            },
            "less than or equal to 100000",
        ),
        (
            "finance",
            "/rates/new/",
            {"worker": "{worker}", "project": "{project_b}", "hourly_rate": "10", "currency": "USD"}
            | {"effective_from": "2026-01-03"},
            "The worker is not assigned to this project.",
        ),
        (
            "finance",
            "/rates/new/",
            {"worker": "9" * 25, "hourly_rate": "", "currency": "\x00", "effective_from": ""},
            "Null characters are not allowed.",
        ),
        (
            "manager_b",
            "/adjustments/",
            {"worker": "{worker}", "amount": "10.00", "currency": "USD", "reason": "not my team"},
            "Select a valid choice.",
        ),
        (
            "manager_a",
            "/adjustments/",
            {"worker": "{worker}", "amount": "9" * 20, "currency": "USD", "reason": "x"},
            "less than or equal to 999999.99",
        ),
        (
            "manager_a",
            "/adjustments/",
            {"worker": "{worker}", "amount": "1.00", "currency": "USD", "reason": "r" * 100_000},
            "at most 2000 characters",
        ),
    ],
)
def test_bad_rate_and_adjustment_forms_are_reshown_and_write_nothing(world, who, url, form, words):
    """API.md: dates at the ends of the calendar, huge numbers, NUL bytes and others' ids are form errors."""
    # given
    values = {"worker": world.worker_a.pk, "project_b": world.project_b.pk}
    # when
    response = signed_in(world.user(who)).post(url, {k: v.format(**values) for k, v in form.items()})
    # then
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not Rate.objects.exists() and not Adjustment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "form", "words"),
    [
        ("pay", {"paid_on": "9999-12-31", "payment_reference": "T-1"}, "Cannot be in the future"),
        ("pay", {"paid_on": "0001-01-01", "payment_reference": "T-1"}, "Cannot be before the issue date"),
        ("pay", {"paid_on": "2026-12-01", "payment_reference": "a\x00b"}, "Null characters are not allowed."),
        ("pay", {"paid_on": "", "payment_reference": "T-1"}, "This field is required."),
        ("void", {"reason": "x" * 100_000}, "at most 2000 characters"),
        ("void", {"reason": "   "}, "Say why the invoice is void."),
    ],
)
def test_bad_pay_and_void_forms_leave_the_invoice_issued(world, invoice, action, form, words):
    """Invoices are never half-changed: a refused payment or void leaves it issued, with the reason."""
    # when
    response = signed_in(world.finance).post(
        reverse("payroll:invoice-action", args=[invoice.pk, action]), form, follow=True
    )
    # then
    assert response.status_code == 200
    assert words in messages_on(response)
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.ISSUED


@pytest.mark.django_db
@pytest.mark.parametrize(("note", "words"), [("x" * 100_000, "at most 2000"), ("x\x00", "Null characters")])
def test_a_bad_rejection_note_is_refused_and_the_timesheet_stays_submitted(world, submitted, note, words):
    """NoteForm: a huge or NUL-bearing note is a message, not a 500 or a half-made rejection."""
    # when
    response = signed_in(world.manager_a).post(
        reverse("payroll:timesheet-action", args=[submitted.pk, "reject"]), {"note": note}, follow=True
    )
    # then
    assert words in messages_on(response)
    assert Timesheet.objects.get(pk=submitted.pk).status == TimesheetStatus.SUBMITTED


# Escaping --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_names_notes_and_reasons_with_markup_are_escaped_on_every_page(world, invoice):
    """Templates autoescape and the chart data goes through json_script: no stored text runs as script."""
    # given every free text a page shows carries a script tag
    Worker.objects.filter(pk__in=[world.worker_a.pk, world.worker_a2.pk]).update(full_name="W" + SCRIPT)
    Project.objects.filter(pk=world.project_a.pk).update(name="P" + SCRIPT)
    Team.objects.filter(pk=world.team_a.pk).update(name="T" + SCRIPT)
    LabellingSession.objects.filter(worker=world.worker_a).update(notes="N" + SCRIPT)
    Adjustment.objects.create(
        worker=world.worker_a,
        amount="1.00",
        currency="USD",
        reason="R" + SCRIPT,
        applies_to_period="2026-W46",
        created_by=world.manager_a,
    )
    rejected = submit_week(world.worker_a2, world.contractor_a2, world.session_a2)
    timesheet_transition(actor=world.manager_a, timesheet=rejected, action="reject", note="J" + SCRIPT)
    rate = Rate.objects.get(worker=world.worker_a)
    reports = "/reports/?period_from=2026-W44&period_to=2026-W46"
    pages = {
        "contractor_a": [
            "/sessions/?period=2026-W45",
            f"/sessions/{world.session_a.pk}/edit/",
            f"/sessions/{world.session_a.pk}/delete/",
            f"/timesheets/{invoice.timesheet_id}/",
            f"/invoices/{invoice.pk}/",
        ],
        "contractor_a2": ["/timesheets/", f"/timesheets/{rejected.pk}/"],
        "manager_a": ["/timesheets/", f"/timesheets/{rejected.pk}/", "/adjustments/", reports],
        "finance": ["/invoices/", "/rates/", f"/rates/{rate.pk}/", f"/rates/{rate.pk}/delete/", reports],
    }
    for who, urls in pages.items():
        client = signed_in(world.user(who))
        for url in urls:
            # when
            page = client.get(url).content.decode()
            # then the text is there, escaped, and never as a tag
            assert "<script>alert" not in page, (who, url)
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "\\u003Cscript\\u003E" in page, (
                who,
                url,
            )


# Managers of two teams -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_of_two_teams_sees_both_and_not_a_third(world):
    """Scoping by team__managers: manager A also runs team C; team B stays out of every page."""
    # given submitted weeks in teams A, B and C
    team_c = TeamFactory(name="Team C", managers=[world.manager_a])
    worker_c = WorkerFactory(user__username="contractor_c", full_name="Carmen C", team=team_c)
    session_c = SessionFactory(worker=worker_c, project=ProjectFactory(name="Project C", workers=[worker_c]))
    Worker.objects.filter(pk=world.worker_b.pk).update(full_name="Bruno B")
    world.worker_b.refresh_from_db()
    for worker, session in ((world.worker_a, world.session_a), (world.worker_b, world.session_b)):
        submit_week(worker, worker.user, session)
    submit_week(worker_c, worker_c.user, session_c)
    client = signed_in(world.manager_a)
    # when
    queue = client.get(reverse("payroll:approvals")).content.decode()
    listed = client.get(reverse("payroll:timesheets")).content.decode()
    adjust = client.get(reverse("payroll:adjustments")).content.decode()
    report = client.get(reverse("payroll:reports"), {"period_from": "2026-W45", "period_to": "2026-W45"})
    # then
    for page in (queue, listed, adjust):
        assert world.worker_a.full_name in page and "Carmen C" in page
        assert "Bruno B" not in page
    teams = report.content.decode()
    assert '"labels": ["Team A", "Team C"]' in teams and "Team B" not in teams
    assert '"hours": ["2.00", "2.00"]' in teams


# Money -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_money_on_the_invoice_and_list_pages_has_two_decimals_and_its_currency(world, invoice):
    """PAY_RULES: amounts are cents; each total is shown beside its own currency."""
    # given a worker paid in EUR beside contractor A's USD invoice
    Worker.objects.filter(pk=world.worker_b.pk).update(currency="EUR")
    world.worker_b.refresh_from_db()
    RateFactory(worker=world.worker_b, hourly_rate="12.3456", effective_from=date(2026, 6, 1))
    submit_week(world.worker_b, world.contractor_b, world.session_b)
    client = signed_in(world.finance)
    # when
    detail = client.get(reverse("payroll:invoice", args=[invoice.pk])).content.decode()
    sheets = client.get(reverse("payroll:timesheets")).content.decode()
    # then 2 h at 15.00 USD; 2 h at 12.3456 EUR is 24.69 EUR (rounded once, half-up)
    assert '<td class="num">30.00 USD</td>' in detail
    assert "30.00 USD" in sheets and "24.69 EUR" in sheets


# Bugs ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "shown"), [("12.5", "12.50 USD"), ("7", "7.00 USD")])
def test_the_adjustment_message_shows_the_amount_with_two_decimals(world, typed, shown):
    """Money is shown with exactly two decimals, as the list below it and the API show it."""
    # when a manager types an amount without its cents
    form = {"worker": world.worker_a.pk, "amount": typed, "currency": "USD", "reason": "bonus"}
    response = signed_in(world.manager_a).post(reverse("payroll:adjustments"), form, follow=True)
    # then the list shows it as money, and so should the message
    assert f'<td class="num">{shown}</td>' in response.content.decode()
    assert f"Adjustment of {shown} for" in messages_on(response)


@pytest.mark.django_db
def test_a_refused_timer_start_without_htmx_says_why(world):
    """Every action on a page leaves a message; the timer form also posts without htmx (action=)."""
    # when a contractor's browser without htmx starts the timer on another contractor's project
    response = signed_in(world.contractor_a).post(
        reverse("trainers:timer-start"), {"project": world.project_b.pk}, follow=True
    )
    # then nothing runs, and the page should say why
    assert not LabellingSession.objects.filter(ended_at__isnull=True).exists()
    assert "Select a valid choice." in response.content.decode()


@pytest.mark.django_db
def test_signing_in_after_a_stale_post_does_not_end_on_a_405(world, submitted, client):
    """Anonymous -> sign in, then back to a page: a form posted after the session expired."""
    # given a browser whose session expired posts the Approve button
    url = reverse("payroll:timesheet-action", args=[submitted.pk, "approve"])
    bounced = client.post(url)
    # when the manager signs in on the page it was sent to
    response = client.post(bounced["Location"], {"username": "manager_a", "password": PASSWORD}, follow=True)
    # then they land on a page, not on "405 Method Not Allowed" (and nothing was approved)
    assert Timesheet.objects.get(pk=submitted.pk).status == TimesheetStatus.SUBMITTED
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "route"), [("get", "trainers:week-sessions"), ("post", "trainers:timer-start")]
)
def test_an_htmx_request_after_the_session_expired_sends_the_whole_page_to_sign_in(client, method, route):
    """Anonymous -> sign in, for fragments too: htmx needs HX-Redirect, not a redirect it follows."""
    # when the home page's fragment reloads (or Start is pressed) after the session expired
    response = getattr(client, method)(reverse(route), HTTP_HX_REQUEST="true")
    # then the browser should be told to load the sign-in page as a page
    assert response.get("HX-Redirect", "").startswith(reverse("trainers:sign-in"))


@pytest.mark.django_db
def test_a_bad_fold_answer_is_shown_on_the_form(world):
    """Bad input re-shows the form with the message: here the form comes back with none."""
    # given an answer to "which 01:30?" that is neither the first nor the second time
    form = {**SESSION, "project": world.project_a.pk, "started_at_fold": "7"}
    # when
    response = signed_in(world.contractor_a).post(reverse("trainers:session-new"), form)
    # then nothing is written, and the page should say what is wrong
    assert response.status_code == 200
    assert not LabellingSession.objects.filter(worker=world.worker_a, task_count=1).exists()
    assert "Select a valid choice." in response.content.decode()
