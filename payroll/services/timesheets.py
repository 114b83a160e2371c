"""Timesheets: creation, the state machine of PAY_RULES §6, stored lines, adjustments.

Every state change goes through `timesheet_transition` and its TRANSITIONS map, and
writes a TimesheetEvent in the same transaction. Lock order, everywhere: the worker row
first (as the session services do), then the timesheet row. So an approval racing a
session edit, or two approvals, are serialised: one wins, the other gets a 409.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
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
from payroll.periods import iso_week_key, next_period, period_bounds
from payroll.selectors.pricing import price_workers_period
from payroll.selectors.timesheets import LineFigures, live_lines, pay_project_names, timesheet_figures
from payroll.services.bulk import insert_rows
from trainers.errors import Conflict, Forbidden, InvalidInput
from trainers.lookups import decimal_array, int_array
from trainers.models import Role, User, Worker
from trainers.periods import period_bounds_by_zone

Status = TimesheetStatus
TIMESHEET_STATUS_SQL = "SELECT status FROM payroll_timesheet WHERE worker_id = %s AND period = %s"


def timesheet_lock_reason(worker: Worker, period: str) -> str | None:
    """The period lock hook for trainers: a submitted, approved or invoiced timesheet locks."""
    # Plain SQL: every session write asks, and the ORM took six times the database's time to
    # build this query. (worker, period) is unique, so there is one row at most.
    with connection.cursor() as cursor:
        cursor.execute(TIMESHEET_STATUS_SQL, [worker.pk, period])
        row = cursor.fetchone()
    status = row[0] if row else None
    if status in LOCKED_STATUSES:
        return f"its timesheet is {status}; sessions in it cannot change."
    return None


def zone_change_refusal_for_timesheets(worker: Worker, new_zone: object) -> str | None:
    """A worker's weeks are cut in one zone: once one is signed, the zone may not move.

    Moving it would shift the week boundaries under submitted or invoiced weeks, so the
    same hours could fall into a later open week and be paid twice.
    """
    signed = Timesheet.objects.filter(worker=worker, status__in=LOCKED_STATUSES).order_by("-period_start")
    latest = signed.values_list("period", "status").first()
    if latest is None:
        return None
    return (
        f"The worker's weeks are cut in {worker.time_zone} and {latest[0]} is already {latest[1]}: "
        "changing the time zone would move paid hours between weeks. Keep the zone, or give the "
        "worker a new profile from the next week on."
    )


def currency_change_refusal_for_pay(worker: Worker, new_currency: object) -> str | None:
    """Money on its way to an invoice keeps the contract currency it was agreed in.

    An invoice is in its timesheet's currency and sums the timesheet's lines and the
    period's adjustments (PAY_RULES §3, §7: currencies are never summed together), so
    the currency may not move under a signed timesheet that is not invoiced yet, nor
    under an adjustment in the old currency whose period is not invoiced yet. Open
    timesheets follow the change (`timesheets_follow_currency_change`).
    """
    signed = (
        Timesheet.objects.filter(worker=worker, status__in=LOCKED_STATUSES - {Status.INVOICED})
        .order_by("period_start")
        .values_list("period", "status")
        .first()
    )
    if signed:
        return (
            f"The worker's timesheet {signed[0]} is {signed[1]} in {worker.currency}: the contract "
            "currency can change once it is invoiced."
        )
    invoiced = Timesheet.objects.filter(worker=worker, status=Status.INVOICED).values("period")
    pending = (
        Adjustment.objects.filter(worker=worker)
        .exclude(currency=new_currency)
        .exclude(applies_to_period__in=invoiced)
        .order_by("applies_to_period", "pk")
        .first()
    )
    if pending:
        return (
            f"The worker has an adjustment of {pending.amount} {pending.currency} for "
            f"{pending.applies_to_period}, not invoiced yet: the contract currency can change "
            "once it is invoiced (or the adjustment is offset)."
        )
    return None


def timesheets_follow_currency_change(worker: Worker, fields: set[str]) -> None:
    """After a currency change, the worker's open timesheets are in the new currency."""
    if "currency" not in fields:
        return
    unsigned = Timesheet.objects.filter(worker=worker).exclude(status__in=LOCKED_STATUSES)
    periods = sorted(unsigned.values_list("period", flat=True))
    unsigned.update(currency=worker.currency, updated_at=timezone.now())
    for period in periods:  # their stored lines and totals were priced in the old currency
        timesheets_refresh(workers=[worker], period=period)


def timesheets_follow_zone_change(worker: Worker, fields: set[str]) -> None:
    """After a zone change, the worker's unsigned timesheets take the new zone's week bounds."""
    if "time_zone" not in fields:
        return
    for timesheet in Timesheet.objects.filter(worker=worker).exclude(status__in=LOCKED_STATUSES):
        timesheet.period_start, timesheet.period_end = period_bounds(timesheet.period, worker.zone)
        timesheet.save(update_fields=["period_start", "period_end", "updated_at"])


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


# Adjustments --------------------------------------------------------------------------


def adjustment_create(
    *, actor: User, worker: Worker, amount: Decimal, currency: str, reason: str, now: datetime | None = None
) -> Adjustment:
    """Add a signed correction to the worker's next open period (PAY_RULES §6)."""
    _guard_adjustment(actor, worker)
    now = now or timezone.now()
    with transaction.atomic():
        # Locked first: it serialises double submits, and the currency is checked as it now
        # is (a change committed since the caller read the worker would mix two currencies).
        worker = Worker.objects.select_for_update().get(pk=worker.pk)
        errors = _adjustment_errors(worker, amount, currency, reason)
        if errors:
            raise InvalidInput(errors)
        _refuse_repeated_adjustment(worker, actor, amount, reason, now)
        period = next_open_period(worker, now)
        return Adjustment.objects.create(
            worker=worker,
            amount=amount.quantize(CENT),  # whole cents (checked above), shown as such: 12.50
            currency=currency,
            reason=reason,
            applies_to_period=period,
            created_by=actor,
        )


def _adjustment_errors(worker: Worker, amount: Decimal, currency: str, reason: str) -> dict[str, list[str]]:
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
    return errors


REPEAT_WINDOW = timedelta(minutes=2)


def _refuse_repeated_adjustment(
    worker: Worker, actor: User, amount: Decimal, reason: str, now: datetime
) -> None:
    """The same money twice within moments is a double click, not a decision (LESSONS)."""
    twin = Adjustment.objects.filter(
        worker=worker, created_by=actor, amount=amount, reason=reason, created_at__gte=now - REPEAT_WINDOW
    ).first()
    if twin is not None:
        raise Conflict(
            f"The same adjustment ({twin.amount} {twin.currency}, '{reason}') was just added "
            f"(#{twin.pk}). If it is meant twice, say so in the reason."
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


def timesheets_refresh(*, workers: Iterable[Worker | int], period: str) -> int:
    """Create the period's timesheets and store fresh figures for the unlocked ones.

    `workers`: the workers or their ids; they are read again once locked (below).

    One transaction for all the workers given (a chunk of the close), a fixed number of
    queries whatever their count. Missing timesheets are inserted with their lines and
    total at once (a first close: nothing to lock, compare or rewrite). Existing unlocked
    ones are locked in id order (so two refreshes of overlapping chunks queue rather than
    deadlock) and rewritten only where their lines or total changed. Idempotent: a second
    run writes nothing. Returns how many timesheets were created or changed.
    """
    ids = sorted(worker if isinstance(worker, int) else worker.pk for worker in workers)
    if not ids:
        return 0
    with transaction.atomic():
        workers = _lock_workers_for_close(ids)
        fresh = _fresh_lines(workers, period)
        totals = _fresh_totals(fresh, _adjustment_totals(list(fresh), period))
        created = _insert_missing_timesheets(workers, period, totals)
        insert_rows(TimesheetLine, LINE_COLUMNS, _line_rows(created, fresh))
        existing = [worker.pk for worker in workers if worker.pk not in created]
        changed = _store_changed(_lock_unlocked(existing, period), fresh, totals)
    return len(created) + changed


# The close locks its workers first, in id order, as every service does (workers, then
# timesheets), and reads them after the lock: a zone or currency change (worker_update,
# which locks the worker) then lands wholly before or after the chunk, never between its
# read and its insert; and a submit or invoicing holding a worker queues the chunk before it
# holds any timesheet (no deadlock). KEY SHARE, the lock the timesheets' key to the worker
# takes at commit anyway, conflicts with those services' FOR UPDATE and with no other reader.
LOCK_WORKERS_FOR_CLOSE_SQL = (
    "SELECT id FROM trainers_worker WHERE id = ANY(%s::bigint[]) ORDER BY id FOR KEY SHARE"
)


def _lock_workers_for_close(ids: list[int]) -> list[Worker]:
    """Lock these workers in id order, then read them as they now are."""
    with connection.cursor() as cursor:
        cursor.execute(LOCK_WORKERS_FOR_CLOSE_SQL, [int_array(ids)])
    return list(Worker.objects.filter(pk__any_of=ids).order_by("pk"))


def _fresh_lines(workers: list[Worker], period: str) -> dict[int, list[LineFigures]]:
    """Each worker's freshly priced lines, with project names from one query."""
    priced = price_workers_period(workers, period)
    names = pay_project_names(worker_pay.pay for worker_pay in priced.values())
    return {worker_id: live_lines(worker_pay.pay, names) for worker_id, worker_pay in priced.items()}


def _fresh_totals(fresh: dict[int, list[LineFigures]], adjustments: dict[int, Decimal]) -> dict[int, Decimal]:
    """Each worker's total: the fresh lines plus the adjustments landing in the period."""
    return {
        worker_id: sum((line.amount for line in lines), Decimal("0.00"))
        + adjustments.get(worker_id, Decimal("0.00"))
        for worker_id, lines in fresh.items()
    }


def _adjustment_totals(worker_ids: list[int], period: str) -> dict[int, Decimal]:
    rows = (
        Adjustment.objects.filter(worker_id__any_of=worker_ids, applies_to_period=period)
        .values("worker_id")
        .annotate(amount=Sum("amount"))
        .values_list("worker_id", "amount")
    )
    return dict(rows)


def _insert_missing_timesheets(
    workers: list[Worker], period: str, totals: dict[int, Decimal]
) -> dict[int, int]:
    """Insert the open timesheets that do not exist yet, with their totals; return {worker id: new id}."""
    bounds = period_bounds_by_zone(period, {worker.time_zone for worker in workers})
    return _insert_open_timesheets(workers, period, bounds, totals)


# What bulk_create(ignore_conflicts=True) would write, from arrays, returning what it
# inserted: thousands of model instances and prepared values cost more than the insert.
# Per worker: id, total and the number of its (zone, currency) among the few a chunk has,
# each long array one string (`int_array`, `decimal_array`); the bounds follow from the zone.
# A timesheet created concurrently is kept (the unique constraint) and not returned.
NEW_OPEN_TIMESHEETS_SQL = """
INSERT INTO payroll_timesheet (worker_id, period, period_start, period_end, currency,
    status, total, decision_note, created_at, updated_at)
SELECT new.worker_id, %(period)s, kind.period_start, kind.period_end, kind.currency,
    %(status)s, new.total, '', %(now)s, %(now)s
FROM unnest(%(workers)s::bigint[], %(kinds)s::bigint[], %(totals)s::numeric[]) AS new (worker_id, kind, total)
JOIN unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[], %(currencies)s::varchar[])
    WITH ORDINALITY AS kind (period_start, period_end, currency, number) ON kind.number = new.kind
ORDER BY new.worker_id
ON CONFLICT DO NOTHING
RETURNING worker_id, id
"""


def _insert_open_timesheets(
    workers: list[Worker],
    period: str,
    bounds: dict[str, tuple[datetime, datetime]],
    totals: dict[int, Decimal],
) -> dict[int, int]:
    kinds: dict[tuple[str, str], int] = {}  # (zone, currency): its number, from 1
    for worker in workers:
        kinds.setdefault((worker.time_zone, worker.currency), len(kinds) + 1)
    params: dict[str, Any] = {
        "period": period,
        "status": Status.OPEN.value,
        "now": timezone.now(),
        "workers": int_array(worker.pk for worker in workers),
        "kinds": int_array(kinds[worker.time_zone, worker.currency] for worker in workers),
        "totals": decimal_array(totals[worker.pk] for worker in workers),
        "starts": [bounds[zone][0] for zone, _ in kinds],
        "ends": [bounds[zone][1] for zone, _ in kinds],
        "currencies": [currency for _, currency in kinds],
    }
    with connection.cursor() as cursor:
        cursor.execute(NEW_OPEN_TIMESHEETS_SQL, params)
        return dict(cursor.fetchall())


def _line_rows(
    timesheet_ids: dict[int, int], fresh: dict[int, list[LineFigures]]
) -> Iterable[tuple[object, ...]]:
    """Rows of TimesheetLine (LINE_COLUMNS) for these {worker id: timesheet id}."""
    for worker_id, timesheet_id in timesheet_ids.items():
        for line in fresh[worker_id]:
            yield (timesheet_id, *_line_key(line))


# (id, worker id, total) of a timesheet the close may rewrite.
OpenTimesheet = tuple[int, int, Decimal]


def _lock_unlocked(worker_ids: list[int], period: str) -> list[OpenTimesheet]:
    """Lock these workers' timesheets of the period that are not signed, in id order."""
    if not worker_ids:
        return []
    return list(
        Timesheet.objects.select_for_update()
        .filter(worker_id__any_of=worker_ids, period=period)
        .exclude(status__in=LOCKED_STATUSES)
        .order_by("pk")
        .values_list("pk", "worker_id", "total")
    )


def _store_changed(
    timesheets: list[OpenTimesheet], fresh: dict[int, list[LineFigures]], totals: dict[int, Decimal]
) -> int:
    """Rewrite the lines and total of the timesheets whose figures differ; return how many."""
    if not timesheets:
        return 0
    stored: dict[int, list[tuple[object, ...]]] = defaultdict(list)
    rows = TimesheetLine.objects.filter(timesheet_id__any_of=[pk for pk, _, _ in timesheets]).values_list(
        "timesheet_id", *LINE_COLUMNS[1:]
    )
    for timesheet_id, *key in rows:
        stored[timesheet_id].append(tuple(key))
    changed = {
        worker_id: pk
        for pk, worker_id, total in timesheets
        if total != totals[worker_id] or sorted(stored[pk]) != sorted(map(_line_key, fresh[worker_id]))
    }
    if changed:
        TimesheetLine.objects.filter(timesheet_id__any_of=list(changed.values())).delete()
        insert_rows(TimesheetLine, LINE_COLUMNS, _line_rows(changed, fresh))
        _update_totals({pk: totals[worker_id] for worker_id, pk in changed.items()})
    return len(changed)


LINE_COLUMNS = ("timesheet_id", "project_id", "kind", "hourly_rate", "multiplier", "seconds", "amount")


def _update_totals(totals: dict[int, Decimal]) -> None:
    """Store each timesheet's new total (and updated_at) in one statement."""
    now = timezone.now()
    table = connection.ops.quote_name(Timesheet._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET total = v.total, updated_at = %s "  # noqa: S608 - the model's table
            "FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, total) WHERE t.id = v.id",
            [now, int_array(totals), decimal_array(totals.values())],
        )


def _line_key(line: LineFigures) -> tuple[object, ...]:
    return (line.project_id, line.kind, line.hourly_rate, line.multiplier, line.seconds, line.amount)
