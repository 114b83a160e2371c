"""Web pages of finance's periods: the overview, starting a close or invoicing, job progress."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.periods import iso_week_key
from payroll.forms import PeriodForm
from payroll.models import UNFINISHED_JOB_STATUSES
from payroll.selectors import overview
from payroll.selectors.jobs import jobs_visible_to
from payroll.selectors.reports import EXPORT_JOB_KIND
from payroll.services.jobs import job_start, period_job_params
from trainers.models import ALL_ROLES, Role
from trainers.web import actor, field_errors, role_required

JOB_NAMES = {"close_period": "Close", "issue_invoices": "Invoicing", EXPORT_JOB_KIND: "Export"}


@role_required(Role.FINANCE, Role.ADMIN)
def period_overview(request: HttpRequest) -> HttpResponse:
    """A period at a glance, with the close and invoicing buttons and their jobs' progress."""
    form = PeriodForm(request.GET or {"period": _last_week()})
    period = form.cleaned_data["period"] if form.is_valid() else _last_week()
    context = {
        "nav": "overview",
        "form": form,
        "period": period,
        "overview": overview.period_overview(actor(request), period),
        "jobs": overview.period_jobs(actor(request), period)[:4],
        "periods": overview.known_periods(actor(request)),
    }
    return render(request, "payroll/overview.html", context)


@role_required(Role.FINANCE, Role.ADMIN)
@require_POST
def start_job(request: HttpRequest, kind: str) -> HttpResponse:
    """Start the close or the invoicing of a period (or find the one already running)."""
    form = PeriodForm(request.POST)
    if not form.is_valid():
        messages.error(request, field_errors(form, "period"))
        return redirect("payroll:overview")
    period = form.cleaned_data["period"]
    job, created = job_start(kind=kind, params=period_job_params(period), actor=actor(request))
    started = "started" if created else "is already running"
    messages.info(request, f"{JOB_NAMES[kind]} of {period} {started} (job {job.pk}).")
    return redirect(f"{reverse('payroll:overview')}?period={period}")


@role_required(*ALL_ROLES)
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's progress bar; htmx polls it every second until the job has finished."""
    job = get_object_or_404(jobs_visible_to(actor(request)), pk=pk)
    response = render(request, "payroll/partials/job.html", {"job": job})
    if request.htmx and job.status not in UNFINISHED_JOB_STATUSES:  # type: ignore[attr-defined]
        response["HX-Refresh"] = "true"  # it finished while being watched: show the new counts
    return response


def _last_week() -> str:
    """The most recent finished week (in UTC): the one finance usually closes."""
    return iso_week_key(timezone.now() - timedelta(days=7), ZoneInfo("UTC"))
