"""invoices/{id}/pdf/: scoped exactly as invoices/, the same stored bytes on every download."""

import hashlib
from decimal import Decimal
from typing import Any

import pytest

from payroll.models import Invoice
from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"
W45 = "2026-W45"


@pytest.fixture(autouse=True)
def _now_and_storage(frozen_now, settings):
    """Fri 2026-11-20 12:00 UTC, and an empty file store per test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


@pytest.fixture
def invoice(world) -> Invoice:
    """Contractor A's W45 invoice (2 h at 15.00 = 30.00 USD), issued, its PDF not rendered yet."""
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("15.00"))
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="approve")
    return invoice_issue(timesheet=timesheet, actor=world.finance)[0]


def download(client, invoice: Invoice, **headers: Any) -> Any:
    return client.get(f"{API}/invoices/{invoice.pk}/pdf/", **headers)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 200),
        ("contractor_b", 404),
        ("contractor_a2", 404),  # same team, not theirs
        ("manager_a", 403),  # invoices are pay data: managers see none (as invoices/)
        ("finance", 200),
        ("admin", 200),
    ],
)
def test_who_may_download(world, invoice, client_for, caller, expected):
    # when
    response = download(client_for(world.user(caller)), invoice)
    # then
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="FH-2026-000001.pdf"'
        assert response.content.startswith(b"%PDF-")
    else:
        assert response["Content-Type"] == "application/json"
        assert not Invoice.objects.get(pk=invoice.pk).pdf  # a refused caller renders nothing


def test_every_download_is_the_same_stored_bytes(world, invoice, client_for):
    # when
    first = download(client_for(world.contractor_a), invoice)
    second = download(client_for(world.finance), invoice)
    # then
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.pdf.name == "invoices/FH-2026-000001.pdf"
    assert hashlib.sha256(first.content).hexdigest() == stored.pdf_sha256


def test_a_client_asking_for_a_pdf_gets_one(world, invoice, client_for):
    response = download(client_for(world.finance), invoice, HTTP_ACCEPT="application/pdf")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")


def test_an_unknown_invoice_is_404(world, client_for):
    assert client_for(world.finance).get(f"{API}/invoices/999999/pdf/").status_code == 404


def test_the_invoice_links_its_pdf_and_shows_both_parties(world, invoice, client_for):
    # when
    body = client_for(world.contractor_a).get(f"{API}/invoices/{invoice.pk}/").json()
    # then
    assert body["pdf_url"] == f"http://testserver/api/v1/invoices/{invoice.pk}/pdf/"
    assert body["contractor"]["full_name"] == "Worker contractor_a"
    assert set(body["company"]) == {"name", "address", "tax_id", "email"}


def test_the_pdf_is_get_only(world, invoice, client_for):
    response = client_for(world.finance).post(f"{API}/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 405
