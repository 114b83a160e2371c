"""Timesheets: creation, the state machine of PAY_RULES §6, stored lines, adjustments.

Every state change goes through `timesheet_transition` and its TRANSITIONS map, and
writes a TimesheetEvent in the same transaction. Lock order, everywhere: the worker row
first (as the session services do), then the timesheet row. So an approval racing a
session edit, or two approvals, are serialised: one wins, the other gets a 409.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from payroll.models import (
    LOCKED_STATUSES,
    MAX_ADJUSTMENT,
    Adjustment,
    Timesheet,
    TimesheetEvent,
    TimesheetLine,
    TimesheetStatus,
)
from payroll.money import CENT
from payroll.pay import PeriodPay
from payroll.periods import iso_week_key, next_period, period_bounds
from payroll.selectors.pricing import price_workers_period
from payroll.selectors.timesheets import LineFigures, live_lines, timesheet_figures
from trainers.errors import Conflict, Forbidden, InvalidInput
from trainers.models import Role, User, Worker

Status = TimesheetStatus


def timesheet_lock_reason(worker: Worker, period: str) -> str | None:
    """The period lock hook for trainers: a submitted, approved or invoiced timesheet locks."""
    status = Timesheet.objects.filter(worker=worker, period=period).values_list("status", flat=True).first()
    if status in LOCKED_STATUSES:
        return f"its timesheet is {status}; sessions in it cannot change."
    return None


def timesheet_get_or_create(*, worker: Worker, period: str) -> Timesheet:
    """The worker's timesheet for a period, created open if it does not exist yet."""
    return timesheet_ensure(worker=worker, period=period)[0]


def timesheet_ensure(*, worker: Worker, period: str) -> tuple[Timesheet, bool]:
    """The worker's timesheet for a period and whether this call created it."""
    existing = Timesheet.objects.filter(worker=worker, period=period).first()
    if existing:
        return existing, False
    start, end = period_bounds(period, worker.zone)
    try:
        with transaction.atomic():
            created = Timesheet.objects.create(
                worker=worker, period=period, period_start=start, period_end=end, currency=worker.currency
            )
            return created, True
    except IntegrityError:  # created concurrently: the unique constraint keeps one
        return Timesheet.objects.get(worker=worker, period=period), False


def manages_worker(user: User, worker: Worker) -> bool:
    """Whether the user is a manager of the worker's team."""
    team = worker.team
    return team is not None and team.managers.filter(pk=user.pk).exists()


# The state machine --------------------------------------------------------------------


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


def _refuse_blocking_problems(timesheet: Timesheet, action: str) -> None:
    if action != "approve":
        return
    blocking = timesheet_figures(timesheet).blocking_problems
    if blocking:
        raise Conflict("Cannot approve: " + " ".join(problem.message for problem in blocking))


def _store_lines(timesheet: Timesheet, lines: Iterable[LineFigures]) -> None:
    timesheet.lines.all().delete()
    TimesheetLine.objects.bulk_create(
        TimesheetLine(
            timesheet=timesheet,
            project_id=line.project_id,
            kind=line.kind,
            hourly_rate=line.hourly_rate,
            multiplier=line.multiplier,
            seconds=line.seconds,
            amount=line.amount,
        )
        for line in lines
    )


# Adjustments --------------------------------------------------------------------------


def adjustment_create(
    *, actor: User, worker: Worker, amount: Decimal, currency: str, reason: str, now: datetime | None = None
) -> Adjustment:
    """Add a signed correction to the worker's next open period (PAY_RULES §6)."""
    _guard_adjustment(actor, worker)
    errors: dict[str, list[str]] = {}
    if currency != worker.currency:
        errors["currency"] = [f"Must be the worker's contract currency, {worker.currency}."]
    if amount.is_finite() and amount == 0:
        errors["amount"] = ["An adjustment must not be zero."]
    elif (
        not amount.is_finite()
        or amount != amount.quantize(CENT)
        or not -MAX_ADJUSTMENT < amount < MAX_ADJUSTMENT
    ):
        errors["amount"] = [f"Whole cents, strictly between -{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}."]
    if not reason.strip():
        errors["reason"] = ["Say why the adjustment is made."]
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        worker = Worker.objects.select_for_update().get(pk=worker.pk)
        period = next_open_period(worker, now or timezone.now())
        return Adjustment.objects.create(
            worker=worker,
            amount=amount,
            currency=currency,
            reason=reason,
            applies_to_period=period,
            created_by=actor,
        )


def next_open_period(worker: Worker, now: datetime) -> str:
    """The current period in the worker's zone, or the first later one not yet locked."""
    period = iso_week_key(now, worker.zone)
    locked = set(
        Timesheet.objects.filter(worker=worker, status__in=LOCKED_STATUSES, period__gte=period).values_list(
            "period", flat=True
        )
    )
    while period in locked:
        period = next_period(period)
    return period


def _guard_adjustment(actor: User, worker: Worker) -> None:
    if worker.user_id == actor.pk:
        raise Forbidden("Nobody adjusts their own pay.")
    if actor.role in (Role.FINANCE, Role.ADMIN):
        return
    if actor.role == Role.MANAGER and manages_worker(actor, worker):
        return
    raise Forbidden("Only finance, an admin or a manager of the worker's team may add adjustments.")


# The close: build or refresh timesheets in bulk ---------------------------------------


def timesheets_refresh(*, workers: Iterable[Worker], period: str) -> int:
    """Create the period's timesheets and store fresh figures for the unlocked ones.

    Idempotent: a second run computes the same lines and writes nothing new. Returns how
    many timesheets were created or changed.
    """
    workers = list(workers)
    priced = price_workers_period(workers, period)
    changed = 0
    for worker in workers:
        with transaction.atomic():
            timesheet, created = timesheet_ensure(worker=worker, period=period)
            timesheet = Timesheet.objects.select_for_update().get(pk=timesheet.pk)
            if timesheet.status in LOCKED_STATUSES:
                continue
            stored = _store_if_changed(timesheet, priced[worker.pk].pay)
            changed += 1 if created else stored
    return changed


def _store_if_changed(timesheet: Timesheet, pay: PeriodPay) -> int:
    lines = live_lines(pay)
    adjustments = Adjustment.objects.filter(worker=timesheet.worker, applies_to_period=timesheet.period)
    total = sum((line.amount for line in lines), Decimal("0.00")) + sum(
        (a.amount for a in adjustments), Decimal("0.00")
    )
    stored = [
        (line.project_id, line.kind, line.hourly_rate, line.multiplier, line.seconds, line.amount)
        for line in timesheet.lines.all()
    ]
    fresh = [(ln.project_id, ln.kind, ln.hourly_rate, ln.multiplier, ln.seconds, ln.amount) for ln in lines]
    if sorted(stored) == sorted(fresh) and timesheet.total == total:
        return 0
    _store_lines(timesheet, lines)
    timesheet.total = total
    timesheet.save(update_fields=["total", "updated_at"])
    return 1
