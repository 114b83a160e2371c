"""Invoice PDFs: rendered once with WeasyPrint, stored, and served as the same bytes ever after.

An issued invoice never changes (PAY_RULES §7), so neither does its document: the first
render is stored under MEDIA_ROOT (invoices/<number>.pdf) with its SHA-256, and every
download returns those bytes. Rendering is deterministic (the PDF's dates are the issue
date, no random identifier), so rendering again gives the same bytes on the same fonts and
WeasyPrint version. The PDF shows no status: paid or void is the API's to say, not a
document frozen at issue.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from weasyprint import HTML

from core.db import locks
from payroll.models import HOURLY_KINDS, Invoice, InvoiceLine, LineKind
from payroll.money import clock_hours, decimal_hours, rate_text
from payroll.services.invoices import invoice_parties

logger = logging.getLogger(__name__)
TEMPLATE = "payroll/invoice_pdf.html"
PDF_CHUNK_SIZE = 200  # invoices per render task: ~0.1 s each, so ~20 s a task


@dataclass(frozen=True)
class DocumentLine:
    """An invoice line as printed: time both as h:mm:ss and decimal hours."""

    description: str
    duration: str
    hours: str
    rate: str
    multiplier: str
    amount: str


def invoice_render_pdf(*, invoice_id: int) -> Invoice:
    """Render and store the invoice's PDF unless it is stored already; return the invoice."""
    invoice = Invoice.objects.get(pk=invoice_id)
    if _stored(invoice):
        return invoice
    content = invoice_pdf_bytes(invoice)  # ~0.1 s: outside the row lock
    with transaction.atomic():
        invoice = locks.invoice(invoice_id)
        if _stored(invoice):
            return invoice  # a concurrent render stored it first
        _store(invoice, content)
    return invoice


def invoice_pdf(*, invoice_id: int) -> tuple[Invoice, bytes]:
    """The invoice and its stored PDF, rendered and stored first if there is none yet.

    The bytes are served only if they are the ones recorded (their SHA-256): a file under
    the same name that is not this invoice's document (damaged, or written by another
    database sharing MEDIA_ROOT, whose invoice has the same number) is rendered again.
    """
    invoice = invoice_render_pdf(invoice_id=invoice_id)
    content = _read(invoice)
    if hashlib.sha256(content).hexdigest() == invoice.pdf_sha256:
        return invoice, content
    logger.error("Invoice %s: the stored PDF is not the one recorded; rendering it again.", invoice.number)
    content = invoice_pdf_bytes(invoice)
    with transaction.atomic():
        invoice = locks.invoice(invoice_id)
        _store(invoice, content)
    return invoice, content


def _read(invoice: Invoice) -> bytes:
    with invoice.pdf.open("rb") as stored:
        return stored.read()


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    """Render the invoice as an A4 PDF (pure: nothing is stored)."""
    html = render_to_string(TEMPLATE, _context(invoice))
    return HTML(string=html).write_pdf()


def _stored(invoice: Invoice) -> bool:
    """Whether the invoice has a PDF and its file is there (a lost file is rendered again)."""
    name = invoice.pdf.name
    return invoice.pdf.storage.exists(name) if name else False


def _store(invoice: Invoice, content: bytes) -> None:
    """Save under invoices/<number>.pdf (replacing an orphan of a rolled-back render)."""
    digest = hashlib.sha256(content).hexdigest()
    if invoice.pdf_sha256 and invoice.pdf_sha256 != digest:  # its file was lost; fonts changed since
        logger.warning("Invoice %s re-rendered with different bytes (file was missing).", invoice.number)
    name = invoice.pdf.field.generate_filename(invoice, f"{invoice.number}.pdf")
    if invoice.pdf.storage.exists(name):
        invoice.pdf.storage.delete(name)
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(content), save=False)
    invoice.pdf_sha256 = digest
    invoice.save(update_fields=["pdf", "pdf_sha256"])


def _context(invoice: Invoice) -> dict[str, Any]:
    # Invoices issued before the snapshots existed show the parties as they are now.
    parties = invoice_parties(invoice.worker) if not (invoice.company and invoice.contractor) else {}
    contractor = invoice.contractor or parties["contractor"]
    first_day, last_day = _period_days(invoice, ZoneInfo(contractor["time_zone"]))
    return {
        "invoice": invoice,
        "company": invoice.company or parties["company"],
        "contractor": contractor,
        "first_day": first_day,
        "last_day": last_day,
        "lines": [_document_line(line) for line in invoice.lines.order_by("position")],
        "tax_percent": f"{(invoice.tax_rate * 100).normalize():f}",
    }


RATE_UNITS: dict[str, str] = {LineKind.TASKS: "/task", LineKind.TOP_UP: "/h floor"}


def _document_line(line: InvoiceLine) -> DocumentLine:
    """A line of the PDF; a tasks line shows its rate per task, a top-up its floor per hour."""
    timed = line.kind in HOURLY_KINDS
    per = RATE_UNITS.get(line.kind, "")
    return DocumentLine(
        description=line.description,
        duration=clock_hours(line.seconds) if timed else "",
        hours=f"{decimal_hours(line.seconds):f}" if timed else "",
        rate=f"{rate_text(line.hourly_rate)}{per}" if line.hourly_rate is not None else "",
        multiplier=f"{line.multiplier:f}" if line.multiplier is not None else "",
        amount=f"{line.amount:f}",
    )


def _period_days(invoice: Invoice, zone: ZoneInfo) -> tuple[date, date]:
    """The period's first and last local day in the contractor's zone."""
    timesheet = invoice.timesheet
    last_day = timesheet.period_end.astimezone(zone).date() - timedelta(days=1)
    return timesheet.period_start.astimezone(zone).date(), last_day
