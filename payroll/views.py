"""Web pages of pay: timesheets and approval, adjustments, the period close, invoices, rates.

Thin like the API views: reads through the role-scoped selectors (so another person's
timesheet or invoice is a 404), writes through the services, whose refusals are shown in
the API's words.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError, InvalidInput
from core.periods import iso_week_key
from payroll.forms import (
    AdjustmentForm,
    ExportForm,
    InvoiceFilterForm,
    InvoicePayForm,
    InvoiceVoidForm,
    NoteForm,
    PeriodForm,
    RateForm,
    ReportForm,
    TimesheetFilterForm,
)
from payroll.models import UNFINISHED_JOB_STATUSES, Invoice, Timesheet, TimesheetStatus
from payroll.money import decimal_hours
from payroll.selectors import overview
from payroll.selectors.invoices import invoices_visible_to
from payroll.selectors.jobs import jobs_visible_to
from payroll.selectors.rates import rates_visible_to
from payroll.selectors.reports import EXPORT_JOB_KIND, pay_report
from payroll.selectors.timesheets import (
    adjustments_visible_to,
    timesheet_figures,
    timesheets_figures,
    timesheets_visible_to,
)
from payroll.services import rates as rate_services
from payroll.services.adjustments import adjustment_create
from payroll.services.exports import export_start
from payroll.services.invoice_payments import invoice_pay, invoice_void
from payroll.services.jobs import job_start, period_job_params
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from trainers.models import Role
from trainers.selectors import projects_visible_to, sessions_visible_to, worker_of, workers_visible_to
from trainers.web import (
    actor,
    back,
    field_errors,
    form_errors_from,
    paginate,
    parse_id,
    query_without_page,
    refusal_message,
    role_required,
)

CONTRACTOR, MANAGER, FINANCE, ADMIN = Role.CONTRACTOR, Role.MANAGER, Role.FINANCE, Role.ADMIN
ALL_ROLES = (CONTRACTOR, MANAGER, FINANCE, ADMIN)
PAST_TENSE = {"submit": "submitted", "approve": "approved", "reject": "rejected", "reopen": "reopened"}
JOB_NAMES = {"close_period": "Close", "issue_invoices": "Invoicing", EXPORT_JOB_KIND: "Export"}


# Timesheets ------------------------------------------------------------------------------


@role_required(CONTRACTOR)
def current_figures(request: HttpRequest) -> HttpResponse:
    """The contractor's timesheet of this week: hours and pay per project (an htmx fragment)."""
    worker = worker_of(actor(request))
    if worker is None:
        raise Http404("You have no worker profile, so you have no timesheets.")
    timesheet, _ = timesheet_get_or_create(worker=worker, period=iso_week_key(timezone.now(), worker.zone))
    context = {"timesheet": timesheet, "figures": timesheet_figures(timesheet), "compact": True}
    return render(request, "payroll/partials/figures.html", context)


@role_required(*ALL_ROLES)
def timesheet_list(request: HttpRequest) -> HttpResponse:
    """Timesheets the user may see: a contractor's own, a manager's teams', everyone's for finance."""
    form = TimesheetFilterForm(request.GET or None)
    rows = timesheets_visible_to(actor(request)).order_by("-period_start", "worker__full_name", "id")
    if form.is_valid():
        if form.cleaned_data["period"]:
            rows = rows.filter(period=form.cleaned_data["period"])
        if form.cleaned_data["status"]:
            rows = rows.filter(status=form.cleaned_data["status"])
    page = paginate(request, rows)
    figures = timesheets_figures(list(page))
    context = {
        "nav": "timesheets",
        "form": form,
        "page": page,
        "rows": [(timesheet, figures[timesheet.pk]) for timesheet in page],
        "query": query_without_page(request),
    }
    return render(request, "payroll/timesheets.html", context)


@role_required(*ALL_ROLES)
def timesheet_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A timesheet with its lines, problems, sessions, history and the actions the role may take."""
    timesheet = get_object_or_404(timesheets_visible_to(actor(request)), pk=pk)
    sessions = (
        sessions_visible_to(actor(request))
        .filter(worker=timesheet.worker, started_at__lt=timesheet.period_end)  # every session the
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=timesheet.period_start))  # lines count
        .order_by("started_at")
    )
    context = {
        "nav": "approvals" if actor(request).role == MANAGER else "timesheets",
        "timesheet": timesheet,
        "figures": timesheet_figures(timesheet),
        "sessions": sessions,
        "events": timesheet.events.select_related("actor"),
        "note_form": NoteForm(),
        "can": _allowed_transitions(request, timesheet),
    }
    return render(request, "payroll/timesheet.html", context)


@role_required(*ALL_ROLES)
@require_POST
def timesheet_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Submit, approve, reject or reopen: the state machine's service decides who may."""
    timesheet = get_object_or_404(timesheets_visible_to(actor(request)), pk=pk)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if not form.is_valid():
        messages.error(request, field_errors(form, "note"))
        return back(request, reverse("payroll:timesheet", args=[pk]))
    try:
        timesheet = timesheet_transition(actor=actor(request), timesheet=timesheet, action=action, note=note)
    except DomainError as error:
        refusal_message(request, error)
    else:
        who = timesheet.worker.full_name
        messages.success(request, f"Timesheet {timesheet.period} of {who} {PAST_TENSE[action]}.")
    return back(request, reverse("payroll:timesheet", args=[pk]))


@role_required(MANAGER, ADMIN)
def approvals(request: HttpRequest) -> HttpResponse:
    """Submitted timesheets of the manager's teams: hours, total and problems at a glance."""
    rows = overview.approval_queue(actor(request))
    return render(request, "payroll/approvals.html", {"nav": "approvals", "rows": rows})


@role_required(MANAGER, ADMIN)
@require_POST
def approve_many(request: HttpRequest) -> HttpResponse:
    """Approve the chosen timesheets one by one (each its own transition and event)."""
    visible = timesheets_visible_to(actor(request))
    ids = [pk for pk in map(parse_id, request.POST.getlist("timesheet")) if pk is not None]
    chosen = list(visible.filter(pk__in=ids).order_by("period_start", "id"))
    figures = timesheets_figures(chosen)
    approved = 0
    for timesheet in chosen:
        if figures[timesheet.pk].problems:  # the page offers only problem-free ones together
            messages.error(
                request,
                f"{timesheet.worker.full_name} {timesheet.period}: has problems to look at; "
                "open it to approve it on its own.",
            )
            continue
        try:
            timesheet_transition(actor=actor(request), timesheet=timesheet, action="approve")
            approved += 1
        except DomainError as error:
            messages.error(request, f"{timesheet.worker.full_name} {timesheet.period}: {_words(error)}")
    if approved or not chosen:
        messages.success(request, f"Approved {approved} timesheet{'s' if approved != 1 else ''}.")
    return redirect("payroll:approvals")


# Adjustments -----------------------------------------------------------------------------


@role_required(MANAGER, FINANCE, ADMIN)
def adjustments(request: HttpRequest) -> HttpResponse:
    """Corrections after approval, and a form to add one (paid in the next open period)."""
    workers = workers_visible_to(actor(request)).filter(is_active=True).exclude(user=actor(request))
    form = AdjustmentForm(request.POST or None, workers=workers)
    if request.method == "POST" and form.is_valid():
        try:
            made = adjustment_create(actor=actor(request), **form.cleaned_data)
        except InvalidInput as error:
            form_errors_from(form, error)
        except DomainError as error:
            refusal_message(request, error)
        else:
            messages.success(
                request,
                f"Adjustment of {made.amount} {made.currency} for {made.worker} "
                f"lands in {made.applies_to_period}.",
            )
            return redirect("payroll:adjustments")
    page = paginate(request, adjustments_visible_to(actor(request)).order_by("-created_at", "-id"))
    return render(request, "payroll/adjustments.html", {"nav": "adjustments", "form": form, "page": page})


# Finance: periods, jobs ------------------------------------------------------------------


@role_required(FINANCE, ADMIN)
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


@role_required(FINANCE, ADMIN)
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


# Invoices --------------------------------------------------------------------------------


@role_required(CONTRACTOR, FINANCE, ADMIN)
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


@role_required(CONTRACTOR, FINANCE, ADMIN)
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


@role_required(FINANCE, ADMIN)
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


# Rates -----------------------------------------------------------------------------------


@role_required(FINANCE, ADMIN)
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


@role_required(FINANCE, ADMIN)
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
        try:
            if rate is None:
                rate = rate_services.rate_create(actor=actor(request), fields=form.cleaned_data)
                messages.success(request, f"Rate added: {rate}.")
            else:
                rate = rate_services.rate_update(actor=actor(request), rate=rate, changes=form.cleaned_data)
                messages.success(request, f"Rate saved: {rate}.")
        except InvalidInput as error:
            form_errors_from(form, error)
        except DomainError as error:
            refusal_message(request, error)
        else:
            return redirect(f"{reverse('payroll:rates')}?worker={rate.worker_id}")
    return render(request, "payroll/rate_form.html", {"nav": "rates", "form": form, "rate": rate})


@role_required(FINANCE, ADMIN)
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


# Helpers ---------------------------------------------------------------------------------


def _last_week() -> str:
    """The most recent finished week (in UTC): the one finance usually closes."""
    return iso_week_key(timezone.now() - timedelta(days=7), ZoneInfo("UTC"))


def _allowed_transitions(request: HttpRequest, timesheet: Timesheet) -> dict[str, bool]:
    """Which buttons to offer; the service still checks (these only hide useless ones)."""
    user = actor(request)
    own = timesheet.worker.user_id == user.pk
    status = timesheet.status
    deciders = (MANAGER, ADMIN)
    return {
        "submit": own and status in (TimesheetStatus.OPEN, TimesheetStatus.REJECTED),
        "decide": not own and user.role in deciders and status == TimesheetStatus.SUBMITTED,
        "reopen": user.role in (FINANCE, ADMIN) and status == TimesheetStatus.APPROVED,
    }


def _words(error: DomainError) -> str:
    if isinstance(error, InvalidInput):
        return " ".join(str(reason) for reasons in error.errors.values() for reason in reasons)
    return getattr(error, "message", str(error))


# Pay reports and exports -----------------------------------------------------------------

CHARTS = (("period", "per week"), ("project", "per project"), ("team", "per team"))
REPORT_WEEKS = 8  # the default range: the last eight finished weeks


@role_required(MANAGER, FINANCE, ADMIN)
def pay_reports(request: HttpRequest) -> HttpResponse:
    """Hours and amount per week, project and team, as charts and tables (managers: own teams)."""
    form = ReportForm(request.GET or _default_report_range())
    charts: list[dict[str, Any]] = []
    if form.is_valid():
        params = {name: value for name, value in form.cleaned_data.items() if value}
        try:
            for group_by, title in CHARTS:
                report = pay_report(user=actor(request), group_by=group_by, **params)
                charts.append(_chart(group_by, title, report.rows))
        except InvalidInput as error:
            form_errors_from(form, error)
    context = {
        "nav": "reports",
        "form": form,
        "charts": charts,
        "export_form": ExportForm(
            initial={**{name: form.data.get(name, "") for name in ReportForm.base_fields}, "format": "xlsx"}
        ),
        "job": _export_job(request),
    }
    return render(request, "payroll/reports.html", context)


@role_required(FINANCE, ADMIN)
@require_POST
def export_report(request: HttpRequest) -> HttpResponse:
    """Queue a CSV or XLSX export of the pay report; the page then follows the job."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        for field in form.errors:
            messages.error(request, f"{field}: {field_errors(form, field)}")
        return redirect("payroll:reports")
    data = dict(form.cleaned_data)
    file_format = data.pop("format")
    params = {name: value for name, value in data.items() if value}
    try:
        job, created = export_start(
            actor=actor(request), report="pay", params=params, file_format=file_format
        )
    except DomainError as error:
        refusal_message(request, error)
        return redirect("payroll:reports")
    started = "started" if created else "is already running"
    messages.info(request, f"Export of the pay report as {file_format.upper()} {started} (job {job.pk}).")
    query = QueryDict(mutable=True)
    query.update({**{k: v for k, v in params.items() if k != "group_by"}, "job": str(job.pk)})
    return redirect(f"{reverse('payroll:reports')}?{query.urlencode()}")


def _default_report_range() -> dict[str, str]:
    last = timezone.now() - timedelta(days=7)
    first = last - timedelta(weeks=REPORT_WEEKS - 1)
    utc = ZoneInfo("UTC")
    return {"period_from": iso_week_key(first, utc), "period_to": iso_week_key(last, utc)}


def _chart(group_by: str, title: str, rows: list[Any]) -> dict[str, Any]:
    """A chart's data: hours per group (all currencies) and amounts per currency, as strings."""
    # Groups by key, not by name: two clients' projects may share a name.
    labels: dict[Any, str] = {}
    seconds: dict[Any, int] = defaultdict(int)
    amounts: dict[str, dict[Any, Decimal]] = {}
    for row in rows:
        labels.setdefault(row.key, str(row.key) if group_by == "period" else (row.name or "No team"))
        seconds[row.key] += row.seconds
        by_key = amounts.setdefault(row.currency, {})
        by_key[row.key] = by_key.get(row.key, Decimal("0.00")) + row.amount
    data = {
        "labels": list(labels.values()),
        "hours": [str(decimal_hours(seconds[key])) for key in labels],
        "amounts": {
            currency: [str(by_key.get(key, Decimal("0.00"))) for key in labels]
            for currency, by_key in sorted(amounts.items())
        },
    }
    chart_id = f"chart-{group_by}"
    return {
        "id": chart_id,
        "data_id": f"{chart_id}-data",
        "group_by": group_by,
        "title": title,
        "rows": rows,
        "data": data,
    }


def _export_job(request: HttpRequest) -> Any:
    job_id = parse_id(request.GET.get("job", ""))
    if job_id is None or actor(request).role not in (FINANCE, ADMIN):
        return None
    return jobs_visible_to(actor(request)).filter(kind=EXPORT_JOB_KIND, pk=job_id).first()
