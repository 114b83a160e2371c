"""The timesheet state machine of PAY_RULES §6.

Every state change goes through `timesheet_transition` and its TRANSITIONS map, and
writes a TimesheetEvent in the same transaction. Lock order, everywhere: the worker row
first (as the session services do), then the timesheet row. So an approval racing a
session edit, or two approvals, are serialised: one wins, the other gets a 409.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from payroll.models import Timesheet, TimesheetEvent, TimesheetLine, TimesheetStatus
from payroll.selectors.timesheets import LineFigures, timesheet_figures
from trainers.errors import Conflict, Forbidden, InvalidInput
from trainers.models import Role, User, Worker
from trainers.selectors import manages_worker

Status = TimesheetStatus


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    guard: Callable[[User | None, Timesheet], None]
    note_required: str = ""  # the message when a note is required and missing


def _guard_submit(actor: User | None, timesheet: Timesheet) -> None:
    if actor is None or timesheet.worker.user_id != actor.pk:
        raise Forbidden("Only the timesheet's contractor may submit it.")


def _guard_decide(actor: User | None, timesheet: Timesheet) -> None:
    if actor is None or timesheet.worker.user_id == actor.pk:
        raise Forbidden("Nobody approves or rejects their own timesheet.")
    if actor.role != Role.ADMIN and not (
        actor.role == Role.MANAGER and manages_worker(actor, timesheet.worker)
    ):
        raise Forbidden("Only a manager of the worker's team (or an admin) may decide this timesheet.")


def _guard_reopen(actor: User | None, timesheet: Timesheet) -> None:
    if actor is None or actor.role not in (Role.FINANCE, Role.ADMIN):
        raise Forbidden("Only finance or an admin may reopen a timesheet.")


def _guard_invoice(actor: User | None, timesheet: Timesheet) -> None:
    """Finance, an admin, or Fairhour itself (actor None: a scheduled job) invoices."""
    if actor is not None and actor.role not in (Role.FINANCE, Role.ADMIN):
        raise Forbidden("Only finance or an admin may invoice a timesheet.")


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({Status.OPEN, Status.REJECTED}), Status.SUBMITTED, _guard_submit),
    "approve": Transition(frozenset({Status.SUBMITTED}), Status.APPROVED, _guard_decide),
    "reject": Transition(
        frozenset({Status.SUBMITTED}),
        Status.REJECTED,
        _guard_decide,
        "A rejection needs a note saying what to fix.",
    ),
    # Only while no invoice exists: an invoiced timesheet is no longer `approved`.
    "reopen": Transition(
        frozenset({Status.APPROVED}), Status.OPEN, _guard_reopen, "Reopening needs a note saying why."
    ),
    # Only payroll.services.invoices calls this, in the transaction that numbers the invoice.
    "invoice": Transition(frozenset({Status.APPROVED}), Status.INVOICED, _guard_invoice),
}


def timesheet_transition(
    *, actor: User | None, timesheet: Timesheet, action: str, note: str = "", now: datetime | None = None
) -> Timesheet:
    """Move a timesheet along the state machine, with its guard, side effects and event."""
    if action not in TRANSITIONS:
        raise InvalidInput({"action": [f"Unknown action; one of {', '.join(sorted(TRANSITIONS))}."]})
    transition = TRANSITIONS[action]
    now = now or timezone.now()
    with transaction.atomic():
        Worker.objects.select_for_update().get(pk=timesheet.worker_id)
        timesheet = (
            Timesheet.objects.select_for_update(of=("self",))
            .select_related("worker__team")
            .get(pk=timesheet.pk)
        )
        transition.guard(actor, timesheet)
        if timesheet.status not in transition.sources:
            raise Conflict(f"Cannot {action} a timesheet that is {timesheet.status}.")
        if transition.note_required and not note.strip():
            raise InvalidInput({"note": [transition.note_required]})
        _apply(action, actor, timesheet, note, now)
        TimesheetEvent.objects.create(
            timesheet=timesheet,
            from_status=timesheet.status,
            to_status=transition.target,
            actor=actor,
            at=now,
            note=note,
        )
        timesheet.status = transition.target
        timesheet.save()
    return timesheet


def _apply(action: str, actor: User | None, timesheet: Timesheet, note: str, now: datetime) -> None:
    if action == "submit":
        if now < timesheet.period_start:
            raise Conflict(f"Period {timesheet.period} has not started yet; submit it once it has.")
        _freeze_lines(timesheet)
        timesheet.submitted_at = now
        timesheet.decided_at, timesheet.decided_by, timesheet.decision_note = None, None, ""
    elif action in ("approve", "reject"):
        _refuse_blocking_problems(timesheet, action)
        timesheet.decided_at, timesheet.decided_by, timesheet.decision_note = now, actor, note
    elif action == "reopen":
        timesheet.decided_at, timesheet.decided_by, timesheet.decision_note = now, actor, note


def _freeze_lines(timesheet: Timesheet) -> None:
    """Price the period now and copy rates and amounts onto stored lines."""
    figures = timesheet_figures(timesheet)
    if figures.blocking_problems:
        raise Conflict("Cannot submit yet: " + " ".join(p.message for p in figures.blocking_problems))
    _store_lines(timesheet, figures.lines)
    timesheet.total = figures.total
    # Priced with the worker's rates, which are in the contract currency: a close that ran
    # while the currency changed may have labelled this open timesheet with the old one.
    timesheet.currency = timesheet.worker.currency


def _refuse_blocking_problems(timesheet: Timesheet, action: str) -> None:
    if action != "approve":
        return
    blocking = timesheet_figures(timesheet).blocking_problems
    if blocking:
        raise Conflict("Cannot approve: " + " ".join(problem.message for problem in blocking))


def _store_lines(timesheet: Timesheet, lines: Iterable[LineFigures]) -> None:
    timesheet.lines.all().delete()
    TimesheetLine.objects.bulk_create(_line_row(timesheet, line) for line in lines)


def _line_row(timesheet: Timesheet, line: LineFigures) -> TimesheetLine:
    return TimesheetLine(
        timesheet=timesheet,
        project_id=line.project_id,
        kind=line.kind,
        hourly_rate=line.hourly_rate,
        multiplier=line.multiplier,
        seconds=line.seconds,
        amount=line.amount,
    )
