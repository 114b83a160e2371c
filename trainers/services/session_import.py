"""CSV import of finished sessions: every row lands, or none does.

The file is read by session_csv; each row is checked here against the workers, projects
and assignments it names, then across rows by session_clashes (overlaps, locked periods),
and the file is written by session_bulk_write. A bad file is answered with every bad
row's line number and reasons.

Every rule a single entry meets is checked with the same function and words
(trainers.rules). Speed (100,000 rows in seconds): validation runs in memory against data
fetched once per file (workers, projects, assignments, stored sessions), and the rows are
written without the ORM's per-value work: PostgreSQL COPY, for the sessions and their
history rows alike.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from core.db import locks
from core.periods import periods_touched
from trainers import rules
from trainers.hooks import time_changed
from trainers.models import Project, Role, User, Worker
from trainers.rules import Errors, add_error
from trainers.services.session_bulk_write import write_sessions
from trainers.services.session_clashes import ParsedRow, check_overlaps_and_locks
from trainers.services.session_csv import (
    EXTRA_FIELDS,
    ImportRejected,
    Record,
    ids_in,
    int_or_none,
    names_in,
    parse_activity,
    parse_instant,
    parse_notes,
    parse_task_count,
    read_csv,
)
from trainers.services.sessions import ensure_actor_may_write_for, interval_rule


def sessions_import(*, actor: User, content: bytes, now: datetime | None = None) -> int:
    """Validate the whole file, then insert every row in one transaction; return the count."""
    now = now or timezone.now()
    header, records = read_csv(content)
    with transaction.atomic():
        context = _ImportContext.load(actor, header, records, now)
        parsed, errors = context.parse_all(records)
        check_overlaps_and_locks(parsed, errors)
        if errors:
            raise ImportRejected(
                f"{len(errors)} of {len(records)} rows are invalid; nothing was imported.", errors
            )
        _insert(actor, parsed)
        _announce_time_changed(parsed)
    return len(parsed)


# Checking the rows -----------------------------------------------------------------------


@dataclass
class _ImportContext:
    """What the rows are checked against, fetched once per file."""

    own_worker: Worker | None
    workers: dict[int, Worker]
    projects: dict[int, Project]
    projects_named: dict[str, list[Project]]  # by lowercased name: the file may name them
    assignments: set[tuple[int, int]]
    interval_errors: Callable[[datetime, datetime], Errors]

    @classmethod
    def load(cls, actor: User, header: list[str], records: list[Record], now: datetime) -> "_ImportContext":
        """Lock the workers the file names and fetch their projects and assignments."""
        own = _own_worker(actor)
        if own is None and "worker" not in header:
            raise ImportRejected("Add a worker column: an admin's file must say whose sessions they are.")
        worker_ids = {own.pk} if own else ids_in(records, "worker")
        # Locked in id order (locks.workers), so two imports never deadlock on each other's workers.
        workers = list(locks.workers(sorted(worker_ids)))
        named = Project.objects.annotate(key=Lower("name")).filter(key__in=names_in(records, "project"))
        projects = {p.pk: p for p in Project.objects.filter(pk__any_of=ids_in(records, "project"))}
        projects_named: defaultdict[str, list[Project]] = defaultdict(list)
        for project in named.order_by("client", "pk"):
            projects_named[project.name.lower()].append(project)
        through = Project.workers.through.objects.filter(
            project_id__any_of=[*projects, *(p.pk for same in projects_named.values() for p in same)]
        )
        if own:
            through = through.filter(worker_id=own.pk)
        return cls(
            own_worker=workers[0] if own else None,
            workers={w.pk: w for w in workers},
            projects=projects,
            projects_named=dict(projects_named),
            assignments=set(through.values_list("project_id", "worker_id")),
            interval_errors=interval_rule(now),
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
        started_at = parse_instant(row.get("started_at") or "", "started_at", errors)
        ended_at = parse_instant(row.get("ended_at") or "", "ended_at", errors)
        task_count = parse_task_count(row.get("task_count") or "", errors)
        notes = parse_notes(row.get("notes") or "", errors)
        activity = parse_activity(row.get("activity") or "", errors)
        if started_at and ended_at:
            errors.update(self.interval_errors(started_at, ended_at))
        if errors or worker is None or project is None or started_at is None or ended_at is None:
            return errors
        return ParsedRow(line, worker, project, started_at, ended_at, task_count, notes, activity)

    def _worker(self, raw: str, errors: Errors) -> Worker | None:
        raw = raw.strip()
        worker: Worker | None
        if self.own_worker is not None:
            if raw and int_or_none(raw) != self.own_worker.pk:
                add_error(errors, "worker", "You may import only your own sessions; leave it empty.")
                return None
            worker = self.own_worker
        elif not raw:
            add_error(errors, "worker", "Required: the id of the worker the session belongs to.")
            return None
        else:
            worker = self.workers.get(int_or_none(raw) or 0)
            if worker is None:
                add_error(errors, "worker", f"No worker with id '{raw[:40]}'.")
                return None
        errors.update(rules.worker_errors(active=worker.is_active))
        return worker

    def _project(self, raw: str, worker: Worker | None, errors: Errors) -> Project | None:
        raw = raw.strip()
        if not raw:
            add_error(errors, "project", "Required: the project's name (or its id).")
            return None
        if int_or_none(raw) is None:
            return self._project_named(raw, worker, errors)
        project = self.projects.get(int_or_none(raw) or 0)
        # A contractor does not learn that projects they are not on exist.
        if project is None or (self.own_worker and not self._assigned(project, self.own_worker)):
            add_error(errors, "project", f"No project with id '{raw[:40]}' that you may log on.")
            return None
        return self._checked(project, worker, errors)

    def _project_named(self, name: str, worker: Worker | None, errors: Errors) -> Project | None:
        """The one project of this name (any case) the row's worker is on; else why not.

        Names repeat across clients: among several, the worker's own count; a contractor
        never learns of projects they are not on.
        """
        candidates = self.projects_named.get(name.lower(), [])
        theirs = [project for project in candidates if worker and self._assigned(project, worker)]
        if theirs or self.own_worker:
            candidates = theirs
        if len(candidates) > 1:
            clients = ", ".join(project.client for project in candidates)
            add_error(
                errors, "project", f"Several projects are named '{name[:40]}' ({clients}): give its id."
            )
            return None
        if not candidates:
            add_error(errors, "project", f"No project named '{name[:40]}' that you may log on.")
            return None
        return self._checked(candidates[0], worker, errors)

    def _checked(self, project: Project, worker: Worker | None, errors: Errors) -> Project:
        """The project, after the rules of logging on it (active, the worker assigned)."""
        # With no worker (already refused) only the project's own state is checked.
        assigned = worker is None or self._assigned(project, worker)
        errors.update(rules.project_errors(name=project.name, active=project.is_active, assigned=assigned))
        return project

    def _assigned(self, project: Project, worker: Worker) -> bool:
        return (project.pk, worker.pk) in self.assignments


def _announce_time_changed(parsed: list[ParsedRow]) -> None:
    """Tell payroll every week the file added time to, for all its workers at once."""
    changes: dict[str, set[Worker]] = defaultdict(set)
    for row in parsed:
        for period in periods_touched(row.started_at, row.ended_at, row.worker.zone):
            changes[period].add(row.worker)  # locked by _ImportContext.load
    time_changed(changes)


def _own_worker(actor: User) -> Worker | None:
    """The contractor's own worker (they import only for it); None for an admin."""
    if actor.role == Role.ADMIN:
        return None
    own = Worker.objects.filter(user=actor).first()
    ensure_actor_may_write_for(actor, own or Worker())
    return own


def _insert(actor: User, parsed: list[ParsedRow]) -> None:
    """Write the rows; a clash that slipped past the checks refuses the whole file."""
    try:
        write_sessions(actor, parsed)
    except IntegrityError as error:
        # A backstop (PostgreSQL's constraints): the worker locks keep other writes out.
        raise ImportRejected(
            "A session saved while the file was being checked clashes with it; nothing was imported."
        ) from error
