"""The pay API as each role and as *another* person: what the access matrices leave out.

The access matrices (test_api_access_matrix.py, test_api_timesheets_access.py,
test_api_invoices.py, test_api_exports.py) cover one manager per team. Here: a manager of
two teams (reports, timesheets, adjustments), export jobs watched by other people and by a
finance user who has since become a manager, ids a body may not forge, wrong JSON types and
non-object bodies on the pay writes, garbage list and page parameters, and path ids past a
bigint.
"""

from decimal import Decimal

import pytest

from payroll.models import Adjustment, Invoice, InvoiceStatus, Job, Timesheet
from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.api_helpers import assert_refused
from tests.factories import (
    ProjectFactory,
    RateFactory,
    SessionFactory,
    TeamFactory,
    UserFactory,
    WorkerFactory,
)
from tests.payroll.test_selectors_reports import W45, W46, build_figures
from trainers.models import Role, Team, Worker

pytestmark = pytest.mark.django_db

API = "/api/v1"
GROUPINGS = ("worker", "project", "team", "period")


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC."""


@pytest.fixture
def team_c(world) -> tuple[Team, Worker]:
    """Manager A also manages team C: contractor C, 2 h on Project C in W45 at 12.00/h (24.00)."""
    team = TeamFactory(name="Team C", managers=[world.manager_a])
    worker = WorkerFactory(user__username="contractor_c", team=team)
    SessionFactory(worker=worker, project=ProjectFactory(name="Project C", workers=[worker]))
    RateFactory(worker=worker, hourly_rate=Decimal("12.00"))
    return team, worker


def submitted(worker: Worker) -> Timesheet:
    """The worker's W45 timesheet, submitted by its contractor."""
    timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
    return timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")


@pytest.fixture
def invoice(world) -> Invoice:
    """Contractor A's W45 invoice (2 h at 15.00), issued."""
    RateFactory(worker=world.worker_a)
    timesheet = timesheet_transition(
        actor=world.manager_a, timesheet=submitted(world.worker_a), action="approve"
    )
    return invoice_issue(timesheet=timesheet, actor=world.finance)[0]


# --- a manager of several teams ----------------------------------------------------------------


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_a_manager_of_two_teams_gets_both_teams_in_every_grouping_and_never_a_third(
    world, team_c, client_for, group_by
):
    # given the report figures (team A in USD, team B in EUR) and team C's open W45
    build_figures(world)
    timesheet_get_or_create(worker=team_c[1], period=W45)
    query = {"period_from": W45, "period_to": W46, "group_by": group_by}
    # when
    rows = client_for(world.manager_a).get(f"{API}/reports/pay/", query).json()["results"]
    # then no row of team B (the only EUR time): teams A and C, to the second and the cent
    # (A: 2 h + 1:30 at 15.00 and 5.00 adjustment; A2: 2 h at 20.00; C: 2 h at 12.00)
    assert {row["currency"] for row in rows} == {"USD"}
    assert sum(row["seconds"] for row in rows) == 12600 + 7200 + 7200
    lines = Decimal("30.00") + Decimal("22.50") + Decimal("40.00") + Decimal("24.00")
    adjustment = Decimal("0.00") if group_by == "project" else Decimal("5.00")
    assert sum(Decimal(row["amount"]) for row in rows) == lines + adjustment
    if group_by == "team":
        assert [row["team"]["name"] for row in rows] == ["Team A", "Team C"]


def test_a_manager_of_two_teams_decides_and_adjusts_in_both_and_sees_no_third(world, team_c, client_for):
    # given W45 submitted by contractors A, B and C
    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_b)
    sheets = {name: submitted(worker) for name, worker in (("a", world.worker_a), ("b", world.worker_b))}
    sheets["c"] = submitted(team_c[1])
    client = client_for(world.manager_a)
    # when
    listed = client.get(f"{API}/timesheets/").json()
    approved_c = client.post(f"{API}/timesheets/{sheets['c'].pk}/approve/", {}, format="json")
    approved_b = client.post(f"{API}/timesheets/{sheets['b'].pk}/approve/", {}, format="json")
    adjusted_c = client.post(
        f"{API}/adjustments/",
        {"worker": team_c[1].pk, "amount": "2.50", "currency": "USD", "reason": "Bonus."},
        format="json",
    )
    adjusted_b = client.post(
        f"{API}/adjustments/",
        {"worker": world.worker_b.pk, "amount": "2.50", "currency": "USD", "reason": "Bonus."},
        format="json",
    )
    # then
    assert sorted(row["id"] for row in listed["results"]) == sorted([sheets["a"].pk, sheets["c"].pk])
    assert (approved_c.status_code, approved_b.status_code) == (200, 404)
    assert Timesheet.objects.get(pk=sheets["b"].pk).status == "submitted"
    assert (adjusted_c.status_code, adjusted_b.status_code) == (201, 400)
    assert list(Adjustment.objects.values_list("worker_id", flat=True)) == [team_c[1].pk]


# --- export jobs seen by other people ----------------------------------------------------------


@pytest.fixture
def export_job(world, client_for, django_capture_on_commit_callbacks, settings, tmp_path) -> int:
    """Finance's finished CSV export of the report figures, stored under a temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    build_figures(world)
    body = {
        "report": "pay",
        "params": {"period_from": W45, "period_to": W46, "group_by": "worker"},
        "format": "csv",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.finance).post(f"{API}/exports/", body, format="json")
    assert response.status_code == 202, response.content
    return response.json()["job"]


@pytest.mark.parametrize(
    ("caller", "expected"),
    [("contractor_a", 404), ("contractor_b", 404), ("manager_a", 404), ("finance2", 200), ("admin", 200)],
)
def test_an_export_jobs_result_and_link_are_hidden_from_contractors_and_managers(
    world, export_job, client_for, caller, expected
):
    # given
    user = UserFactory(username="finance2", role=Role.FINANCE) if caller == "finance2" else world.user(caller)
    # when
    response = client_for(user).get(f"{API}/jobs/{export_job}/")
    # then
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["result"]["url"] == f"/api/v1/exports/{export_job}/download/"
    else:
        assert set(response.json()) == {"detail"}  # nothing of the job, its result or its link


def test_a_finance_user_made_manager_can_no_longer_download_their_export(world, export_job, client_for):
    # given the finance user who asked for the export is now a manager
    world.finance.role = Role.MANAGER
    world.finance.save()
    # when
    response = client_for(world.finance).get(f"{API}/exports/{export_job}/download/")
    # then the role at download time decides, not the one at export time
    assert response.status_code == 404


# --- ids a body may not forge ------------------------------------------------------------------


def test_an_adjustment_body_cannot_choose_its_period_creator_or_id(world, client_for):
    # when manager A names another period, creator and id beside the fields they may set
    body = {
        "worker": world.worker_a.pk,
        "amount": "5.00",
        "currency": "USD",
        "reason": "Bonus.",
        "applies_to_period": "2020-W01",
        "created_by": world.finance.pk,
        "created_at": "2020-01-01T00:00:00Z",
        "id": 424242,
    }
    response = client_for(world.manager_a).post(f"{API}/adjustments/", body, format="json")
    # then they are ignored: the next open period, the caller, a fresh id
    assert response.status_code == 201, response.content
    stored = Adjustment.objects.get()
    assert (stored.applies_to_period, stored.created_by, stored.pk != 424242) == (
        "2026-W47",
        world.manager_a,
        True,
    )


def test_paying_an_invoice_cannot_change_its_figures_or_status(world, invoice, client_for):
    # when finance sends figures beside the payment
    body = {
        "paid_on": "2026-11-20",
        "payment_reference": "SEPA-1",
        "total": "0.01",
        "subtotal": "0.01",
        "status": "void",
        "number": "FH-1999-000001",
    }
    response = client_for(world.finance).post(f"{API}/invoices/{invoice.pk}/pay/", body, format="json")
    # then only the payment is recorded
    assert response.status_code == 200, response.content
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.status, stored.total, stored.number) == (
        InvoiceStatus.PAID,
        Decimal("30.00"),
        invoice.number,
    )


# --- wrong JSON types and non-object bodies ------------------------------------------------------

WRONG_TYPES = [True, [], {}, [1], {"a": 1}]


@pytest.mark.parametrize("field", ["worker", "amount", "currency", "reason"])
@pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
def test_an_adjustment_with_a_wrong_json_type_is_a_400_naming_the_field(world, client_for, field, value):
    # given
    good = {"worker": world.worker_a.pk, "amount": "5.00", "currency": "USD", "reason": "Bonus."}
    # when
    response = client_for(world.manager_a).post(f"{API}/adjustments/", {**good, field: value}, format="json")
    # then
    assert_refused(response, 400, field)
    assert not Adjustment.objects.exists()


@pytest.mark.parametrize(("verb", "caller"), [("approve", "manager_a"), ("reject", "manager_a")])
@pytest.mark.parametrize("value", [*WRONG_TYPES, None, "a\x00b"], ids=repr)
def test_a_decision_note_of_a_wrong_type_is_a_400_and_the_timesheet_stays_submitted(
    world, client_for, verb, caller, value
):
    # given
    RateFactory(worker=world.worker_a)
    timesheet = submitted(world.worker_a)
    # when
    response = client_for(world.user(caller)).post(
        f"{API}/timesheets/{timesheet.pk}/{verb}/", {"note": value}, format="json"
    )
    # then
    assert_refused(response, 400, "note")
    stored = Timesheet.objects.get(pk=timesheet.pk)
    assert (stored.status, stored.events.count()) == ("submitted", 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"paid_on": 20261120, "payment_reference": "SEPA-1"}, "paid_on"),
        ({"paid_on": ["2026-11-20"], "payment_reference": "SEPA-1"}, "paid_on"),
        ({"paid_on": "2026-11-20T00:00:00Z", "payment_reference": "SEPA-1"}, "paid_on"),
        ({"paid_on": "0001-01-01", "payment_reference": "SEPA-1"}, "paid_on"),
        ({"paid_on": "9999-12-31", "payment_reference": "SEPA-1"}, "paid_on"),
        ({"paid_on": "2026-11-20", "payment_reference": ["SEPA-1"]}, "payment_reference"),
        ({"paid_on": "2026-11-20", "payment_reference": "SEPA\x00"}, "payment_reference"),
    ],
    ids=repr,
)
def test_a_payment_of_a_wrong_type_or_date_is_a_400_and_the_invoice_stays_issued(
    world, invoice, client_for, body, field
):
    # when
    response = client_for(world.finance).post(f"{API}/invoices/{invoice.pk}/pay/", body, format="json")
    # then
    assert_refused(response, 400, field)
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.ISSUED


@pytest.mark.parametrize("raw", [b"null", b"[]", b'"2026-W45"', b"[{}]"])
@pytest.mark.parametrize(
    "path", ["payroll/close/", "payroll/invoice/", "exports/", "adjustments/", "timesheets/"]
)
def test_a_json_body_that_is_not_an_object_is_a_400_and_writes_nothing(world, client_for, path, raw):
    # when
    response = client_for(world.admin).generic("POST", f"{API}/{path}", raw, content_type="application/json")
    # then
    assert_refused(response, 400, "non_field_errors")
    assert (Job.objects.count(), Adjustment.objects.count(), Timesheet.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize(("verb", "caller"), [("approve", "manager_a"), ("reject", "manager_a")])
@pytest.mark.parametrize("raw", [b"null", b"[]", b'"looks fine"'])
def test_a_decision_body_that_is_not_an_object_is_a_400(world, client_for, verb, caller, raw):
    # given
    RateFactory(worker=world.worker_a)
    timesheet = submitted(world.worker_a)
    # when
    response = client_for(world.user(caller)).generic(
        "POST", f"{API}/timesheets/{timesheet.pk}/{verb}/", raw, content_type="application/json"
    )
    # then
    assert_refused(response, 400, "non_field_errors")
    assert Timesheet.objects.get(pk=timesheet.pk).status == "submitted"


# --- list parameters and path ids ----------------------------------------------------------------

PAY_LISTS = ("timesheets/", "adjustments/", "rates/", "invoices/")


@pytest.mark.parametrize("path", PAY_LISTS)
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("worker=abc", "worker"),
        ("worker=-1", "worker"),
        ("worker=1.5", "worker"),
        ("worker=99999999999999999999", "worker"),
        ("worker=%00", "worker"),
        ("page_size=1e3", "page_size"),
        ("page_size=-5", "page_size"),
    ],
)
def test_garbage_list_parameters_are_a_400_naming_the_parameter(world, client_for, path, query, field):
    assert_refused(client_for(world.finance).get(f"{API}/{path}?{query}"), 400, field)


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("timesheets/", "period=2026-W99", "period"),
        ("timesheets/", "period=2026-W45%00", "period"),
        ("invoices/", "period=2026-W99", "period"),
        ("adjustments/", "applies_to_period=2026-W99", "applies_to_period"),
        ("adjustments/", "applies_to_period=26-W45", "applies_to_period"),
    ],
)
def test_garbage_period_filters_are_a_400_naming_the_filter(world, client_for, path, query, field):
    assert_refused(client_for(world.finance).get(f"{API}/{path}?{query}"), 400, field)


@pytest.mark.parametrize("path", ["timesheets/", "invoices/", "sessions/"])
@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "%EF%BC%91", "1e3", "00"])
def test_a_page_that_is_not_a_positive_whole_number_is_a_400_naming_page(world, client_for, path, page):
    assert_refused(client_for(world.finance).get(f"{API}/{path}?page={page}"), 400, "page")


@pytest.mark.parametrize("path", ["timesheets/", "invoices/"])
def test_a_page_number_past_the_last_page_is_a_404_and_last_is_the_last_page(world, client_for, path):
    finance = client_for(world.finance)
    assert finance.get(f"{API}/{path}?page=1").status_code == 200
    assert finance.get(f"{API}/{path}?page=last").status_code == 200
    assert finance.get(f"{API}/{path}?page=999").status_code == 404
    assert finance.get(f"{API}/{path}?page={'9' * 5000}").status_code == 404


@pytest.mark.parametrize(
    ("caller", "path"),
    [
        ("finance", "exports/99999999999999999999/download/"),
        ("finance", "exports/9223372036854775808/download/"),
        ("finance", "exports/0/download/"),
        ("admin", "jobs/0/"),
        ("contractor_a", "invoices/999999999999999999/pdf/"),
    ],
)
def test_ids_past_a_bigint_or_zero_are_a_404_not_a_500(world, client_for, caller, path):
    assert client_for(world.user(caller)).get(f"{API}/{path}").status_code == 404


@pytest.mark.parametrize(
    ("caller", "path", "body"),
    [
        ("finance", "invoices/999999999999999999/pay/", {"paid_on": "2026-11-20", "payment_reference": "r"}),
        ("finance", "invoices/999999999999999999/void/", {"reason": "x"}),
        ("admin", "timesheets/999999999999999999/approve/", {"note": "x"}),
        ("finance", "timesheets/999999999999999999/reopen/", {"note": "x"}),
    ],
)
def test_a_verb_on_a_missing_object_is_a_404(world, client_for, caller, path, body):
    assert client_for(world.user(caller)).post(f"{API}/{path}", body, format="json").status_code == 404
