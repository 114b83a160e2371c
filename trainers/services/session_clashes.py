"""Checks across the rows of an import: overlaps and locked periods.

A row can be refused for what the other rows or the stored sessions hold: a session of
the same worker overlapping it (in the file or stored, running ones included), or a
period of its worker that payroll has locked. Stored sessions are read a chunk of workers
at a time, and each period's lock is asked once per worker, never once per row.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q

from core.periods import period_bounds, periods_touched
from trainers import rules
from trainers.hooks import period_lock_reason
from trainers.models import Activity, LabellingSession, Project, Worker
from trainers.rules import Errors, Interval, add_error

WORKERS_PER_QUERY = 500  # workers per query of their stored sessions


@dataclass
class ParsedRow:
    """One valid-looking row, before the checks that need the other rows."""

    line: int
    worker: Worker
    project: Project
    started_at: datetime
    ended_at: datetime
    task_count: int
    notes: str
    activity: str = Activity.LABELLING


def check_overlaps_and_locks(parsed: list[ParsedRow], errors: dict[int, Errors]) -> None:
    """Add overlap errors (within the file and with stored sessions) and lock errors."""
    by_worker: dict[Worker, list[ParsedRow]] = defaultdict(list)
    for row in parsed:
        by_worker[row.worker].append(row)
    stored = _stored_intervals(by_worker)
    for worker, rows in by_worker.items():
        _check_worker_overlaps(rows, stored[worker.pk], errors)
        _check_worker_locks(worker, rows, errors)


def _stored_intervals(by_worker: dict[Worker, list[ParsedRow]]) -> dict[int, list[Interval]]:
    """Fetch the stored sessions (running ones too) that could touch the file's rows."""
    found: dict[int, list[Interval]] = defaultdict(list)
    workers = sorted(by_worker, key=lambda w: w.pk)
    for start in range(0, len(workers), WORKERS_PER_QUERY):
        chunk = workers[start : start + WORKERS_PER_QUERY]
        rows = [row for worker in chunk for row in by_worker[worker]]
        earliest, latest = min(r.started_at for r in rows), max(r.ended_at for r in rows)
        stored = LabellingSession.objects.filter(worker__in=chunk, started_at__lt=latest).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=earliest)
        )
        for worker_id, pk, started_at, ended_at in stored.values_list(
            "worker_id", "pk", "started_at", "ended_at"
        ):
            found[worker_id].append(Interval(started_at, ended_at, pk))
    return found


def _check_worker_overlaps(rows: list[ParsedRow], stored: list[Interval], errors: dict[int, Errors]) -> None:
    """Sweep the file's rows and the stored sessions in start order, flagging any clash."""
    items: list[tuple[Interval, int | None]] = [(interval, None) for interval in stored]
    items += [(Interval(r.started_at, r.ended_at), r.line) for r in rows]
    items.sort(key=lambda item: item[0].start)
    reach: tuple[Interval, int | None] | None = None  # the item reaching furthest so far
    for interval, line in items:
        if reach is not None and reach[0].overlaps(interval):
            _report_overlap(errors, (interval, line), reach)
        if reach is None or _end_key(interval) > _end_key(reach[0]):
            reach = (interval, line)


def _end_key(interval: Interval) -> datetime:
    return interval.end or datetime.max.replace(tzinfo=UTC)


def _report_overlap(
    errors: dict[int, Errors], item: tuple[Interval, int | None], other: tuple[Interval, int | None]
) -> None:
    for (_, line), (partner, partner_line) in ((item, other), (other, item)):
        if line is None:
            continue
        message = rules.overlap_message(partner) if partner_line is None else f"Overlaps line {partner_line}."
        row_errors = errors.setdefault(line, {})
        if message not in row_errors.get("started_at", []):
            add_error(row_errors, "started_at", message)


def _check_worker_locks(worker: Worker, rows: list[ParsedRow], errors: dict[int, Errors]) -> None:
    """Flag rows touching a locked period; most rows lie in the same period as the row before."""
    reasons: dict[str, str | None] = {}
    zone = worker.zone
    last: tuple[datetime, datetime, str] | None = None  # UTC bounds and key of a period seen
    for row in rows:
        if last and last[0] <= row.started_at and row.ended_at <= last[1]:
            periods = [last[2]]
        else:
            periods = periods_touched(row.started_at, row.ended_at, zone)
            last = (*period_bounds(periods[0], zone), periods[0])
        for period in periods:
            if period not in reasons:
                reasons[period] = period_lock_reason(worker, period)
            reason = reasons[period]
            if reason:
                add_error(errors.setdefault(row.line, {}), "started_at", rules.locked_message(period, reason))
