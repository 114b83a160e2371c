"""CSV import of finished sessions: every row lands, or none does.

Columns: worker (admins only; contractors leave it empty or give their own id),
project, started_at, ended_at, task_count, notes. A bad file is answered with every bad
row's line number and reasons; a row's line is the physical line it starts on (the
header is line 1), so a quoted notes field spanning lines shifts the rows after it.

Every rule a single entry meets is checked with the same function and words
(trainers.rules). Speed (100,000 rows in seconds): validation runs in memory against data
fetched once per file (workers, projects, assignments, stored sessions), and the rows are
written without the ORM's per-value work: PostgreSQL COPY, for the sessions and their
history rows alike.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.db import locks
from core.errors import InvalidInput
from core.periods import period_bounds, periods_touched
from trainers import rules
from trainers.hooks import period_lock_reason
from trainers.models import (
    MAX_NOTES_LENGTH,
    MAX_TASK_COUNT,
    LabellingSession,
    Project,
    Role,
    User,
    Worker,
)
from trainers.rules import EARLIEST_INSTANT, Errors, Interval, add_error
from trainers.services.session_bulk_write import write_sessions
from trainers.services.sessions import ensure_actor_may_write_for

REQUIRED_COLUMNS = ("project", "started_at", "ended_at")
KNOWN_COLUMNS = ("worker", "project", "started_at", "ended_at", "task_count", "notes")
MAX_IMPORT_ROWS = 200_000
QUERY_CHUNK = 500  # ids per IN (...) query, workers per query of their stored sessions
EXTRA_FIELDS = "\x00extra"  # marks a row longer than the header (NUL never reaches a header)

Record = tuple[int, dict[str, str]]


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
    header, records = _read_csv(content)
    with transaction.atomic():
        context = _ImportContext.load(actor, header, records, now)
        parsed, errors = context.parse_all(records)
        _check_overlaps_and_locks(parsed, errors)
        if errors:
            raise ImportRejected(
                f"{len(errors)} of {len(records)} rows are invalid; nothing was imported.", errors
            )
        _insert(actor, parsed)
    return len(parsed)


# Reading the file ------------------------------------------------------------------------


def _read_csv(content: bytes) -> tuple[list[str], list[Record]]:
    """Decode and split the file into its header and (line number, row) pairs."""
    reader = csv.reader(io.StringIO(_decode(content), newline=""), strict=True)
    records = _records(reader)
    header_line, header_fields = next(records, (0, []))
    if not header_line:
        raise ImportRejected("The file is empty.")
    header = [name.strip().lower() for name in header_fields]
    _check_header(header)
    rows: list[Record] = []
    for line, fields in records:
        if len(rows) >= MAX_IMPORT_ROWS:
            raise ImportRejected(f"A file may hold at most {MAX_IMPORT_ROWS} rows.")
        row = dict(zip(header, fields, strict=False))
        if len(fields) > len(header):
            row[EXTRA_FIELDS] = ""
        rows.append((line, row))
    if not rows:
        raise ImportRejected("The file has no rows, only a header.")
    return header, rows


def _decode(content: bytes) -> str:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise ImportRejected(f"The file must be UTF-8 text; line {line} is not.") from error
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRejected(f"The file contains a NUL byte (line {line}); it must be CSV text.")
    return text


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Yield (first physical line, fields) of each record, skipping blank lines."""
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportRejected(f"Line {start}: {error}; nothing was imported.") from error
        if any(field.strip() for field in fields):
            yield start, fields


def _check_header(header: list[str]) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [column or "(empty)" for column in header if column not in KNOWN_COLUMNS]
    repeated = sorted({column for column in header if header.count(column) > 1})
    parts = [
        f"{label}: {', '.join(columns)}"
        for label, columns in (
            ("missing columns", missing),
            ("unknown columns", unknown),
            ("repeated columns", repeated),
        )
        if columns
    ]
    if parts:
        raise ImportRejected(f"Bad header ({'; '.join(parts)}). Expected: {', '.join(KNOWN_COLUMNS)}.")


# Checking the rows -----------------------------------------------------------------------


@dataclass
class _ImportContext:
    """What the rows are checked against, fetched once per file."""

    own_worker: Worker | None
    workers: dict[int, Worker]
    projects: dict[int, Project]
    assignments: set[tuple[int, int]]
    interval_errors: Callable[[datetime, datetime], Errors]

    @classmethod
    def load(cls, actor: User, header: list[str], records: list[Record], now: datetime) -> "_ImportContext":
        """Lock the workers the file names and fetch their projects and assignments."""
        own = _own_worker(actor)
        if own is None and "worker" not in header:
            raise ImportRejected("Add a worker column: an admin's file must say whose sessions they are.")
        worker_ids = {own.pk} if own else _ids_in(records, "worker")
        project_ids = _ids_in(records, "project")
        # Fixed order (by id) so two imports never deadlock on each other's workers.
        ordered = sorted(worker_ids)
        workers = [
            worker
            for start in range(0, len(ordered), QUERY_CHUNK)
            for worker in locks.workers(ordered[start : start + QUERY_CHUNK])
        ]
        through = Project.workers.through.objects.all()
        if own:
            through = through.filter(worker_id=own.pk)
        return cls(
            own_worker=workers[0] if own else None,
            workers={w.pk: w for w in workers},
            projects={p.pk: p for p in _fetch(Project.objects.all(), project_ids)},
            assignments=set(
                _fetch(through.values_list("project_id", "worker_id"), project_ids, "project_id")
            ),
            interval_errors=partial(
                rules.interval_errors,
                now=now,
                max_hours=settings.MAX_SESSION_HOURS,
                tolerance=timedelta(seconds=settings.FUTURE_TOLERANCE_SECONDS),
            ),
        )

    def parse_all(self, records: list[Record]) -> tuple[list[ParsedRow], dict[int, Errors]]:
        """Parse every row; collect the valid ones and each bad line's reasons."""
        parsed: list[ParsedRow] = []
        errors: dict[int, Errors] = {}
        for line, row in records:
            result = self.parse_row(line, row)
            if isinstance(result, ParsedRow):
                parsed.append(result)
            else:
                errors[line] = result
        return parsed, errors

    def parse_row(self, line: int, row: dict[str, str]) -> ParsedRow | Errors:
        """Turn one CSV row into a ParsedRow, or the reasons it is invalid."""
        errors: Errors = {}
        if EXTRA_FIELDS in row:
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
            errors.update(self.interval_errors(started_at, ended_at))
        if errors or worker is None or project is None or started_at is None or ended_at is None:
            return errors
        return ParsedRow(line, worker, project, started_at, ended_at, task_count, notes)

    def _worker(self, raw: str, errors: Errors) -> Worker | None:
        raw = raw.strip()
        worker: Worker | None
        if self.own_worker is not None:
            if raw and _int_or_none(raw) != self.own_worker.pk:
                add_error(errors, "worker", "You may import only your own sessions; leave it empty.")
                return None
            worker = self.own_worker
        elif not raw:
            add_error(errors, "worker", "Required: the id of the worker the session belongs to.")
            return None
        else:
            worker = self.workers.get(_int_or_none(raw) or 0)
            if worker is None:
                add_error(errors, "worker", f"No worker with id '{raw[:40]}'.")
                return None
        _merge(errors, rules.worker_errors(active=worker.is_active))
        return worker

    def _project(self, raw: str, worker: Worker | None, errors: Errors) -> Project | None:
        raw = raw.strip()
        if not raw:
            add_error(errors, "project", "Required: the id of the project.")
            return None
        project = self.projects.get(_int_or_none(raw) or 0)
        # A contractor does not learn that projects they are not on exist.
        if project is None or (self.own_worker and not self._assigned(project, self.own_worker)):
            add_error(errors, "project", f"No project with id '{raw[:40]}' that you may log on.")
            return None
        # With no worker (already refused) only the project's own state is checked.
        assigned = worker is None or self._assigned(project, worker)
        _merge(errors, rules.project_errors(name=project.name, active=project.is_active, assigned=assigned))
        return project

    def _assigned(self, project: Project, worker: Worker) -> bool:
        return (project.pk, worker.pk) in self.assignments


def _merge(errors: Errors, more: Errors) -> None:
    """Add a rule's messages to a row's."""
    for field, messages in more.items():
        errors.setdefault(field, []).extend(messages)


def _own_worker(actor: User) -> Worker | None:
    """The contractor's own worker (they import only for it); None for an admin."""
    if actor.role == Role.ADMIN:
        return None
    own = Worker.objects.filter(user=actor).first()
    ensure_actor_may_write_for(actor, own or Worker())
    return own


def _ids_in(records: list[Record], column: str) -> set[int]:
    return {pk for _, row in records if (pk := _int_or_none(row.get(column))) is not None}


def _fetch(queryset: Any, ids: Iterable[int], field: str = "pk") -> list[Any]:
    """Evaluate `queryset` filtered to `ids`, a chunk of ids per query."""
    ordered = sorted(ids)
    found: list[Any] = []
    for start in range(0, len(ordered), QUERY_CHUNK):
        found.extend(queryset.filter(**{f"{field}__in": ordered[start : start + QUERY_CHUNK]}))
    return found


def _int_or_none(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


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
    if instant.utcoffset() is not None:
        try:
            instant = instant.astimezone(UTC).replace(microsecond=0)
        except OverflowError:  # past the calendar's end in UTC: year 1 or year 9999
            if instant.year > EARLIEST_INSTANT.year:
                add_error(errors, field, rules.FUTURE_MESSAGE)
                return None
            instant = EARLIEST_INSTANT - timedelta(days=1)
    message = rules.instant_error(instant)
    if message:
        add_error(errors, field, message)
        return None
    return instant


def _parse_task_count(raw: str, errors: Errors) -> int:
    raw = raw.strip()
    if not raw:
        return 0
    # Length first: int() of thousands of digits is slow, and refused past 4300.
    too_long = len(raw.lstrip("0")) > len(str(MAX_TASK_COUNT))
    if not (raw.isascii() and raw.isdigit()) or too_long or int(raw) > MAX_TASK_COUNT:
        add_error(errors, "task_count", f"Must be a whole number from 0 to {MAX_TASK_COUNT}.")
        return 0
    return int(raw)


# Checks across rows: overlaps and locked periods -----------------------------------------


def _check_overlaps_and_locks(parsed: list[ParsedRow], errors: dict[int, Errors]) -> None:
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
    for start in range(0, len(workers), QUERY_CHUNK):
        chunk = workers[start : start + QUERY_CHUNK]
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


def _insert(actor: User, parsed: list[ParsedRow]) -> None:
    """Write the rows; a clash that slipped past the checks refuses the whole file."""
    try:
        write_sessions(actor, parsed)
    except IntegrityError as error:
        # A backstop (PostgreSQL's constraints): the worker locks keep other writes out.
        raise ImportRejected(
            "A session saved while the file was being checked clashes with it; nothing was imported."
        ) from error
