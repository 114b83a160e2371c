"""Web pages of rates: the list, adding or correcting one, removing one entered by mistake."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from core.errors import DomainError
from payroll.forms import RateForm
from payroll.selectors.rates import rates_visible_to
from payroll.services import rates as rate_services
from trainers.models import Role
from trainers.selectors import projects_visible_to, workers_visible_to
from trainers.web import (
    actor,
    paginate,
    parse_id,
    query_without_page,
    refusal_message,
    refusals_shown,
    role_required,
)


@role_required(Role.FINANCE, Role.ADMIN)
def rate_list(request: HttpRequest) -> HttpResponse:
    """Every rate, newest first, optionally for one worker; and the form to add one."""
    rows = rates_visible_to(actor(request)).order_by("worker__full_name", "project_id", "-effective_from")
    worker_id = request.GET.get("worker", "")
    if (chosen_worker := parse_id(worker_id)) is not None:
        rows = rows.filter(worker_id=chosen_worker)
    context = {
        "nav": "rates",
        "page": paginate(request, rows),
        "workers": workers_visible_to(actor(request)),
        "worker_id": worker_id,
        "query": query_without_page(request),
    }
    return render(request, "payroll/rates.html", context)


@role_required(Role.FINANCE, Role.ADMIN)
def rate_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a rate, or correct one (its worker never changes)."""
    rate = get_object_or_404(rates_visible_to(actor(request)), pk=pk) if pk else None
    initial = (
        {f: getattr(rate, f) for f in ("worker", "project", "hourly_rate", "currency", "effective_from")}
        if rate
        else {}
    )
    form = RateForm(
        request.POST or None,
        initial=initial,
        workers=workers_visible_to(actor(request)),
        projects=projects_visible_to(actor(request)),
    )
    if request.method == "POST" and form.is_valid():
        with refusals_shown(request, form):
            if rate is None:
                rate = rate_services.rate_create(actor=actor(request), fields=form.cleaned_data)
                messages.success(request, f"Rate added: {rate}.")
            else:
                rate = rate_services.rate_update(actor=actor(request), rate=rate, changes=form.cleaned_data)
                messages.success(request, f"Rate saved: {rate}.")
            return redirect(f"{reverse('payroll:rates')}?worker={rate.worker_id}")
    return render(request, "payroll/rate_form.html", {"nav": "rates", "form": form, "rate": rate})


@role_required(Role.FINANCE, Role.ADMIN)
def rate_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, then remove a rate entered by mistake (its history is kept)."""
    rate = get_object_or_404(rates_visible_to(actor(request)), pk=pk)
    if request.method == "POST":
        try:
            rate_services.rate_delete(actor=actor(request), rate=rate)
        except DomainError as error:
            refusal_message(request, error)
        else:
            messages.success(request, f"Rate removed: {rate}.")
        return redirect("payroll:rates")
    return render(request, "payroll/rate_delete.html", {"nav": "rates", "rate": rate})
