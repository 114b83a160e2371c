"""The period close: build or refresh a chunk of workers' timesheets in bulk.

A close fans out in chunks of the workers it covers (payroll.selectors.close); each chunk
is one `timesheets_refresh`.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from core.db import locks
from core.db.lookups import decimal_array, int_array
from core.periods import period_bounds_by_zone
from payroll.models import LOCKED_STATUSES, Adjustment, Timesheet, TimesheetLine, TimesheetStatus
from payroll.selectors.pricing import price_workers_period
from payroll.selectors.timesheets import live_lines, pay_project_names
from payroll.services.timesheet_lines import (
    LINE_COLUMNS,
    FreshFigures,
    line_key,
    timesheet_lines_insert,
    timesheets_store_figures,
)
from trainers.models import Worker

Status = TimesheetStatus


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
        fresh = _fresh_figures(workers, period)
        created = _insert_missing_timesheets(workers, period, fresh)
        timesheet_lines_insert({pk: fresh[worker_id].lines for worker_id, pk in created.items()})
        existing = [worker.pk for worker in workers if worker.pk not in created]
        changed = _store_changed(_lock_unlocked(existing, period), fresh)
    return len(created) + changed


def _lock_workers_for_close(ids: list[int]) -> list[Worker]:
    """Lock these workers first, as every service does, then read them as they now are.

    A zone or currency change (worker_update locks the worker) then lands wholly before or
    after the chunk, never between its read and its insert; and a submit or invoicing
    holding a worker queues the chunk before it holds any timesheet (no deadlock).
    """
    locks.workers_key_share(ids)
    return list(Worker.objects.filter(pk__any_of=ids).order_by("pk"))


def _fresh_figures(workers: list[Worker], period: str) -> dict[int, FreshFigures]:
    """Each worker's period priced now: lines (project names from one query), total, currency.

    The total is the lines' plus the adjustments landing in the period.
    """
    priced = price_workers_period(workers, period)
    names = pay_project_names(worker_pay.pay for worker_pay in priced.values())
    adjustments = _adjustment_totals(list(priced), period)
    figures = {}
    for worker in workers:
        lines = live_lines(priced[worker.pk].pay, names)
        total = sum((line.amount for line in lines), adjustments.get(worker.pk, Decimal("0.00")))
        figures[worker.pk] = FreshFigures(lines, total, worker.currency)
    return figures


def _adjustment_totals(worker_ids: list[int], period: str) -> dict[int, Decimal]:
    rows = (
        Adjustment.objects.filter(worker_id__any_of=worker_ids, applies_to_period=period)
        .values("worker_id")
        .annotate(amount=Sum("amount"))
        .values_list("worker_id", "amount")
    )
    return dict(rows)


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


def _insert_missing_timesheets(
    workers: list[Worker], period: str, fresh: dict[int, FreshFigures]
) -> dict[int, int]:
    """Insert the open timesheets that do not exist yet, with their totals; return {worker id: new id}."""
    bounds = period_bounds_by_zone(period, {worker.time_zone for worker in workers})
    kinds: dict[tuple[str, str], int] = {}  # (zone, currency): its number, from 1
    for worker in workers:
        kinds.setdefault((worker.time_zone, worker.currency), len(kinds) + 1)
    params: dict[str, Any] = {
        "period": period,
        "status": Status.OPEN.value,
        "now": timezone.now(),
        "workers": int_array(worker.pk for worker in workers),
        "kinds": int_array(kinds[worker.time_zone, worker.currency] for worker in workers),
        "totals": decimal_array(fresh[worker.pk].total for worker in workers),
        "starts": [bounds[zone][0] for zone, _ in kinds],
        "ends": [bounds[zone][1] for zone, _ in kinds],
        "currencies": [currency for _, currency in kinds],
    }
    with connection.cursor() as cursor:
        cursor.execute(NEW_OPEN_TIMESHEETS_SQL, params)
        return dict(cursor.fetchall())


# (id, worker id, total) of a timesheet the close may rewrite.
OpenTimesheet = tuple[int, int, Decimal]


def _lock_unlocked(worker_ids: list[int], period: str) -> list[OpenTimesheet]:
    """Lock these workers' timesheets of the period that are not signed, in id order."""
    if not worker_ids:
        return []
    unlocked = Timesheet.objects.filter(worker_id__any_of=worker_ids, period=period)
    return list(
        locks.timesheets(unlocked.exclude(status__in=LOCKED_STATUSES)).values_list("pk", "worker_id", "total")
    )


def _store_changed(timesheets: list[OpenTimesheet], fresh: dict[int, FreshFigures]) -> int:
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
        pk: fresh[worker_id]
        for pk, worker_id, total in timesheets
        if total != fresh[worker_id].total
        or sorted(stored[pk]) != sorted(map(line_key, fresh[worker_id].lines))
    }
    timesheets_store_figures(changed)
    return len(changed)
