"""An issued invoice's one change (PAY_RULES §7): paid, or void while unpaid; its figures never.

The database holds the rest: triggers refuse any other change to an issued invoice
(migration 0008), and a void invoice keeps its number.
"""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from core.db import locks
from core.errors import Conflict, Forbidden, InvalidInput
from payroll.models import Invoice, InvoiceStatus
from trainers.models import Role, User


def invoice_pay(*, actor: User, invoice: Invoice, paid_on: date, payment_reference: str) -> Invoice:
    """Mark an issued invoice paid, recording who did and when; its figures never change."""
    _ensure_finance(actor)
    if not payment_reference.strip():
        raise InvalidInput({"payment_reference": ["Give the payment's reference."]})
    with transaction.atomic():
        invoice = _lock_issued(invoice, "Only issued invoices can be paid")
        if paid_on < invoice.issued_on:
            raise InvalidInput({"paid_on": [f"Cannot be before the issue date, {invoice.issued_on}."]})
        if paid_on > latest_local_today():
            raise InvalidInput({"paid_on": ["Cannot be in the future: record a payment once it is made."]})
        invoice.status, invoice.paid_on, invoice.payment_reference = (
            InvoiceStatus.PAID,
            paid_on,
            payment_reference,
        )
        invoice.paid_by, invoice.paid_recorded_at = actor, timezone.now()
        invoice.save(update_fields=["status", "paid_on", "payment_reference", "paid_by", "paid_recorded_at"])
    return invoice


def latest_local_today() -> date:
    """Today's date in the zone furthest ahead (UTC+14): no one has paid later than that."""
    return (timezone.now() + timedelta(hours=14)).date()


def invoice_void(*, actor: User, invoice: Invoice, reason: str) -> Invoice:
    """Void an unpaid invoice, recording who did and when; its number stays used, never deleted."""
    _ensure_finance(actor)
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why the invoice is void."]})
    with transaction.atomic():
        invoice = _lock_issued(invoice, "Only issued, unpaid invoices can be voided")
        invoice.status, invoice.void_reason = InvoiceStatus.VOID, reason
        invoice.voided_by, invoice.voided_at = actor, timezone.now()
        invoice.save(update_fields=["status", "void_reason", "voided_by", "voided_at"])
    return invoice


def _lock_issued(invoice: Invoice, refusal: str) -> Invoice:
    """Lock and re-read the invoice; a Conflict unless it is still issued (neither paid nor void)."""
    invoice = locks.invoice(invoice.pk)
    if invoice.status != InvoiceStatus.ISSUED:
        raise Conflict(f"{refusal}; {invoice.number} is {invoice.status}.")
    return invoice


def _ensure_finance(actor: User) -> None:
    if actor.role not in (Role.FINANCE, Role.ADMIN):
        raise Forbidden("Only finance or an admin may do this to an invoice.")
