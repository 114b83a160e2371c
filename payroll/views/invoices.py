"""Web pages of invoices: the list, one invoice, and marking it paid or void."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError
from payroll.forms import InvoiceFilterForm, InvoicePayForm, InvoiceVoidForm
from payroll.models import Invoice
from payroll.selectors.invoices import invoices_visible_to
from payroll.services.invoice_payments import invoice_pay, invoice_void
from trainers.models import Role
from trainers.selectors import workers_visible_to
from trainers.web import actor, paginate, query_without_page, refusal_message, role_required


@role_required(Role.CONTRACTOR, Role.FINANCE, Role.ADMIN)
def invoice_list(request: HttpRequest) -> HttpResponse:
    """Invoices the user may see, filtered by period, status and (for finance) worker."""
    form = InvoiceFilterForm(request.GET or None, workers=workers_visible_to(actor(request)))
    rows = invoices_visible_to(actor(request)).order_by("-year", "-sequence")
    if form.is_valid():
        for name in ("period", "status", "worker"):
            if form.cleaned_data[name]:
                rows = rows.filter(**{name: form.cleaned_data[name]})
    context = {
        "nav": "invoices",
        "form": form,
        "page": paginate(request, rows),
        "query": query_without_page(request),
        "period": form.cleaned_data.get("period") if form.is_valid() else "",
    }
    return render(request, "payroll/invoices.html", context)


@role_required(Role.CONTRACTOR, Role.FINANCE, Role.ADMIN)
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An invoice, its lines, and (for finance) the pay and void forms."""
    invoice = get_object_or_404(invoices_visible_to(actor(request)).prefetch_related("lines"), pk=pk)
    context = {
        "nav": "invoices",
        "invoice": invoice,
        "pay_form": InvoicePayForm(initial={"paid_on": timezone.now().date()}),
        "void_form": InvoiceVoidForm(),
    }
    return render(request, "payroll/invoice.html", context)


@role_required(Role.FINANCE, Role.ADMIN)
@require_POST
def invoice_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Mark an invoice paid or void; the service refuses what may not change."""
    invoice: Invoice = get_object_or_404(invoices_visible_to(actor(request)), pk=pk)
    form: Any = InvoicePayForm(request.POST) if action == "pay" else InvoiceVoidForm(request.POST)
    if not form.is_valid():
        for field, reasons in form.errors.items():
            messages.error(request, f"{form.fields[field].label or field}: {' '.join(reasons)}")
        return redirect("payroll:invoice", pk=pk)
    try:
        if action == "pay":
            invoice = invoice_pay(actor=actor(request), invoice=invoice, **form.cleaned_data)
        else:
            invoice = invoice_void(actor=actor(request), invoice=invoice, reason=form.cleaned_data["reason"])
    except DomainError as error:
        refusal_message(request, error)
    else:
        messages.success(request, f"Invoice {invoice.number} marked {invoice.status}.")
    return redirect("payroll:invoice", pk=pk)
