"""CSV import of finished sessions: every row lands, or none does.

Columns: worker (admins only; contractors leave it empty or give their own id),
project, started_at, ended_at, task_count, notes. A bad file is answered with every bad
row's line number and reasons. Validation is in memory against data fetched once per
file (projects, assignments, existing sessions), so 100,000 rows take seconds.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from trainers.errors import InvalidInput
from trainers.hooks import period_lock_reason
from trainers.models import (
    MAX_NOTES_LENGTH,
    MAX_TASK_COUNT,
    LabellingSession,
    Project,
    Role,
    SessionSource,
    User,
    Worker,
)
from trainers.periods import periods_touched
from trainers.rules import Errors, Interval, add_error, interval_errors, overlap_message
from trainers.services.sessions import ensure_actor_may_write_for

REQUIRED_COLUMNS = ("project", "started_at", "ended_at")
KNOWN_COLUMNS = frozenset({"worker", "project", "started_at", "ended_at", "task_count", "notes"})
MAX_IMPORT_ROWS = 200_000
INSERT_BATCH_SIZE = 5_000


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


class ImportRejected(InvalidInput):
    """The file was refused; `rows` lists every bad line with its reasons."""

    def __init__(self, message: str, rows: dict[int, Errors] | None = None) -> None:
        rows = rows or {}
        details: list[Any] = [{"line": line, "errors": rows[line]} for line in sorted(rows)]
        super().__init__({"file": [message]})
        self.errors["rows"] = details


def sessions_import(*, actor: User, content: bytes, now: datetime | None = None) -> int:
    """Validate the whole file, then insert every row in one transaction; return the count."""
    now = now or timezone.now()
    records = _read_csv(content)
    with transaction.atomic():
        context = _ImportContext.load(actor, records)
        parsed, errors = context.parse_all(records, now)
        _check_overlaps_and_locks(parsed, errors)
        if errors:
            raise ImportRejected(
                f"{len(errors)} of {len(records)} rows are invalid; nothing was imported.", errors
            )
        _insert(actor, parsed)
    return len(parsed)


def _read_csv(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """Decode and split the file into (line number, row) pairs; refuse a malformed file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRejected("The file must be UTF-8 text.") from error
    if "\x00" in text:
        raise ImportRejected("The file contains NUL bytes.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in (reader.fieldnames or [])]
    _check_header(header)
    reader.fieldnames = header
    records: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            if len(records) >= MAX_IMPORT_ROWS:
                raise ImportRejected(f"A file may hold at most {MAX_IMPORT_ROWS} rows.")
            records.append((reader.line_num, row))
    except csv.Error as error:
        raise ImportRejected(f"Line {reader.line_num}: {error}.") from error
    if not records:
        raise ImportRejected("The file has no rows.")
    return records


def _check_header(header: list[str]) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [column for column in header if column not in KNOWN_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown columns: {', '.join(unknown)}")
        raise ImportRejected(f"Bad header ({'; '.join(parts)}). Expected: {', '.join(sorted(KNOWN_COLUMNS))}.")


@dataclass
class _ImportContext:
    """What the rows are checked against, fetched once per file."""

    actor: User
    workers: dict[str, Worker]
    own_worker: Worker | None
    projects: dict[str, Project]
    assignments: set[tuple[int, int]]

    @classmethod
    def load(cls, actor: User, records: list[tuple[int, dict[str, str]]]) -> "_ImportContext":
        """Lock the workers named in the file and fetch their projects and assignments."""
        own = Worker.objects.filter(user=actor).first()
        if own is not None:
            ensure_actor_may_write_for(actor, own)
        elif actor.role != Role.ADMIN:
            ensure_actor_may_write_for(actor, Worker())
        worker_ids = {_int_or_none(row.get("worker")) for _, row in records} - {None}
        if own is not None:
            worker_ids.add(own.pk)
        # Fixed order (by id) so two imports never deadlock on each other's workers.
        workers = Worker.objects.select_for_update().filter(pk__in=worker_ids).order_by("pk")
        project_ids = {_int_or_none(row.get("project")) for _, row in records} - {None}
        projects = Project.objects.filter(pk__in=project_ids)
        through = Project.workers.through.objects.filter(project_id__in=project_ids)
        return cls(
            actor=actor,
            workers={str(w.pk): w for w in workers},
            own_worker=own,
            projects={str(p.pk): p for p in projects},
            assignments=set(through.values_list("project_id", "worker_id")),
        )

    def parse_all(
        self, records: list[tuple[int, dict[str, str]]], now: datetime
    ) -> tuple[list[ParsedRow], dict[int, Errors]]:
        """Parse every row; collect the valid ones and each bad line's reasons."""
        parsed: list[ParsedRow] = []
        errors: dict[int, Errors] = {}
        for line, row in records:
            result = self.parse_row(line, row, now)
            if isinstance(result, ParsedRow):
                parsed.append(result)
            else:
                errors[line] = result
        return parsed, errors

    def parse_row(self, line: int, row: dict[str, str], now: datetime) -> ParsedRow | Errors:
        """Turn one CSV row into a ParsedRow, or the reasons it is invalid."""
        errors: Errors = {}
        if None in row:
            add_error(errors, "row", "Has more fields than the header.")
        worker = self._worker(row.get("worker") or "", errors)
        project = self._project(row.get("project") or "", worker, errors)
        started_at = _parse_instant(row.get("started_at") or "", "started_at", errors)
        ended_at = _parse_instant(row.get("ended_at") or "", "ended_at", errors)
        task_count = _parse_task_count(row.get("task_count") or "", errors)
        notes = row.get("notes") or ""
        if len(notes) > MAX_NOTES_LENGTH:
            add_error(errors, "notes", f"At most {MAX_NOTES_LENGTH} characters.")
        if started_at and ended_at:
            errors.update(_interval_errors(started_at, ended_at, now))
        if errors or not (worker and project and started_at and ended_at):
            return errors
        return ParsedRow(line, worker, project, started_at, ended_at, task_count, notes)

    def _worker(self, raw: str, errors: Errors) -> Worker | None:
        raw = raw.strip()
        if self.own_worker is not None and raw in ("", str(self.own_worker.pk)):
            worker: Worker | None = self.own_worker
        elif self.own_worker is not None:
            add_error(errors, "worker", "You may import only your own sessions; leave it empty.")
            return None
        elif not raw:
            add_error(errors, "worker", "Required: the id of the worker the session belongs to.")
            return None
        else:
            worker = self.workers.get(raw)
            if worker is None:
                add_error(errors, "worker", f"No worker with id '{raw}'.")
        if worker is not None and not worker.is_active:
            add_error(errors, "worker", "This worker is inactive and cannot log time.")
        return worker

    def _project(self, raw: str, worker: Worker | None, errors: Errors) -> Project | None:
        project = self.projects.get(raw.strip())
        visible = project is not None and (
            self.actor.role == Role.ADMIN
            or (worker is not None and (project.pk, worker.pk) in self.assignments)
        )
        if not visible or project is None:
            add_error(errors, "project", f"No project with id '{raw.strip()}' that you may log on.")
            return None
        if not project.is_active:
            add_error(errors, "project", f"Project '{project.name}' is inactive.")
        elif worker is not None and (project.pk, worker.pk) not in self.assignments:
            add_error(errors, "project", f"The worker is not assigned to project '{project.name}'.")
        return project


def _int_or_none(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _parse_instant(raw: str, field: str, errors: Errors) -> datetime | None:
    raw = raw.strip()
    if not raw:
        add_error(errors, field, "Required.")
        return None
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        add_error(errors, field, f"'{raw[:40]}' is not an ISO 8601 date-time.")
        return None
    if instant.utcoffset() is None:
        add_error(errors, field, "Must include a UTC offset, e.g. 2026-11-02T09:00:00-06:00.")
        return None
    return instant.replace(microsecond=0)


def _parse_task_count(raw: str, errors: Errors) -> int:
    raw = raw.strip()
    if not raw:
        return 0
    if not raw.isdigit() or int(raw) > MAX_TASK_COUNT:
        add_error(errors, "task_count", f"Must be a whole number from 0 to {MAX_TASK_COUNT}.")
        return 0
    return int(raw)


def _interval_errors(started_at: datetime, ended_at: datetime, now: datetime) -> Errors:
    return interval_errors(
        started_at, ended_at, now=now, max_hours=settings.MAX_SESSION_HOURS,
        tolerance=timedelta(seconds=settings.FUTURE_TOLERANCE_SECONDS),
    )


def _check_overlaps_and_locks(parsed: list[ParsedRow], errors: dict[int, Errors]) -> None:
    """Add overlap errors (within the file and with stored sessions) and lock errors."""
    by_worker: dict[Worker, list[ParsedRow]] = defaultdict(list)
    for row in parsed:
        by_worker[row.worker].append(row)
    for worker, rows in by_worker.items():
        _check_worker_overlaps(worker, rows, errors)
        _check_worker_locks(worker, rows, errors)


def _check_worker_overlaps(worker: Worker, rows: list[ParsedRow], errors: dict[int, Errors]) -> None:
    """Sweep the file's rows and the stored sessions in start order, flagging any clash."""
    span = (min(r.started_at for r in rows), max(r.ended_at for r in rows))
    stored = LabellingSession.objects.filter(worker=worker, started_at__lt=span[1]).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=span[0])
    )
    items: list[tuple[Interval, int | None]] = [
        (Interval(s.started_at, s.ended_at, s.pk), None) for s in stored
    ]
    items += [(Interval(r.started_at, r.ended_at), r.line) for r in rows]
    items.sort(key=lambda item: item[0].start)
    reach: tuple[Interval, int | None] | None = None
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
        message = overlap_message(partner) if partner_line is None else f"Overlaps line {partner_line}."
        row_errors = errors.setdefault(line, {})
        if message not in row_errors.get("started_at", []):
            add_error(row_errors, "started_at", message)


def _check_worker_locks(worker: Worker, rows: list[ParsedRow], errors: dict[int, Errors]) -> None:
    reasons: dict[str, str | None] = {}
    for row in rows:
        for period in periods_touched(row.started_at, row.ended_at, worker.zone):
            if period not in reasons:
                reasons[period] = period_lock_reason(worker, period)
            if reasons[period]:
                add_error(errors.setdefault(row.line, {}), "started_at", f"Period {period} is locked: {reasons[period]}")


def _insert(actor: User, parsed: list[ParsedRow]) -> None:
    sessions = [
        LabellingSession(
            worker=row.worker, project=row.project, started_at=row.started_at,
            ended_at=row.ended_at, task_count=row.task_count, notes=row.notes,
            source=SessionSource.IMPORT,
        )
        for row in parsed
    ]
    bulk_create_with_history(
        sessions, LabellingSession, batch_size=INSERT_BATCH_SIZE, default_user=actor
    )

