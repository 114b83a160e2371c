"""The timesheet state machine of PAY_RULES §6: one map of steps, one path for one or many.

TRANSITIONS is the one map of the steps a timesheet may take. Every status change is
written by `timesheets_move` (one UPDATE, only from a step's sources) and recorded by
`timesheet_events_insert` (one event per timesheet, one INSERT), for one timesheet or for
thousands. Both run under the timesheets' row locks, so each timesheet's events are
numbered 1, 2, 3... (`sequence`) in the order they commit, their times never going back:

- a person's step (submit, approve, reject, reopen) is `timesheets_transition`: each
  timesheet is checked against the map (guard, state, note) before any is written, then
  come the step's side effects, the move and the events; all of them, or none. One
  timesheet (`timesheet_transition`) is a batch of one.
- the `invoice` step is taken by invoicing (payroll.services.invoices) in the transaction
  that issues the invoices: it moves the approved timesheets and skips the rest, and
  records the events once the invoices are numbered, each naming its invoice.

Lock order, everywhere: the workers first (as the session services do), then the
timesheets, each in id order. So an approval racing a session edit, or two approvals, are
serialised: one wins, the other gets a 409.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from django.db import connection, transaction
from django.db.models import Field, Model
from django.utils import timezone

from core.db import locks
from core.db.lookups import int_array
from core.errors import Conflict, Forbidden, InvalidInput
from payroll.models import LOCKED_STATUSES, Timesheet, TimesheetStatus
from payroll.selectors.timesheets import TimesheetFigures, timesheets_figures
from payroll.services.close import timesheets_refresh
from trainers.models import Role, User
from trainers.selectors import manages_teams

Status = TimesheetStatus


class Party(NamedTuple):
    """The worker of a timesheet taking a step, as a guard weighs them: their user and team."""

    user_id: int
    team_id: int | None


# Fields a step sets alike on each of its timesheets (a decision's time, actor and note).
Changes = dict[str, Any]
Guard = Callable[[User | None, Sequence[Party]], None]


@dataclass(frozen=True)
class Step:
    """What a person asked for: who, with which note, at what time, and whether they confirmed."""

    actor: User | None
    note: str
    now: datetime
    confirm: bool = False  # submit: lock a week that is not over yet


Effect = Callable[[Step, list[Timesheet]], Changes]


@dataclass(frozen=True)
class Transition:
    """A step: the states it starts from, the one it ends in, who may take it, what it does."""

    sources: frozenset[str]
    target: str
    guard: Guard
    note_required: str = ""  # the message when a note is required and missing
    effect: Effect | None = None  # what a person's step does besides moving; None: not a person's


def _guard_submit(actor: User | None, parties: Sequence[Party]) -> None:
    if actor is None or any(party.user_id != actor.pk for party in parties):
        raise Forbidden("Only the timesheet's contractor may submit it.")


def _guard_decide(actor: User | None, parties: Sequence[Party]) -> None:
    if actor is None or any(party.user_id == actor.pk for party in parties):
        raise Forbidden("Nobody approves or rejects their own timesheet.")
    if actor.role != Role.ADMIN and not (
        actor.role == Role.MANAGER and manages_teams(actor, {party.team_id for party in parties})
    ):
        raise Forbidden("Only a manager of the worker's team (or an admin) may decide this timesheet.")


def _guard_reopen(actor: User | None, parties: Sequence[Party]) -> None:
    if actor is None or actor.role not in (Role.FINANCE, Role.ADMIN):
        raise Forbidden("Only finance or an admin may reopen a timesheet.")


def _guard_invoice(actor: User | None, parties: Sequence[Party]) -> None:
    """Finance, an admin, or Fairhour itself (actor None: a scheduled job) invoices."""
    if actor is not None and actor.role not in (Role.FINANCE, Role.ADMIN):
        raise Forbidden("Only finance or an admin may invoice a timesheet.")


def _submit(step: Step, timesheets: list[Timesheet]) -> Changes:
    """Price each period once more under the lock, then freeze its stored lines and total.

    Refused (409) for a week that has not started, one with nothing in it, and one not
    over yet in the worker's zone unless the person confirmed: submitting locks the week,
    so the rest of it could not be logged (a contractor's Monday click once did that).
    """
    for timesheet in timesheets:
        if step.now < timesheet.period_start:
            message = f"Period {timesheet.period} has not started yet; submit it once it has."
            raise Conflict(_about(timesheets, timesheet, message))
    _price_again(timesheets)  # live pricing kept them current: the last look before signing
    rows = Timesheet.objects.filter(pk__any_of=[t.pk for t in timesheets]).values_list(
        "pk", "total", "currency", "unpriced"
    )
    priced = {pk: figures for pk, *figures in rows}
    for timesheet in timesheets:  # as just stored, for the problems below and the caller
        timesheet.total, timesheet.currency, timesheet.unpriced = priced[timesheet.pk]
    figures = _unblocked(timesheets, "Cannot submit yet: ")  # a running timer, say, is named first
    for timesheet in timesheets:
        if figures[timesheet.pk].is_empty:  # the rule the submit form reads too
            message = f"Nothing to submit: {timesheet.period} has no time and no adjustment."
            raise Conflict(_about(timesheets, timesheet, message))
        if not (timesheet.has_ended(step.now) or step.confirm):
            message = f"{not_over_words(timesheet)} Confirm to submit it now."
            raise Conflict(_about(timesheets, timesheet, message))
    return {"submitted_at": step.now, "decided_at": None, "decided_by": None, "decision_note": ""}


def not_over_words(timesheet: Timesheet) -> str:
    """What submitting a week before its end locks, with its last minute in the worker's zone."""
    last_minute = timezone.localtime(timesheet.period_end - timedelta(minutes=1), timesheet.worker.zone)
    return (
        f"{timesheet.period} is not over yet: it runs until "
        f"{last_minute:%A} {last_minute.day} {last_minute:%B, %H:%M} ({timesheet.worker.time_zone}). "
        "Submitting it now locks the week: no time can be logged or changed in it until it is sent back."
    )


def _price_again(timesheets: list[Timesheet]) -> None:
    """Price the timesheets' weeks again (a reopened week may have missed a rate meanwhile)."""
    by_period: dict[str, set[int]] = defaultdict(set)
    for timesheet in timesheets:
        by_period[timesheet.period].add(timesheet.worker_id)
    for period in sorted(by_period):
        timesheets_refresh(workers=by_period[period], period=period)


def _approve(step: Step, timesheets: list[Timesheet]) -> Changes:
    _unblocked(timesheets, "Cannot approve: ")
    return _decide(step, timesheets)


def _decide(step: Step, timesheets: list[Timesheet]) -> Changes:
    return {"decided_at": step.now, "decided_by": step.actor, "decision_note": step.note}


def _unblocked(timesheets: list[Timesheet], refusal: str) -> dict[int, TimesheetFigures]:
    """The timesheets' figures (a few queries for all); a Conflict if one has a blocking problem."""
    figures = timesheets_figures(timesheets)
    for timesheet in timesheets:
        blocking = figures[timesheet.pk].blocking_problems
        if blocking:
            message = refusal + " ".join(problem.message for problem in blocking)
            raise Conflict(_about(timesheets, timesheet, message))
    return figures


def _about(timesheets: list[Timesheet], timesheet: Timesheet, message: str) -> str:
    """A refusal as said of one timesheet; in a batch, saying which one."""
    if len(timesheets) == 1:
        return message
    return f"{timesheet.worker.full_name} {timesheet.period}: {message}"


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(
        frozenset({Status.OPEN, Status.REJECTED}), Status.SUBMITTED, _guard_submit, effect=_submit
    ),
    "approve": Transition(frozenset({Status.SUBMITTED}), Status.APPROVED, _guard_decide, effect=_approve),
    "reject": Transition(
        frozenset({Status.SUBMITTED}),
        Status.REJECTED,
        _guard_decide,
        "A rejection needs a note saying what to fix.",
        _decide,
    ),
    # Only while no invoice exists: an invoiced timesheet is no longer `approved`.
    "reopen": Transition(
        frozenset({Status.APPROVED}),
        Status.OPEN,
        _guard_reopen,
        "Reopening needs a note saying why.",
        _decide,
    ),
    # Taken by invoicing alone, in the transaction that inserts the invoices. So an approved
    # timesheet has no invoice yet (and the one-invoice-per-timesheet constraint backs it).
    "invoice": Transition(frozenset({Status.APPROVED}), Status.INVOICED, _guard_invoice),
}


# A person's step, for one timesheet or many ---------------------------------------------


def timesheet_transition(
    *,
    actor: User | None,
    timesheet: Timesheet,
    action: str,
    note: str = "",
    now: datetime | None = None,
    confirm: bool = False,
) -> Timesheet:
    """Move one timesheet along the state machine: `timesheets_transition` with one."""
    (moved,) = timesheets_transition(
        actor=actor, timesheets=[timesheet], action=action, note=note, now=now, confirm=confirm
    )
    return moved


def timesheets_transition(
    *,
    actor: User | None,
    timesheets: Iterable[Timesheet | int],
    action: str,
    note: str = "",
    now: datetime | None = None,
    confirm: bool = False,
) -> list[Timesheet]:
    """Take a person's step for these timesheets (or their ids) at once: all of them, or none.

    `confirm`: the person confirmed what the step does beyond its name (submit: locking a
    week that is not over).

    Each is checked against TRANSITIONS under lock (guard, state, note) before any is
    written; then the step's side effects, the status change (one UPDATE) and one event
    each (one INSERT). Returns the timesheets as now stored, in id order.
    """
    transition, effect = _person_step(action)
    ids = sorted({timesheet if isinstance(timesheet, int) else timesheet.pk for timesheet in timesheets})
    with transaction.atomic():
        locked = _lock(ids)
        now = now or timezone.now()  # once locked: the step's time follows the steps before it
        _check(transition, action, actor, locked, note)
        changes = {**effect(Step(actor, note, now, confirm), locked), "updated_at": timezone.now()}
        moved = timesheets_move(action=action, ids=ids, changes=changes)
        timesheet_events_insert(action=action, moved=moved, actor=actor, at=now, notes=note)
        if transition.target not in LOCKED_STATUSES:  # unsigned again: priced on today's terms
            _price_again(locked)
    for timesheet in locked:
        timesheet.status = transition.target
        for name, value in changes.items():
            setattr(timesheet, name, value)
    return locked


def _person_step(action: str) -> tuple[Transition, Effect]:
    transition = TRANSITIONS.get(action)
    if transition is None or transition.effect is None:
        steps = sorted(name for name, step in TRANSITIONS.items() if step.effect)
        raise InvalidInput({"action": [f"Unknown action; one of {', '.join(steps)}."]})
    return transition, transition.effect


def _lock(ids: list[int]) -> list[Timesheet]:
    """Lock the timesheets' workers, then the timesheets, each in id order; read them as they are."""
    list(locks.workers_of_timesheets(ids).values_list("pk"))
    locked = list(locks.timesheets(Timesheet.objects.select_related("worker").filter(pk__any_of=ids)))
    if len(locked) != len(ids):
        raise Timesheet.DoesNotExist("Timesheet matching query does not exist.")
    return locked


def _check(
    transition: Transition, action: str, actor: User | None, timesheets: list[Timesheet], note: str
) -> None:
    """Refuse the step unless the actor may take it for each timesheet, from its state, with a note if due."""
    transition.guard(
        actor, [Party(timesheet.worker.user_id, timesheet.worker.team_id) for timesheet in timesheets]
    )
    for timesheet in timesheets:
        if timesheet.status not in transition.sources:
            raise Conflict(
                _about(timesheets, timesheet, f"Cannot {action} a timesheet that is {timesheet.status}.")
            )
    if transition.note_required and not note.strip():
        raise InvalidInput({"note": [transition.note_required]})


# The status change and its events, for every step ---------------------------------------


class Moved(NamedTuple):
    """A timesheet that has just taken a step: what its event, and its invoice, need of it."""

    pk: int
    worker_id: int
    period: str
    currency: str
    from_status: str


# The subquery locks the rows in id order and reads each state as it is once locked (the
# RETURNING of an UPDATE sees only the new one); a row no longer in a source state is left.
MOVE_SQL = """
UPDATE payroll_timesheet AS t SET status = %(target)s{sets}
FROM (
    SELECT id, status FROM payroll_timesheet
    WHERE id = ANY(%(ids)s::bigint[]) AND status = ANY(%(sources)s)
    ORDER BY id FOR UPDATE
) AS old
WHERE t.id = old.id
RETURNING t.id, t.worker_id, t.period, t.currency, old.status
"""


def timesheets_move(*, action: str, ids: Sequence[int], changes: Changes | None = None) -> list[Moved]:
    """Move those of these timesheets in one of the step's sources to its target; skip the rest.

    One UPDATE whatever their count (the pay summaries have no status: nothing to move).
    `changes`: more fields (by model field name) set alike on each; updated_at is now
    unless given. Returns the moved ones in id order, with the
    state each left. Their events are the caller's to record (`timesheet_events_insert`).
    """
    transition = TRANSITIONS[action]
    params: dict[str, Any] = {
        "target": transition.target,
        "ids": int_array(ids),
        "sources": sorted(transition.sources),
    }
    sets = ""
    for number, (name, value) in enumerate({"updated_at": timezone.now(), **(changes or {})}.items()):
        column = connection.ops.quote_name(str(cast(Field, Timesheet._meta.get_field(name)).column))
        sets += f", {column} = %(set{number})s"
        params[f"set{number}"] = value.pk if isinstance(value, Model) else value
    with connection.cursor() as cursor:
        cursor.execute(MOVE_SQL.format(sets=sets), params)  # columns from the model, values as parameters
        moved = sorted(Moved(*row) for row in cursor.fetchall())
    return moved


# Each event is its timesheet's last one + 1, at no earlier time than that one: the caller
# holds the timesheets' row locks (the move took them), so no other writer is between the
# read of the last event and the insert, and the numbers follow the commit order. The
# time is the caller's, taken once the locks are held; GREATEST keeps a clock running
# behind (another host's) from writing history backwards. The unique (timesheet,
# sequence) constraint refuses a writer that ever skips the lock.
EVENTS_SQL = """
INSERT INTO payroll_timesheetevent (timesheet_id, sequence, from_status, to_status, actor_id, at, note)
SELECT step.timesheet_id, COALESCE(last.sequence, 0) + 1, step.from_status, %(target)s, %(actor)s,
       GREATEST(%(at)s::timestamptz, last.at), step.note
FROM unnest(%(ids)s::bigint[], %(from_statuses)s::text[], %(notes)s::text[])
    AS step(timesheet_id, from_status, note)
LEFT JOIN LATERAL (
    SELECT e.sequence, e.at FROM payroll_timesheetevent AS e
    WHERE e.timesheet_id = step.timesheet_id ORDER BY e.sequence DESC LIMIT 1
) AS last ON true
"""


def timesheet_events_insert(
    *,
    action: str,
    moved: Iterable[Moved],
    actor: User | None,
    at: datetime,
    notes: str | Mapping[int, str] = "",
) -> None:
    """Record the step of each moved timesheet, one INSERT: from, to, who, when, why, and its number.

    Call it with the moved timesheets still locked (in the transaction that moved them),
    and `at` read after they were locked. `notes`: one note for all, or each timesheet's
    own by its id (an invoice's number).
    """
    rows = list(moved)
    if not rows:
        return
    params = {
        "target": TRANSITIONS[action].target,
        "actor": actor.pk if actor else None,
        "at": at,
        "ids": int_array(row.pk for row in rows),
        "from_statuses": [row.from_status for row in rows],
        "notes": [notes if isinstance(notes, str) else notes[row.pk] for row in rows],
    }
    with connection.cursor() as cursor:
        cursor.execute(EVENTS_SQL, params)
