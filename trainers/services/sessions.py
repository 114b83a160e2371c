"""Every write to labelling sessions: timer start/stop, manual entries, edits, deletes.

Each service locks the worker row first, so one worker's session writes run one at a
time. PostgreSQL's exclusion constraint refuses an overlapping session (no overlap query
before every write), and the refusal names the session it overlaps, read after the
rollback. The rules and their words are trainers.rules, shared with the CSV import.

Every write that changes finished time announces the weeks it touched
(`announce_time_changed`), inside its transaction: payroll prices those weeks again there,
so a timesheet's lines are current the moment the write commits. A running timer is not
time yet: starting one announces nothing.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.db import locks
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.periods import periods_touched
from trainers import rules
from trainers.hooks import period_lock_reason, time_changed
from trainers.models import Activity, LabellingSession, Project, Role, SessionSource, User, Worker
from trainers.rules import Errors, Interval, truncate_to_second
from trainers.services.session_bulk_write import session_insert_with_history

EDITABLE_FIELDS = frozenset({"project", "activity", "started_at", "ended_at", "task_count", "notes"})


def session_start(
    *,
    actor: User,
    worker: Worker,
    project: Project,
    activity: str = Activity.LABELLING,
    notes: str = "",
    now: datetime | None = None,
) -> LabellingSession:
    """Start the worker's timer now; 409 if one is already running."""
    started_at = truncate_to_second(now or timezone.now())
    with _overlap_named_after_rollback(), transaction.atomic():
        worker, assigned = _lock_worker(actor, worker, project=project)
        running = LabellingSession.objects.filter(worker=worker, ended_at__isnull=True).first()
        if running:
            since = f"{running.started_at:%Y-%m-%d %H:%M} UTC"
            raise Conflict(f"Session {running.pk} has been running since {since}; stop it first.")
        session = LabellingSession(
            worker=worker,
            project=project,
            activity=activity,
            started_at=started_at,
            notes=notes,
            source=SessionSource.TIMER,
        )
        _validate_and_save(actor, session, now=started_at, assigned=assigned)
    return session


def session_stop(
    *,
    actor: User,
    session: LabellingSession,
    task_count: int | None = None,
    now: datetime | None = None,
) -> LabellingSession | None:
    """Stop a running timer now; past MAX_SESSION_HOURS it stops at exactly that length.

    Stopped in its first second (no whole second worked), the timer is discarded and None
    is returned: its start was a slip, and a second that was not worked is not paid.
    """
    now = truncate_to_second(now or timezone.now())
    with _overlap_named_after_rollback(), transaction.atomic():
        _lock_worker_for_write(actor, session.worker)
        session = _locked_session(session.pk)
        if not session.is_running:
            raise Conflict(f"Session {session.pk} is already stopped.")
        if now <= session.started_at:  # no whole second, or this server's clock runs behind
            _delete(actor, session)
            return None
        session.ended_at, session.needs_review = _capped_end(session.started_at, now)
        if terms_errors(session):  # stopped after its project closed or its worker left it
            session.needs_review = True
        if task_count is not None:
            session.task_count = task_count
        _validate_and_save(actor, session, now=now, adds_time=False)
        announce_time_changed(session.worker, session)
    return session


def session_create(
    *,
    actor: User,
    worker: Worker,
    project: Project,
    started_at: datetime,
    ended_at: datetime,
    task_count: int = 0,
    notes: str = "",
    activity: str = Activity.LABELLING,
    source: str = SessionSource.MANUAL,
    now: datetime | None = None,
) -> LabellingSession:
    """Record a finished session entered by hand."""
    with _overlap_named_after_rollback(), transaction.atomic():
        worker, assigned = _lock_worker(actor, worker, project=project)
        session = LabellingSession(
            worker=worker,
            project=project,
            started_at=truncate_to_second(started_at),
            ended_at=truncate_to_second(ended_at),
            task_count=task_count,
            notes=notes,
            activity=activity,
            source=source,
        )
        _validate_and_save(actor, session, now=now or timezone.now(), assigned=assigned)
        announce_time_changed(worker, session)
    return session


def session_update(
    *,
    actor: User,
    session: LabellingSession,
    changes: Mapping[str, Any],
    now: datetime | None = None,
) -> LabellingSession:
    """Apply a (partial) edit; the merged session is validated as a whole."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput({field: ["This field cannot be changed."] for field in sorted(unknown)})
    with _overlap_named_after_rollback(), transaction.atomic():
        _lock_worker_for_write(actor, session.worker)
        session = _locked_session(session.pk)
        _ensure_unlocked(session.worker, session.started_at, session.ended_at)
        before = Interval(session.started_at, session.ended_at)
        project_before = session.project_id
        for field, value in changes.items():
            if field in ("started_at", "ended_at"):
                value = truncate_to_second(value)
            setattr(session, field, value)
        adds_time = session.project_id != project_before or not _within(session, before)
        _validate_and_save(actor, session, now=now or timezone.now(), adds_time=adds_time)
        announce_time_changed(session.worker, before, session)
    return session


def _within(session: LabellingSession, before: Interval) -> bool:
    """Whether the edited session lies inside what it was (shortened, or notes and counts only)."""
    if session.ended_at is None or before.end is None:
        return False
    return before.start <= session.started_at and session.ended_at <= before.end


def session_delete(*, actor: User, session: LabellingSession) -> None:
    """Delete a session unless its period is locked."""
    with transaction.atomic():
        _lock_worker_for_write(actor, session.worker)
        _delete(actor, _locked_session(session.pk))


def _locked_session(pk: int) -> LabellingSession:
    """SELECT ... FOR UPDATE the session (after its worker); 404 if a concurrent request deleted it."""
    session = locks.session(pk)
    if session is None:
        raise NotFound(f"Session {pk} no longer exists.")
    return session


def _delete(actor: User, session: LabellingSession) -> None:
    _ensure_unlocked(session.worker, session.started_at, session.ended_at)
    session._history_user = actor  # type: ignore[attr-defined]
    gone = Interval(session.started_at, session.ended_at)
    session.delete()
    announce_time_changed(session.worker, gone)


def announce_time_changed(worker: Worker, *spans: Interval | LabellingSession) -> None:
    """Tell payroll (trainers.hooks) which of the worker's weeks these finished spans touch.

    Each span is the time as it was or as it now is: an edit passes both, so the week a
    session left is priced again as well as the week it joined. Running spans are skipped.
    """
    periods: set[str] = set()
    for span in spans:
        if isinstance(span, LabellingSession):
            span = Interval(span.started_at, span.ended_at)
        if span.end is not None:
            periods.update(periods_touched(span.start, span.end, worker.zone))
    time_changed({period: {worker} for period in periods})


def ensure_actor_may_write_for(actor: User, worker: Worker) -> None:
    """Contractors write their own sessions; admins any; other roles none."""
    if actor.role == Role.ADMIN:
        return
    if actor.role == Role.CONTRACTOR and worker.user_id == actor.pk:  # the worker is theirs
        return
    raise Forbidden("Only the contractor (or an admin) may change these sessions.")


# The overlap read after a refused write is plain SQL: built by the ORM it cost more Python
# than PostgreSQL spent running it. RawQuerySet applies the fields' converters.
OVERLAP_SQL = (
    "SELECT id, started_at, ended_at FROM trainers_labellingsession"
    " WHERE worker_id = %s AND id <> %s AND (ended_at IS NULL OR ended_at > %s)"
)
NEWEST_FIRST = " ORDER BY started_at DESC, id DESC LIMIT 1"  # the model's ordering


class _OverlapRefused(Exception):
    """PostgreSQL's exclusion constraint refused `session`; its transaction must end before we look why."""

    def __init__(self, session: LabellingSession) -> None:
        self.session = session
        super().__init__(f"Session of worker {session.worker_id} overlaps another.")


@contextmanager
def _overlap_named_after_rollback() -> Iterator[None]:
    """Around a service's transaction: an overlap the constraint refused becomes the check's 400.

    The refused INSERT aborted the transaction, so the session it overlaps is read once it
    has rolled back (the newest one, as the explicit check names it). If that one has gone
    meanwhile, the refusal says so without a name.
    """
    try:
        yield
    except _OverlapRefused as refused:
        other = _overlapping_session(refused.session)
        message = rules.overlap_message(other) if other else rules.OVERLAP_BACKSTOP_MESSAGE
        raise InvalidInput({"started_at": [message]}) from refused.__cause__


def _lock_worker_for_write(actor: User, worker: Worker) -> Worker:
    return _lock_worker(actor, worker, project=None)[0]


def _lock_worker(actor: User, worker: Worker, *, project: Project | None) -> tuple[Worker, bool]:
    """SELECT ... FOR UPDATE the worker (re-read whole) and whether it is assigned to `project`."""
    ensure_actor_may_write_for(actor, worker)
    return locks.worker_with_assignment(worker.pk, project.pk if project else None)


def _capped_end(started_at: datetime, now: datetime) -> tuple[datetime, bool]:
    longest = timedelta(hours=settings.MAX_SESSION_HOURS)
    if now - started_at > longest:
        return started_at + longest, True
    return now, False


def _validate_and_save(
    actor: User,
    session: LabellingSession,
    *,
    now: datetime,
    assigned: bool | None = None,
    adds_time: bool = True,
) -> None:
    errors = session_rule_errors(session, now=now, assigned=assigned, adds_time=adds_time)
    if errors:
        raise InvalidInput(errors)
    _ensure_unlocked(session.worker, session.started_at, session.ended_at)
    session._history_user = actor  # type: ignore[attr-defined]
    _save_with_backstop(session, actor)


def session_rule_errors(
    session: LabellingSession, *, now: datetime, assigned: bool | None = None, adds_time: bool = True
) -> Errors:
    """Return every §1 rule the session breaks, except overlap and locks.

    `assigned`: whether the worker is on the session's project, if the caller has just
    read it (with the worker's lock); None reads it here. `adds_time` False: a running
    timer being stopped, or a session shortened on its own project (or only its notes or
    count changed). Its project and worker were checked when the time was logged; if the
    project was closed, or the worker taken off it or made inactive since, the time must
    still end, or be corrected, at the real time (the forgotten-timer job cuts a timer at
    MAX_SESSION_HOURS and asks the contractor to correct it).
    """
    errors = interval_rule(now)(session.started_at, session.ended_at)
    if adds_time:
        errors.update(terms_errors(session, assigned=assigned))
    return errors


def interval_rule(now: datetime) -> Callable[[datetime, datetime | None], Errors]:
    """The §1 interval rule at `now`, with the limits of the settings (hours, future tolerance)."""
    return partial(
        rules.interval_errors,
        now=now,
        max_hours=settings.MAX_SESSION_HOURS,
        tolerance=timedelta(seconds=settings.FUTURE_TOLERANCE_SECONDS),
    )


def terms_errors(session: LabellingSession, *, assigned: bool | None = None) -> Errors:
    """What the session's project and worker refuse: an inactive or unassigned project, an inactive worker.

    `assigned` is read here (one query) unless the caller passes it; an inactive project
    needs no read.
    """
    project, worker = session.project, session.worker
    if assigned is None and project.is_active:
        assigned = project.workers.filter(pk=worker.pk).exists()
    errors = rules.project_errors(name=project.name, active=project.is_active, assigned=bool(assigned))
    return errors | rules.worker_errors(active=worker.is_active)


def _ensure_unlocked(worker: Worker, started_at: datetime, ended_at: datetime | None) -> None:
    for period in periods_touched(started_at, ended_at, worker.zone):
        reason = period_lock_reason(worker, period)
        if reason:
            raise Conflict(rules.locked_message(period, reason))


def _overlapping_session(session: LabellingSession) -> Interval | None:
    """The newest other session of the worker that overlaps this one (a running one never ends)."""
    sql, params = OVERLAP_SQL, [session.worker_id, session.pk or 0, session.started_at]
    if session.ended_at is not None:
        sql, params = f"{sql} AND started_at < %s", [*params, session.ended_at]
    candidate = Interval(session.started_at, session.ended_at, session.pk)
    others = (
        Interval(s.started_at, s.ended_at, s.pk)
        for s in LabellingSession.objects.raw(sql + NEWEST_FIRST, params)
    )
    return rules.first_overlap(candidate, others)


def _save_with_backstop(session: LabellingSession, actor: User) -> None:
    """Save; translate a constraint violation (an overlap, or one that raced past the checks above)."""
    try:
        # No savepoint (two round trips per write): every caller is inside its own atomic
        # block, which an IntegrityError here rolls back whole.
        with transaction.atomic(savepoint=False):
            if session._state.adding:  # the busiest write: the session and its history row at once
                session_insert_with_history(session, actor=actor)
            else:
                session.save()  # simple-history writes its row, naming session._history_user
    except IntegrityError as error:
        text = str(error)
        if "session_no_overlap" in text:
            raise _OverlapRefused(session) from error
        if "session_one_running_per_worker" in text:
            raise Conflict("A session is already running; stop it first.") from error
        raise
