"""Web pages of timesheets: the contractor's figures, lists, approval and adjustments."""

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.periods import iso_week_key
from payroll.forms import AdjustmentForm, NoteForm, TimesheetFilterForm
from payroll.models import Timesheet, TimesheetStatus
from payroll.selectors import overview
from payroll.selectors.timesheets import (
    adjustments_visible_to,
    timesheet_figures,
    timesheets_figures,
    timesheets_visible_to,
)
from payroll.services.adjustments import adjustment_create
from payroll.services.bulk_approval import timesheets_bulk_approve
from payroll.services.timesheet_transitions import not_over_words, timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from trainers.models import ALL_ROLES, Role
from trainers.selectors import sessions_visible_to, worker_of, workers_visible_to
from trainers.web import (
    actor,
    back,
    field_errors,
    paginate,
    parse_id,
    query_without_page,
    refusal_message,
    refusals_shown,
    role_required,
)

PAST_TENSE = {"submit": "submitted", "approve": "approved", "reject": "rejected", "reopen": "reopened"}


@role_required(Role.CONTRACTOR)
def current_figures(request: HttpRequest) -> HttpResponse:
    """The contractor's timesheet of this week: hours and pay per project (an htmx fragment)."""
    worker = worker_of(actor(request))
    if worker is None:
        raise Http404("You have no worker profile, so you have no timesheets.")
    timesheet, _ = timesheet_get_or_create(worker=worker, period=iso_week_key(timezone.now(), worker.zone))
    context = {
        "timesheet": timesheet,
        "figures": timesheet_figures(timesheet),
        "compact": True,
        **_submit_context(timesheet),
    }
    return render(request, "payroll/partials/figures.html", context)


def _submit_context(timesheet: Timesheet) -> dict[str, str]:
    """What the submit form says of a week not over yet (then a box to tick confirms it)."""
    return {"not_over": "" if timesheet.has_ended(timezone.now()) else not_over_words(timesheet)}


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
        "nav": "approvals" if actor(request).role == Role.MANAGER else "timesheets",
        "timesheet": timesheet,
        "figures": timesheet_figures(timesheet),
        "sessions": sessions,
        "events": timesheet.events.select_related("actor").order_by("sequence"),
        "note_form": NoteForm(),
        "can": _allowed_transitions(request, timesheet),
        **_submit_context(timesheet),
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
    confirm = request.POST.get("confirm") == "yes"  # the box under a week not over yet
    try:
        timesheet = timesheet_transition(
            actor=actor(request), timesheet=timesheet, action=action, note=note, confirm=confirm
        )
    except DomainError as error:
        refusal_message(request, error)
    else:
        who = timesheet.worker.full_name
        messages.success(request, f"Timesheet {timesheet.period} of {who} {PAST_TENSE[action]}.")
    return back(request, reverse("payroll:timesheet", args=[pk]))


@role_required(Role.MANAGER, Role.ADMIN)
def approvals(request: HttpRequest) -> HttpResponse:
    """Submitted timesheets of the manager's teams: hours, total and problems at a glance."""
    rows = overview.approval_queue(actor(request))
    return render(request, "payroll/approvals.html", {"nav": "approvals", "rows": rows})


@role_required(Role.MANAGER, Role.ADMIN)
@require_POST
def approve_many(request: HttpRequest) -> HttpResponse:
    """Approve the chosen problem-free timesheets, each on its own; say why any other was left."""
    ids = [pk for pk in map(parse_id, request.POST.getlist("timesheet")) if pk is not None]
    result = timesheets_bulk_approve(actor=actor(request), ids=ids)
    for skipped in result.skipped:
        if skipped.timesheet is not None:  # one not found was never offered: nothing to say
            who = f"{skipped.timesheet.worker.full_name} {skipped.timesheet.period}"
            messages.error(request, f"{who}: {skipped.reason} Open it to approve it on its own.")
    approved = len(result.approved)
    if approved or not ids:
        messages.success(request, f"Approved {approved} timesheet{'s' if approved != 1 else ''}.")
    return redirect("payroll:approvals")


@role_required(Role.MANAGER, Role.FINANCE, Role.ADMIN)
def adjustments(request: HttpRequest) -> HttpResponse:
    """Corrections after approval, and a form to add one (paid in the next open period)."""
    workers = workers_visible_to(actor(request)).filter(is_active=True).exclude(user=actor(request))
    form = AdjustmentForm(request.POST or None, workers=workers)
    if request.method == "POST" and form.is_valid():
        with refusals_shown(request, form):
            worker = form.cleaned_data["worker"]  # paid in their contract currency: not asked
            made = adjustment_create(actor=actor(request), currency=worker.currency, **form.cleaned_data)
            messages.success(
                request,
                f"Adjustment of {made.amount} {made.currency} for {made.worker} "
                f"lands in {made.applies_to_period}.",
            )
            return redirect("payroll:adjustments")
    page = paginate(request, adjustments_visible_to(actor(request)).order_by("-created_at", "-id"))
    return render(request, "payroll/adjustments.html", {"nav": "adjustments", "form": form, "page": page})


def _allowed_transitions(request: HttpRequest, timesheet: Timesheet) -> dict[str, bool]:
    """Which buttons to offer; the service still checks (these only hide useless ones)."""
    user = actor(request)
    own = timesheet.worker.user_id == user.pk
    status = timesheet.status
    deciders = (Role.MANAGER, Role.ADMIN)
    return {
        "submit": own and status in (TimesheetStatus.OPEN, TimesheetStatus.REJECTED),
        "decide": not own and user.role in deciders and status == TimesheetStatus.SUBMITTED,
        "reopen": user.role in (Role.FINANCE, Role.ADMIN) and status == TimesheetStatus.APPROVED,
    }
