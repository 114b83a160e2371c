"""Web pages of people and their time: sign in/out, the contractor's timer and sessions.

Thin like the API views: they read through the role-scoped selectors and write through
the session services, whose refusals they show in the same words. The current
timesheet's figures come from payroll's pages (loaded by htmx), since trainers never
imports payroll.
"""

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from core.errors import DomainError, InvalidInput
from core.periods import iso_week_key, parse_period_key, period_bounds, periods_touched
from trainers import selectors
from trainers.forms import ImportForm, SessionForm, SignInForm, TimerStartForm, TimerStopForm
from trainers.hooks import period_lock_reason
from trainers.models import LabellingSession, Role, Worker
from trainers.rules import DISCARDED_MESSAGE
from trainers.services import sessions as session_services
from trainers.services.session_import import sessions_import
from trainers.templatetags.clock import clock
from trainers.web import (
    actor,
    back,
    field_errors,
    form_errors_as_messages,
    form_errors_from,
    refusal_message,
    refusals_shown,
    role_required,
    safe_next,
    with_messages,
)

CONTRACTOR = Role.CONTRACTOR
SESSIONS_CHANGED = "sessions-changed"  # the htmx event that refreshes lists and figures


class SignInView(auth_views.LoginView):
    """Sign in (django-axes counts failures and locks a username out from one address)."""

    template_name = "trainers/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        """Sign in and say so."""
        response = super().form_valid(form)
        messages.success(self.request, f"Signed in as {form.get_user().get_username()}.")
        return response


class SignOutView(auth_views.LogoutView):
    """Sign out (POST only) and say so on the sign-in page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Sign out, then leave a message for the next page."""
        response = super().post(request, *args, **kwargs)
        messages.info(request, "Signed out.")
        return response


def home(request: HttpRequest) -> HttpResponse:
    """Each role's start page: the timer for contractors, approvals or the periods for others."""
    if not request.user.is_authenticated:
        return redirect("trainers:sign-in")
    role = actor(request).role
    if role == Role.MANAGER:
        return redirect("payroll:approvals")
    if role in (Role.FINANCE, Role.ADMIN):
        return redirect("payroll:overview")
    return contractor_home(request)


@role_required(CONTRACTOR)
def contractor_home(request: HttpRequest) -> HttpResponse:
    """The running timer, today's and this week's sessions, the current timesheet."""
    worker = _own_worker(request)
    with timezone.override(worker.zone):
        context = {
            "nav": "home",
            "worker": worker,
            **_timer_context(request, worker),
            **_week_context(request, worker),
        }
        return render(request, "trainers/home.html", context)


@role_required(CONTRACTOR)
def week_sessions(request: HttpRequest) -> HttpResponse:
    """The today / this week fragment of the home page (refreshed after every change)."""
    worker = _own_worker(request)
    with timezone.override(worker.zone):
        return render(request, "trainers/partials/week_sessions.html", _week_context(request, worker))


@role_required(CONTRACTOR)
@require_POST
def timer_start(request: HttpRequest) -> HttpResponse:
    """Start the timer on the chosen project."""
    worker = _own_worker(request)
    form = TimerStartForm(request.POST, projects=_active_projects(request))
    if form.is_valid():
        with refusals_shown(request, form):
            session_services.session_start(actor=actor(request), worker=worker, **form.cleaned_data)
            messages.success(request, f"Timer started on {form.cleaned_data['project'].name}.")
    return _timer_reply(request, worker, form)


@role_required(CONTRACTOR)
@require_POST
def timer_stop(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop the running timer now (at most MAX_SESSION_HOURS after its start)."""
    worker = _own_worker(request)
    session = get_object_or_404(selectors.sessions_visible_to(actor(request)), pk=pk)
    form = TimerStopForm(request.POST)
    if form.is_valid():
        try:
            task_count = form.cleaned_data["task_count"]
            stopped = session_services.session_stop(
                actor=actor(request), session=session, task_count=task_count
            )
            _stopped_message(request, stopped)
        except DomainError as error:
            refusal_message(request, error)
    else:
        messages.error(request, field_errors(form, "task_count"))
    return _timer_reply(request, worker, None)


@role_required(CONTRACTOR)
def session_list(request: HttpRequest) -> HttpResponse:
    """One week of the contractor's sessions (?period=2026-W45), with edit and delete."""
    worker = _own_worker(request)
    period = _period_param(request, worker)
    rows = selectors.sessions_starting_in_period(selectors.sessions_visible_to(actor(request)), period)
    with timezone.override(worker.zone):
        context = {
            "nav": "sessions",
            "worker": worker,
            "period": period,
            "previous": _shift_period(period, worker, -1),
            "next": _shift_period(period, worker, +1),
            "rows": _with_locks(worker, rows.order_by("started_at")),
            "lock": period_lock_reason(worker, period),
        }
        return render(request, "trainers/sessions.html", context)


@role_required(CONTRACTOR)
def session_new(request: HttpRequest) -> HttpResponse:
    """Add a finished session by hand."""
    worker = _own_worker(request)
    with timezone.override(worker.zone):
        form = SessionForm(request.POST or None, projects=_active_projects(request))
        if request.method == "POST" and form.is_valid():
            with refusals_shown(request, form):
                session = session_services.session_create(
                    actor=actor(request), worker=worker, **form.cleaned_data
                )
                messages.success(request, f"Session {session.pk} added ({_length(session)}).")
                return back(request, "trainers:home")
        context = {"nav": "sessions", "form": form, "worker": worker, "next_url": safe_next(request)}
        return render(request, "trainers/session_form.html", context)


@role_required(CONTRACTOR)
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a session; the merged session is checked as a whole, as in the API."""
    worker = _own_worker(request)
    session = get_object_or_404(selectors.sessions_visible_to(actor(request)), pk=pk)
    with timezone.override(worker.zone):
        initial = {
            name: getattr(session, name)
            for name in ("project", "activity", "started_at", "ended_at", "task_count", "notes")
        }
        form = SessionForm(
            request.POST or None, initial=initial, projects=_editable_projects(request, session)
        )
        if request.method == "POST" and form.is_valid():
            changes = {
                name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data
            }
            with refusals_shown(request, form):
                session_services.session_update(actor=actor(request), session=session, changes=changes)
                messages.success(request, f"Session {session.pk} saved.")
                return back(request, "trainers:sessions")
        context = {
            "nav": "sessions",
            "form": form,
            "worker": worker,
            "session": session,
            "next_url": safe_next(request),
        }
        return render(request, "trainers/session_form.html", context)


@role_required(CONTRACTOR)
def session_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, then delete a session unless its period is locked."""
    worker = _own_worker(request)
    session = get_object_or_404(selectors.sessions_visible_to(actor(request)), pk=pk)
    if request.method == "POST":
        try:
            session_services.session_delete(actor=actor(request), session=session)
        except DomainError as error:
            refusal_message(request, error)
        else:
            messages.success(request, f"Session {pk} deleted.")
        return back(request, "trainers:sessions")
    with timezone.override(worker.zone):
        context = {"nav": "sessions", "session": session, "next_url": safe_next(request)}
        return render(request, "trainers/session_delete.html", context)


@role_required(CONTRACTOR)
def session_import(request: HttpRequest) -> HttpResponse:
    """Import finished sessions from CSV: all rows or none, every bad row listed."""
    _own_worker(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    rows: list[Any] = []
    if request.method == "POST" and form.is_valid():
        try:
            count = sessions_import(actor=actor(request), content=form.cleaned_data["file"].read())
        except InvalidInput as error:
            rows = list(error.errors.pop("rows", []))
            form_errors_from(form, error)
            messages.error(request, "Nothing was imported; fix the rows below and try again.")
        except DomainError as error:
            refusal_message(request, error)
        else:
            messages.success(request, f"Imported {count} session{'s' if count != 1 else ''}.")
            return redirect("trainers:sessions")
    projects = selectors.projects_visible_to(actor(request)).filter(is_active=True).order_by("name", "pk")
    context = {"nav": "sessions", "form": form, "rows": rows, "projects": projects}
    return render(request, "trainers/session_import.html", context)


# Helpers ---------------------------------------------------------------------------------


def _own_worker(request: HttpRequest) -> Worker:
    worker = selectors.worker_of(actor(request))
    if worker is None:
        raise Http404("You have no worker profile, so you cannot log time.")
    return worker


def _active_projects(request: HttpRequest) -> Any:
    return selectors.projects_visible_to(actor(request)).filter(is_active=True)


def _editable_projects(request: HttpRequest, session: LabellingSession) -> Any:
    """Active projects, plus the session's own so an old session's form still shows it."""
    visible = selectors.projects_visible_to(actor(request))
    return visible.filter(is_active=True) | visible.filter(pk=session.project_id)


def _timer_context(
    request: HttpRequest, worker: Worker, form: TimerStartForm | None = None
) -> dict[str, Any]:
    running = selectors.sessions_visible_to(actor(request)).filter(ended_at__isnull=True).first()
    return {
        "running": running,
        "elapsed": int((timezone.now() - running.started_at).total_seconds()) if running else 0,
        "start_form": form or _fresh_start_form(request),
        "stop_form": TimerStopForm(),
    }


def _fresh_start_form(request: HttpRequest) -> TimerStartForm:
    """The start form on the last session's project and activity: the next one is most often the same.

    (After a stop the select used to jump back to the first project, and the next timer
    started on the wrong one.)
    """
    last = selectors.sessions_visible_to(actor(request)).order_by("-started_at").first()
    initial = {"project": last.project_id, "activity": last.activity} if last else {}
    return TimerStartForm(projects=_active_projects(request), initial=initial)


def _timer_reply(request: HttpRequest, worker: Worker, form: TimerStartForm | None) -> HttpResponse:
    """htmx: the new timer card, the messages, and an event that refreshes the lists."""
    if not request.htmx:  # type: ignore[attr-defined]
        if form is not None:  # the home page shows a fresh form: say why this one was refused
            form_errors_as_messages(request, form)
        return redirect("trainers:home")
    with timezone.override(worker.zone):
        html = render_to_string(
            "trainers/partials/timer.html", _timer_context(request, worker, form), request=request
        )
    return trigger_client_event(with_messages(request, html), SESSIONS_CHANGED)


def _week_context(request: HttpRequest, worker: Worker) -> dict[str, Any]:
    now = timezone.now()
    period = iso_week_key(now, worker.zone)
    week = selectors.sessions_starting_in_period(selectors.sessions_visible_to(actor(request)), period)
    week = week.filter(ended_at__isnull=False).order_by("started_at")
    today = now.astimezone(worker.zone).date()
    rows = _with_locks(worker, week)
    todays = [row for row in rows if row["session"].started_at.astimezone(worker.zone).date() == today]
    return {
        "period": period,
        "today_rows": todays,
        "week_rows": rows,
        "today_seconds": sum(row["session"].duration_seconds or 0 for row in todays),
        "week_seconds": sum(row["session"].duration_seconds or 0 for row in rows),
    }


def _with_locks(worker: Worker, sessions: Any) -> list[dict[str, Any]]:
    """Each session with whether its period is locked (then no edit or delete is offered)."""
    reasons: dict[str, str | None] = {}
    rows = []
    for session in sessions:
        periods = periods_touched(session.started_at, session.ended_at, worker.zone)
        for period in periods:
            if period not in reasons:
                reasons[period] = period_lock_reason(worker, period)
        rows.append({"session": session, "locked": any(reasons[period] for period in periods)})
    return rows


def _period_param(request: HttpRequest, worker: Worker) -> str:
    period = request.GET.get("period") or iso_week_key(timezone.now(), worker.zone)
    try:
        parse_period_key(period)
    except ValueError as error:
        raise Http404(str(error)) from error
    return period


def _shift_period(period: str, worker: Worker, weeks: int) -> str:
    start, end = period_bounds(period, worker.zone)
    instant: datetime = end if weeks > 0 else start - (end - start) / 7
    return iso_week_key(instant, worker.zone)


def _length(session: LabellingSession) -> str:
    return clock(session.duration_seconds or 0)


def _stopped_message(request: HttpRequest, session: LabellingSession | None) -> None:
    if session is None:  # stopped in its first second
        messages.info(request, DISCARDED_MESSAGE)
    elif session.needs_review:
        messages.warning(
            request, f"Timer stopped at the maximum length ({_length(session)}); it is flagged for review."
        )
    else:
        messages.success(request, f"Timer stopped after {_length(session)}.")
