"""invoices/ and payroll/invoice/: who sees and settles which invoice, and the issuing flow.

Invoices are pay data (API.md): a contractor reads their own, finance and admins all of
them, managers none (403). Only finance and admins queue invoicing or mark an invoice
paid or void; an issued invoice is never edited or deleted (405).
"""

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from payroll.models import Invoice, InvoiceCounter, Job
from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
W45 = "2026-W45"
READERS_ALL = ("finance", "admin")


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC."""


def approve(world, worker, manager) -> Any:
    """`worker`'s W45 timesheet (2 h at 15.00 = 30.00), submitted and approved."""
    timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
    timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
    return timesheet_transition(actor=manager, timesheet=timesheet, action="approve")


@pytest.fixture
def rates(world) -> None:
    for worker in (world.worker_a, world.worker_b):
        RateFactory(worker=worker, hourly_rate=Decimal("15.00"))


@pytest.fixture
def invoices(world, rates) -> dict[str, Invoice]:
    """inv_a and inv_b: contractor A's and B's W45 invoices, issued."""
    inv_a, _ = invoice_issue(timesheet=approve(world, world.worker_a, world.manager_a), actor=world.finance)
    inv_b, _ = invoice_issue(timesheet=approve(world, world.worker_b, world.manager_b), actor=world.finance)
    return {"inv_a": inv_a, "inv_b": inv_b}


def post(client, path: str, body: dict | None = None) -> Any:
    return client.post(f"{API}/{path}", body or {}, format="json")


@pytest.fixture
def issue(client_for, world, django_capture_on_commit_callbacks):
    """POST payroll/invoice/ and run the queued job (Celery is eager in tests)."""

    def run(period: str = W45, caller: str = "finance") -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return post(client_for(world.user(caller)), "payroll/invoice/", {"period": period})

    return run


# --- who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "expected", "visible"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 200, ["inv_a"]),
        ("contractor_b", 200, ["inv_b"]),
        ("contractor_a2", 200, []),
        ("manager_a", 403, None),
        ("manager_b", 403, None),
        ("finance", 200, ["inv_a", "inv_b"]),
        ("admin", 200, ["inv_a", "inv_b"]),
    ],
)
def test_invoice_list_access(world, invoices, client_for, caller, expected, visible):
    # when
    response = client_for(world.user(caller)).get(f"{API}/invoices/")
    # then
    assert response.status_code == expected
    if visible is not None:
        assert sorted(row["id"] for row in response.data["results"]) == sorted(
            invoices[name].pk for name in visible
        )


@pytest.mark.parametrize(
    ("caller", "codes"),
    [
        ("anonymous", (401, 401)),
        ("contractor_a", (200, 404)),
        ("contractor_b", (404, 200)),
        ("contractor_a2", (404, 404)),
        ("manager_a", (403, 403)),
        ("manager_b", (403, 403)),
        ("finance", (200, 200)),
        ("admin", (200, 200)),
    ],
)
def test_invoice_detail_access(world, invoices, client_for, caller, codes):
    client = client_for(world.user(caller))
    responses = [client.get(f"{API}/invoices/{invoices[name].pk}/") for name in ("inv_a", "inv_b")]
    assert tuple(r.status_code for r in responses) == codes


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 403),
        ("contractor_b", 403),
        ("manager_a", 403),
        ("manager_b", 403),
        ("finance", 200),
        ("admin", 200),
    ],
)
@pytest.mark.parametrize(
    ("verb", "body", "status"),
    [
        ("pay", {"paid_on": "2026-11-21", "payment_reference": "SEPA-1"}, "paid"),
        ("void", {"reason": "Wrong rate."}, "void"),
    ],
)
def test_pay_and_void_access(world, invoices, client_for, caller, expected, verb, body, status):
    # when
    response = post(client_for(world.user(caller)), f"invoices/{invoices['inv_a'].pk}/{verb}/", body)
    # then
    assert response.status_code == expected
    invoices["inv_a"].refresh_from_db()
    assert invoices["inv_a"].status == (status if expected == 200 else "issued")


def test_a_contractor_cannot_settle_another_workers_invoice_even_by_guessing(world, invoices, client_for):
    response = post(client_for(world.contractor_a), f"invoices/{invoices['inv_b'].pk}/void/", {"reason": "x"})
    assert response.status_code == 403  # the role never settles invoices: refused before any lookup


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 403),
        ("manager_a", 403),
        ("finance", 202),
        ("admin", 202),
    ],
)
def test_payroll_invoice_access(world, rates, issue, caller, expected):
    # given
    approve(world, world.worker_a, world.manager_a)
    # when
    response = issue(caller=caller)
    # then
    assert response.status_code == expected
    assert Job.objects.count() == (expected == 202)
    assert Invoice.objects.count() == (expected == 202)
    if expected == 202:
        job = Job.objects.get()
        assert response.data == {"job": job.pk}
        assert (job.kind, job.params, job.created_by, job.status) == (
            "issue_invoices",
            {"period": W45},
            world.user(caller),
            "done",
        )


@pytest.mark.parametrize(("caller", "expected"), [("finance", 405), ("contractor_a", 403)])
def test_payroll_invoice_is_post_only(world, client_for, caller, expected):
    assert client_for(world.user(caller)).get(f"{API}/payroll/invoice/").status_code == expected


# --- the flow -----------------------------------------------------------------------------------


def test_approve_then_invoice_lists_a_numbered_invoice_with_its_lines(
    world, rates, issue, client_for, settings
):
    # given
    settings.COMPANY_NAME, settings.COMPANY_ADDRESS = "Acme Payroll Ltd", "1 Example Street\nLondon"
    settings.COMPANY_TAX_ID, settings.COMPANY_EMAIL = "GB123", "billing@acme.example"
    timesheet = approve(world, world.worker_a, world.manager_a)
    # when
    response = issue()
    # then
    assert response.status_code == 202
    job = Job.objects.get(pk=response.data["job"])
    assert (job.status, job.result) == ("done", {"timesheets": 1, "issued": 1})
    listing = client_for(world.contractor_a).get(f"{API}/invoices/")
    assert listing.status_code == 200
    [row] = listing.data["results"]
    invoice = Invoice.objects.get()
    assert row == {
        "id": invoice.pk,
        "number": "FH-2026-000001",
        "worker": world.worker_a.pk,
        "period": W45,
        "issued_on": "2026-11-20",
        "due_on": "2026-12-04",
        "lines": [
            {
                "position": 1,
                "description": "Project A (regular) 2:00:00 = 2.00 h",
                "kind": "regular",
                "seconds": 7200,
                "duration": "2:00:00",
                "hours": "2.00",
                "units": 0,
                "hourly_rate": "15.00",
                "multiplier": "1.00",
                "amount": "30.00",
            }
        ],
        "subtotal": "30.00",
        "tax_rate": "0.0000",
        "tax": "0.00",
        "total": "30.00",
        "currency": "USD",
        "status": "issued",
        "paid_on": None,
        "payment_reference": "",
        "paid_by": None,
        "paid_recorded_at": None,
        "void_reason": "",
        "voided_by": None,
        "voided_at": None,
        "company": {
            "name": "Acme Payroll Ltd",
            "address": "1 Example Street\nLondon",
            "tax_id": "GB123",
            "email": "billing@acme.example",
        },
        "contractor": {
            "worker": world.worker_a.pk,
            "full_name": "Worker contractor_a",
            "email": "contractor_a@example.com",
            "time_zone": "America/Chicago",
            "team": "Team A",
            "currency": "USD",
        },
        "pdf_url": f"http://testserver/api/v1/invoices/{invoice.pk}/pdf/",
    }
    timesheet.refresh_from_db()
    assert timesheet.status == "invoiced"


def test_invoicing_a_period_twice_issues_nothing_new(world, rates, issue):
    # given
    approve(world, world.worker_a, world.manager_a)
    first = issue()
    assert first.status_code == 202
    # when
    again = issue()
    # then
    assert again.status_code == 202
    assert Job.objects.get(pk=first.data["job"]).result["issued"] == 1
    second = Job.objects.get(pk=again.data["job"])
    assert (second.status, second.result.get("issued", 0)) == ("done", 0)
    assert Invoice.objects.count() == 1
    assert InvoiceCounter.objects.get(year=2026).last_sequence == 1
    assert Job.objects.count() == 2  # the first finished, so a new job ran and found nothing


def test_the_list_filters_by_worker_period_and_status(world, invoices, client_for):
    finance = client_for(world.finance)
    post(finance, f"invoices/{invoices['inv_b'].pk}/void/", {"reason": "Duplicate."})

    def ids(query: str) -> list[int]:
        response = finance.get(f"{API}/invoices/?{query}")
        assert response.status_code == 200, response.data
        return sorted(row["id"] for row in response.data["results"])

    assert ids(f"worker={world.worker_a.pk}") == [invoices["inv_a"].pk]
    assert ids("period=2026-W45") == sorted(i.pk for i in invoices.values())
    assert ids("period=2026-W44") == []
    assert ids("status=void") == [invoices["inv_b"].pk]
    assert ids("status=issued") == [invoices["inv_a"].pk]


@pytest.mark.parametrize("query", ["worker=abc", "worker=0", "period=W45", "status=bogus"])
def test_the_list_refuses_bad_filters(world, invoices, client_for, query):
    assert client_for(world.finance).get(f"{API}/invoices/?{query}").status_code == 400


# --- paying and voiding -------------------------------------------------------------------------


def test_pay_once_then_again_is_a_conflict(world, invoices, client_for):
    # given
    finance = client_for(world.finance)
    url = f"invoices/{invoices['inv_a'].pk}/pay/"
    # when
    first = post(finance, url, {"paid_on": "2026-11-21", "payment_reference": "SEPA-1"})
    again = post(finance, url, {"paid_on": "2026-11-22", "payment_reference": "SEPA-2"})
    # then
    assert first.status_code == 200
    assert (first.data["status"], first.data["paid_on"], first.data["payment_reference"]) == (
        "paid",
        "2026-11-21",
        "SEPA-1",
    )
    assert again.status_code == 409
    invoice = Invoice.objects.get(pk=invoices["inv_a"].pk)
    assert (invoice.paid_on.isoformat(), invoice.payment_reference) == ("2026-11-21", "SEPA-1")


def test_who_paid_or_voided_an_invoice_is_stored_and_shown_to_finance_not_to_the_contractor(
    world, invoices, client_for, frozen_now
):
    # when finance pays A's invoice and an admin voids B's
    paid = invoices["inv_a"].pk
    voided = invoices["inv_b"].pk
    post(
        client_for(world.finance),
        f"invoices/{paid}/pay/",
        {"paid_on": "2026-11-20", "payment_reference": "S-1"},
    )
    post(client_for(world.admin), f"invoices/{voided}/void/", {"reason": "Wrong rate."})
    # then both are stored with who and when
    stored = Invoice.objects.in_bulk([paid, voided])
    assert (stored[paid].paid_by, stored[paid].paid_recorded_at) == (world.finance, frozen_now)
    assert (stored[voided].voided_by, stored[voided].voided_at) == (world.admin, frozen_now)
    # and finance reads who; the contractor reads when, not who
    as_finance = client_for(world.finance).get(f"{API}/invoices/{paid}/").json()
    as_contractor = client_for(world.contractor_a).get(f"{API}/invoices/{paid}/").json()
    assert (as_finance["paid_by"], as_finance["paid_recorded_at"]) == ("finance", "2026-11-20T12:00:00Z")
    assert (as_contractor["paid_by"], as_contractor["paid_recorded_at"]) == (None, "2026-11-20T12:00:00Z")
    voided_as_finance = client_for(world.finance).get(f"{API}/invoices/{voided}/").json()
    assert (voided_as_finance["voided_by"], voided_as_finance["voided_at"]) == (
        "admin",
        "2026-11-20T12:00:00Z",
    )


def test_the_invoice_page_says_who_recorded_the_payment_to_finance_only(world, invoices, client_for):
    # given
    pk = invoices["inv_a"].pk
    post(
        client_for(world.finance),
        f"invoices/{pk}/pay/",
        {"paid_on": "2026-11-20", "payment_reference": "S-1"},
    )
    pages = {}
    for who in ("finance", "contractor_a"):
        browser = Client()
        browser.force_login(world.user(who))
        pages[who] = browser.get(reverse("payroll:invoice", args=[pk])).content.decode()
    # then
    assert "Paid 2026-11-20 (S-1), recorded by finance on 2026-11-20" in pages["finance"]
    assert "Paid 2026-11-20 (S-1)." in pages["contractor_a"] and "recorded by" not in pages["contractor_a"]


def test_a_paid_invoice_cannot_be_voided(world, invoices, client_for):
    finance = client_for(world.finance)
    pk = invoices["inv_a"].pk
    post(finance, f"invoices/{pk}/pay/", {"paid_on": "2026-11-21", "payment_reference": "SEPA-1"})
    response = post(finance, f"invoices/{pk}/void/", {"reason": "Changed my mind."})
    assert response.status_code == 409
    assert Invoice.objects.get(pk=pk).status == "paid"


def test_void_keeps_the_number_and_then_cannot_be_paid(world, invoices, client_for):
    finance = client_for(world.finance)
    pk = invoices["inv_a"].pk
    voided = post(finance, f"invoices/{pk}/void/", {"reason": "Wrong rate."})
    assert voided.status_code == 200
    assert (voided.data["status"], voided.data["void_reason"], voided.data["number"]) == (
        "void",
        "Wrong rate.",
        invoices["inv_a"].number,
    )
    paid = post(finance, f"invoices/{pk}/pay/", {"paid_on": "2026-11-21", "payment_reference": "X"})
    assert paid.status_code == 409


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 2001}])
def test_void_needs_a_reason(world, invoices, client_for, body):
    response = post(client_for(world.finance), f"invoices/{invoices['inv_a'].pk}/void/", body)
    assert response.status_code == 400
    assert "reason" in response.data
    assert Invoice.objects.get(pk=invoices["inv_a"].pk).status == "issued"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payment_reference": "SEPA-1"}, "paid_on"),
        ({"paid_on": "", "payment_reference": "SEPA-1"}, "paid_on"),
        ({"paid_on": "yesterday", "payment_reference": "SEPA-1"}, "paid_on"),
        ({"paid_on": "2026-13-45", "payment_reference": "SEPA-1"}, "paid_on"),
        ({"paid_on": ["2026-11-21"], "payment_reference": "SEPA-1"}, "paid_on"),
        ({"paid_on": "2026-11-19", "payment_reference": "SEPA-1"}, "paid_on"),  # before issue
        ({"paid_on": "2026-11-21"}, "payment_reference"),
        ({"paid_on": "2026-11-21", "payment_reference": ""}, "payment_reference"),
        ({"paid_on": "2026-11-21", "payment_reference": "   "}, "payment_reference"),
        ({"paid_on": "2026-11-21", "payment_reference": "R" * 201}, "payment_reference"),
        ({"paid_on": "2026-11-21", "payment_reference": {"a": 1}}, "payment_reference"),
    ],
)
def test_pay_refuses_bad_bodies(world, invoices, client_for, body, field):
    response = post(client_for(world.finance), f"invoices/{invoices['inv_a'].pk}/pay/", body)
    assert response.status_code == 400
    assert field in response.data
    assert Invoice.objects.get(pk=invoices["inv_a"].pk).status == "issued"


@pytest.mark.parametrize(
    "body", [{}, {"period": ""}, {"period": "2026-W00"}, {"period": "W45"}, {"period": ["2026-W45"]}]
)
def test_payroll_invoice_refuses_bad_periods(world, client_for, body):
    response = post(client_for(world.finance), "payroll/invoice/", body)
    assert response.status_code == 400
    assert "period" in response.data
    assert not Job.objects.exists()


# --- issued invoices never change -----------------------------------------------------------------


@pytest.mark.parametrize("caller", READERS_ALL)
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_invoices_are_never_edited_or_deleted(world, invoices, client_for, caller, method):
    # given
    client = client_for(world.user(caller))
    url = f"{API}/invoices/{invoices['inv_a'].pk}/"
    # when
    response = getattr(client, method)(url, {"total": "0.00"}, format="json")
    # then
    assert response.status_code == 405
    invoice = Invoice.objects.get(pk=invoices["inv_a"].pk)
    assert (invoice.total, invoice.status) == (Decimal("30.00"), "issued")


@pytest.mark.parametrize("caller", READERS_ALL)
def test_invoices_cannot_be_created_directly(world, client_for, caller):
    response = client_for(world.user(caller)).post(f"{API}/invoices/", {"period": W45}, format="json")
    assert response.status_code == 405
    assert not Invoice.objects.exists()
