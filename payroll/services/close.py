"""Pricing timesheets into stored lines: on every write, and in bulk at the period close.

`timesheets_refresh` is the one way a timesheet's lines and total are written before
submit. The writes call it for the weeks they touch (payroll.services.timesheets); the
close fans out in chunks of the workers it covers (payroll.selectors.close), each chunk
one call, and after normal operation finds nothing to change.
"""

import json
import logging
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from core.db import locks
from core.db.lookups import decimal_array, int_array
from core.periods import period_bounds_by_zone
from payroll.models import LINE_VALUES, LOCKED_STATUSES, TimesheetStatus
from payroll.selectors.pricing import price_workers_period
from payroll.selectors.timesheets import live_lines
from payroll.services.pay_summaries import SummaryChanges, SummedTimesheet
from payroll.services.timesheet_lines import (
    FreshFigures,
    line_key,
    timesheet_lines_insert,
    timesheets_store_figures,
    unpriced_json,
)
from trainers.models import Worker

Status = TimesheetStatus
logger = logging.getLogger(__name__)


def timesheets_refresh(*, workers: Iterable[Worker | int], period: str, locked: bool = False) -> int:
    """Create the period's timesheets that have something to pay and store fresh figures.

    `workers`: the workers or their ids; they are read again once locked (below), unless
    `locked`: the caller holds their rows (FOR UPDATE, as every session write does) and
    read them under that lock, so they are used as given (one statement fewer a write).

    Every write that changes a worker's pay calls this for the weeks it touched, inside its
    own transaction (no savepoint: a failure here undoes the write); the close calls it
    for a chunk of workers at a time, as the safety net. A fixed number of queries whatever
    the workers' count. Existing unsigned timesheets are locked in id order (so two
    refreshes of overlapping chunks queue rather than deadlock) and rewritten only where
    their lines, unpriced time or total changed. A missing one is inserted with its lines
    and total at once when the period has finished time or an adjustment for it.
    Idempotent: a second run writes nothing. Returns how many were created or changed.
    """
    given = list(workers)
    ids = sorted(worker if isinstance(worker, int) else worker.pk for worker in given)
    if not ids:
        return 0
    with transaction.atomic(savepoint=False):
        workers = _held_workers(given) if locked else _lock_workers_for_close(ids)
        fresh, worth_a_timesheet = _fresh_figures(workers, period)
        unsigned = _lock_unsigned(ids, period)
        teams = {worker.pk: worker.team_id for worker in workers}
        summaries = SummaryChanges()
        changed = _store_changed(unsigned, fresh, _Counted(period, teams, summaries))
        have = {stored.worker_id for stored in unsigned}
        missing = [worker for worker in workers if worker.pk in worth_a_timesheet and worker.pk not in have]
        created = _insert_missing_timesheets(missing, period, fresh)  # a signed one stays as it is
        timesheet_lines_insert({pk: fresh[worker_id].lines for worker_id, pk in created.items()})
        for worker_id in created:
            summaries.add(_figures_of(fresh[worker_id], period, teams[worker_id]), 1)
        summaries.insert()
    return len(created) + changed


def timesheets_close(*, worker_ids: list[int], period: str) -> int:
    """The close of some workers' period: price it from scratch; count (and report) what differed.

    After normal operation every week is current, so the close changes nothing. A week it
    has to create or correct is a write that did not price its week: logged as an error
    (an alert), and corrected all the same.
    """
    changed = timesheets_refresh(workers=worker_ids, period=period)
    if changed:
        logger.error(
            "The close of %s corrected %d of %d timesheets: a write did not price its week.",
            period,
            changed,
            len(worker_ids),
        )
    return changed


def _lock_workers_for_close(ids: list[int]) -> list[Worker]:
    """Lock these workers first, as every service does, then read them as they now are.

    A zone or currency change (worker_update locks the worker) then lands wholly before or
    after the chunk, never between its read and its insert; and a submit or invoicing
    holding a worker queues the chunk before it holds any timesheet (no deadlock).
    """
    return locks.workers_key_share(ids)


def _held_workers(given: list[Worker | int]) -> list[Worker]:
    """The workers a caller locked and read, in id order (the order the locks below follow)."""
    held = [worker for worker in given if isinstance(worker, Worker)]
    if len(held) != len(given):
        raise TypeError("Locked workers are passed as the Worker rows the caller read under its lock.")
    return sorted(held, key=lambda worker: worker.pk)


def _fresh_figures(workers: list[Worker], period: str) -> tuple[dict[int, FreshFigures], set[int]]:
    """Each worker's period priced now, and which workers have something in it to pay.

    The total is the lines' plus the adjustments landing in the period. The lines go to
    the database, which stores a project's id, not its name: no query for the names.
    """
    priced = price_workers_period(workers, period)
    adjustments = _adjustment_totals(list(priced), period)
    figures = {}
    for worker in workers:
        pay = priced[worker.pk]
        lines = live_lines(pay)
        total = sum((line.amount for line in lines), adjustments.get(worker.pk, Decimal("0.00")))
        unpriced = tuple((gap.project_id, gap.seconds) for gap in pay.unpriced)
        figures[worker.pk] = FreshFigures(lines, total, worker.currency, unpriced)
    worth = {pk for pk, fresh in figures.items() if fresh.lines or fresh.unpriced or pk in adjustments}
    return figures, worth


# Plain SQL: on every session write, building the ORM's query cost more than running it.
ADJUSTMENT_TOTALS_SQL = """
SELECT worker_id, SUM(amount) FROM payroll_adjustment
WHERE worker_id = ANY(%s::bigint[]) AND applies_to_period = %s GROUP BY worker_id
"""


def _adjustment_totals(worker_ids: list[int], period: str) -> dict[int, Decimal]:
    with connection.cursor() as cursor:
        cursor.execute(ADJUSTMENT_TOTALS_SQL, [int_array(worker_ids), period])
        return dict(cursor.fetchall())


# What bulk_create(ignore_conflicts=True) would write, from arrays, returning what it
# inserted: thousands of model instances and prepared values cost more than the insert.
# Per worker: id, total and the number of its (zone, currency) among the few a chunk has,
# each long array one string (`int_array`, `decimal_array`); the bounds follow from the zone.
# A timesheet created concurrently is kept (the unique constraint) and not returned.
NEW_OPEN_TIMESHEETS_SQL = """
INSERT INTO payroll_timesheet (worker_id, period, period_start, period_end, currency,
    status, total, unpriced, decision_note, created_at, updated_at)
SELECT new.worker_id, %(period)s, kind.period_start, kind.period_end, kind.currency,
    %(status)s, new.total, new.unpriced::jsonb, '', %(now)s, %(now)s
FROM unnest(%(workers)s::bigint[], %(kinds)s::bigint[], %(totals)s::numeric[], %(unpriced)s::text[])
    AS new (worker_id, kind, total, unpriced)
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
    if not workers:
        return {}
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
        "unpriced": [unpriced_json(fresh[worker.pk]) for worker in workers],
        "starts": [bounds[zone][0] for zone, _ in kinds],
        "ends": [bounds[zone][1] for zone, _ in kinds],
        "currencies": [currency for _, currency in kinds],
    }
    with connection.cursor() as cursor:
        cursor.execute(NEW_OPEN_TIMESHEETS_SQL, params)
        return dict(cursor.fetchall())


class StoredTimesheet(NamedTuple):
    """An unsigned timesheet as stored, locked: what a refresh compares fresh figures with."""

    pk: int
    worker_id: int
    total: Decimal
    currency: str
    unpriced: list[list[int]]
    lines: Counter[tuple[object, ...]]  # line_key of each stored line


# The unsigned timesheets locked in id order (after their workers: core.db.locks) and their
# lines, in one round trip: on every session write the ORM's two queries cost more than this.
LOCK_UNSIGNED_SQL = f"""
WITH locked AS MATERIALIZED (
    SELECT id, worker_id, total, currency, unpriced FROM payroll_timesheet
    WHERE worker_id = ANY(%s::bigint[]) AND period = %s AND status <> ALL(%s::varchar[])
    ORDER BY id FOR UPDATE
)
SELECT locked.*, {", ".join(f"line.{name}" for name in LINE_VALUES)}
FROM locked LEFT JOIN payroll_timesheetline AS line ON line.timesheet_id = locked.id
"""  # noqa: S608 - the line's column names, a constant


def _lock_unsigned(worker_ids: list[int], period: str) -> list[StoredTimesheet]:
    """Lock these workers' timesheets of the period that are not signed, with their lines."""
    if not worker_ids:
        return []
    found: dict[int, StoredTimesheet] = {}
    with connection.cursor() as cursor:
        cursor.execute(LOCK_UNSIGNED_SQL, [int_array(worker_ids), period, sorted(LOCKED_STATUSES)])
        for pk, worker_id, total, currency, unpriced, *line in cursor.fetchall():
            # Django has psycopg hand jsonb over as text (its JSONField decodes it): so do we.
            stored = StoredTimesheet(pk, worker_id, total, currency, json.loads(unpriced), Counter())
            stored = found.setdefault(pk, stored)
            if line[LINE_VALUES.index("kind")] is not None:  # a timesheet without lines joins none
                stored.lines[tuple(line)] += 1
    return list(found.values())


def _differs(stored: StoredTimesheet, fresh: FreshFigures) -> bool:
    return (
        (stored.total, stored.currency) != (fresh.total, fresh.currency)
        or [tuple(gap) for gap in stored.unpriced] != list(fresh.unpriced)
        or stored.lines != Counter(map(line_key, fresh.lines))
    )


class _Counted(NamedTuple):
    """Where a refresh counts what it changes in the pay summaries: the period, each worker's team."""

    period: str
    teams: dict[int, int | None]
    summaries: SummaryChanges


def _store_changed(
    timesheets: list[StoredTimesheet], fresh: dict[int, FreshFigures], counted: _Counted
) -> int:
    """Rewrite the lines and total of the timesheets whose figures differ; return how many.

    Their old figures leave the pay summaries and their new ones enter.
    """
    changed = {}
    for stored in timesheets:
        figures = fresh[stored.worker_id]
        if _differs(stored, figures):
            changed[stored.pk] = figures
            team = counted.teams[stored.worker_id]
            lines = stored.lines.elements()
            old = SummedTimesheet(counted.period, team, stored.currency, lines, stored.total)
            counted.summaries.add(old, -1)
            counted.summaries.add(_figures_of(figures, counted.period, team), 1)
    timesheets_store_figures(changed)
    return len(changed)


def _figures_of(fresh: FreshFigures, period: str, team_id: int | None) -> SummedTimesheet:
    return SummedTimesheet(period, team_id, fresh.currency, map(line_key, fresh.lines), fresh.total)
