"""Invoice PDFs: rendered once, stored with their hash, the same bytes on every render.

Text is read back with pdftotext (poppler-utils) where it is installed: PDF content
streams hold glyph ids, not text, so without it the text checks are skipped (with why).
"""

import hashlib
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from payroll.models import Invoice
from payroll.services import invoice_documents
from payroll.services.invoice_documents import invoice_pdf, invoice_pdf_bytes, invoice_render_pdf
from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory

pytestmark = pytest.mark.django_db
W45 = "2026-W45"
PDFTOTEXT = shutil.which("pdftotext")


def pdf_text(content: bytes) -> str:
    """The PDF's text in reading order, or a skip when poppler's pdftotext is missing."""
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: cannot read the PDF's text")
    result = subprocess.run(  # noqa: S603 - a fixed local binary, our own bytes
        [PDFTOTEXT, "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return result.stdout.decode()


@pytest.fixture
def company(settings) -> None:
    settings.COMPANY_NAME = "Acme Payroll Ltd"
    settings.COMPANY_ADDRESS = "1 Example Street\nLondon EC1A 1AA"
    settings.COMPANY_TAX_ID = "GB123456789"
    settings.COMPANY_EMAIL = "billing@acme.example"


@pytest.fixture
def storage(settings) -> None:
    """A fresh, empty in-memory store for each test (Django resets default_storage)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


@pytest.fixture
def invoice(world, frozen_now, company, storage) -> Invoice:
    """Contractor A's W45: 2 h at 15.3333 = 30.67, tax 19 % = 5.83, total 36.50 USD."""
    world.worker_a.tax_rate = Decimal("0.1900")
    world.worker_a.save()
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("15.3333"))
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="approve")
    return invoice_issue(timesheet=timesheet, actor=world.finance)[0]


def test_the_pdf_is_an_a4_document_with_the_invoice_figures(invoice):
    # when
    content = invoice_pdf_bytes(invoice)
    # then
    assert content.startswith(b"%PDF-")
    text = " ".join(pdf_text(content).split())
    for expected in (
        "Invoice FH-2026-000001",
        "Issue date 2026-11-20",
        "Due date 2026-12-04",
        "Period 2026-W45",
        "Days 2026-11-02 to 2026-11-08",  # Monday to Sunday in the contractor's zone
        "Worker contractor_a",
        "Acme Payroll Ltd",
        "London EC1A 1AA",
        "Tax ID: GB123456789",
        "Project A (regular)",
        "2:00:00 2.00 15.3333 1.00 30.67",  # h:mm:ss, decimal hours, rate, multiplier, amount
        "Subtotal 30.67 USD",
        "Tax (19 %) 5.83 USD",
        "Total 36.50 USD",
    ):
        assert expected in text, (expected, text)


def test_rendering_is_deterministic(invoice):
    assert invoice_pdf_bytes(invoice) == invoice_pdf_bytes(Invoice.objects.get(pk=invoice.pk))


def test_fonts_are_subset_by_harfbuzz():
    """Without libharfbuzz-subset0 WeasyPrint subsets fonts with fontTools, and two renders of
    one invoice differed in a byte about one run in two: a PDF would not be stable."""
    from weasyprint.text import ffi

    assert ffi.harfbuzz_subset is not None, "install libharfbuzz-subset0 (README, 'Two commands')"
    assert ffi.harfbuzz.hb_version_atleast(4, 1, 0), "WeasyPrint uses HarfBuzz's subsetter from 4.1.0"


def test_the_documents_dates_are_the_issue_date_not_the_render_time(invoice):
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed: cannot read the PDF's metadata")
    result = subprocess.run(  # noqa: S603 - a fixed local binary, our own bytes
        [pdfinfo, "-isodates", "-"], input=invoice_pdf_bytes(invoice), capture_output=True, check=True
    )
    info = dict(line.split(":", 1) for line in result.stdout.decode().splitlines())
    assert info["CreationDate"].strip() == info["ModDate"].strip() == "2026-11-20T00:00:00Z"
    assert info["Title"].strip() == "Invoice FH-2026-000001"
    assert info["Page size"].strip().startswith("595.276 x 841.89 pts (A4)")


def test_the_first_render_stores_the_pdf_and_its_hash(invoice):
    # when
    stored = invoice_render_pdf(invoice_id=invoice.pk)
    # then
    assert stored.pdf.name == "invoices/FH-2026-000001.pdf"
    content = default_storage.open(stored.pdf.name).read()
    assert content == invoice_pdf_bytes(invoice)
    assert Invoice.objects.get(pk=invoice.pk).pdf_sha256 == hashlib.sha256(content).hexdigest()


def test_a_stored_pdf_is_never_rendered_again(invoice, monkeypatch):
    # given
    first = invoice_render_pdf(invoice_id=invoice.pk)

    def fail(_invoice):
        raise AssertionError("rendered again")

    monkeypatch.setattr(invoice_documents, "invoice_pdf_bytes", fail)
    # when
    again, content = invoice_pdf(invoice_id=invoice.pk)
    # then
    assert (again.pdf.name, again.pdf_sha256) == (first.pdf.name, first.pdf_sha256)
    assert hashlib.sha256(content).hexdigest() == first.pdf_sha256


def test_a_lost_file_is_rendered_again_to_the_same_bytes(invoice):
    # given
    first = invoice_render_pdf(invoice_id=invoice.pk)
    default_storage.delete(first.pdf.name)
    # when
    again, content = invoice_pdf(invoice_id=invoice.pk)
    # then
    assert again.pdf.name == "invoices/FH-2026-000001.pdf"
    assert again.pdf_sha256 == first.pdf_sha256 == hashlib.sha256(content).hexdigest()


def test_a_file_that_is_not_the_recorded_document_is_never_served(invoice):
    # given the stored file replaced by another document under the same name (another
    # database sharing MEDIA_ROOT issued its own FH-2026-000001, or the file was damaged)
    first = invoice_render_pdf(invoice_id=invoice.pk)
    default_storage.delete(first.pdf.name)
    default_storage.save(first.pdf.name, ContentFile(b"%PDF-1.7 someone else's invoice"))
    # when
    served, content = invoice_pdf(invoice_id=invoice.pk)
    # then this invoice's own bytes are served, and stored again
    assert hashlib.sha256(content).hexdigest() == first.pdf_sha256 == served.pdf_sha256
    assert default_storage.open(served.pdf.name).read() == content


def test_an_orphan_file_from_a_rolled_back_render_is_replaced_not_renamed(invoice):
    # given a file left under the invoice's name, but no PDF recorded on the invoice
    default_storage.save("invoices/FH-2026-000001.pdf", ContentFile(b"half a file"))
    # when
    stored = invoice_render_pdf(invoice_id=invoice.pk)
    # then
    assert stored.pdf.name == "invoices/FH-2026-000001.pdf"
    assert default_storage.open(stored.pdf.name).read().startswith(b"%PDF-")


def test_the_file_lands_under_media_root_invoices(invoice, settings, tmp_path):
    # given the production storage, on disk
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    # when
    stored = invoice_render_pdf(invoice_id=invoice.pk)
    # then
    on_disk = (tmp_path / "invoices" / "FH-2026-000001.pdf").read_bytes()
    assert hashlib.sha256(on_disk).hexdigest() == stored.pdf_sha256


def test_the_pdf_shows_the_contractor_as_at_issue(invoice, world):
    # given the worker renamed after the invoice was issued
    world.worker_a.full_name = "Renamed Later"
    world.worker_a.save()
    # when
    text = pdf_text(invoice_pdf(invoice_id=invoice.pk)[1])
    # then
    assert "Worker contractor_a" in text
    assert "Renamed Later" not in text
