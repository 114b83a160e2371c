"""Timesheet services without HTTP: the state machine per role, stored lines, locks, adjustments.

The world's contractor A (America/Chicago, team A) has one 2 h session on Mon 2026-11-02
09:00-11:00 local (period 2026-W45) on project A. `now` is frozen at Fri 2026-11-20
12:00 UTC, which is 2026-W47 in every zone of the world, so adjustments land in W47 or
later. Tests add a 15.00 USD default rate where they need priced time.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput
from payroll.models import Adjustment, Rate, Timesheet, TimesheetEvent, TimesheetLine, TimesheetStatus
from payroll.selectors.timesheet_locks import timesheet_lock_reason
from payroll.selectors.timesheets import next_open_period, timesheet_figures
from payroll.services.adjustments import adjustment_create
from payroll.services.close import timesheets_refresh
from payroll.services.timesheet_transitions import TRANSITIONS, timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.conftest import NOW, World
from tests.factories import ProjectFactory, RateFactory, SessionFactory, WorkerFactory, give_time
from trainers.models import LabellingSession, Role, Worker
from trainers.services.people import worker_update
from trainers.services.sessions import session_create, session_delete, session_start, session_update

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
W44, W45, W46, W47, W48, W49 = (f"2026-W{week}" for week in range(44, 50))
ACTORS = ["contractor_a", "contractor_a2", "contractor_b", "manager_a", "manager_b", "finance", "admin"]
# Who may take each action on contractor A's timesheet, from the state it starts in.
MAY = {
    "submit": ("open", {"contractor_a"}),
    "approve": ("submitted", {"manager_a", "admin"}),
    "reject": ("submitted", {"manager_a", "admin"}),
    "reopen": ("approved", {"finance", "admin"}),
}
# Which actions lead from a fresh open timesheet to each state, and who takes them.
PATHS = {
    "open": [],
    "submitted": [("submit", "contractor_a", "")],
    "approved": [("submit", "contractor_a", ""), ("approve", "manager_a", "Fine.")],
    "rejected": [("submit", "contractor_a", ""), ("reject", "manager_a", "Split Tuesday.")],
    "invoiced": [("submit", "contractor_a", ""), ("approve", "manager_a", "Fine.")],
}


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC."""


@pytest.fixture
def rate_a(world):
    """Contractor A's default rate: 15.00 USD from 2026-01-01."""
    return RateFactory(worker=world.worker_a)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CHICAGO)


def timesheet_in(world: World, status: str, period: str = W45, worker: Worker | None = None) -> Timesheet:
    """Contractor A's timesheet of `period`, brought to `status` through the services."""
    timesheet, _ = timesheet_get_or_create(worker=worker or world.worker_a, period=period)
    if PATHS[status]:
        give_time(timesheet)
    # A week can be submitted once it has started: move future weeks along as of their start
    # (confirmed: a week not over yet is submitted only so).
    when = max(timezone.now(), timesheet.period_start)
    for action, who, note in PATHS[status]:
        timesheet = timesheet_transition(
            actor=world.user(who), timesheet=timesheet, action=action, note=note, now=when, confirm=True
        )
    if status == "invoiced":  # no invoice service yet: the state is all a transition checks
        Timesheet.objects.filter(pk=timesheet.pk).update(status=TimesheetStatus.INVOICED)
    return Timesheet.objects.get(pk=timesheet.pk)


def without_rates(timesheet: Timesheet) -> Timesheet:
    """The signed week as it is, its worker's rates gone (they were only there to price it).

    A worker's rates share the contract currency, and would refuse its change on their own.
    """
    Rate.objects.filter(worker=timesheet.worker).delete()
    return timesheet


def events_of(timesheet: Timesheet) -> list[tuple[str, str, int | None, str, datetime]]:
    return list(
        TimesheetEvent.objects.filter(timesheet=timesheet)
        .order_by("id")
        .values_list("from_status", "to_status", "actor_id", "note", "at")
    )


def stored(timesheet: Timesheet) -> list[tuple[Any, ...]]:
    return list(
        TimesheetLine.objects.filter(timesheet=timesheet)
        .order_by("id")
        .values_list("id", "project_id", "kind", "hourly_rate", "multiplier", "seconds", "amount")
    )


def add_session(world: World, start: datetime, end: datetime | None, worker: Worker | None = None) -> Any:
    """A session set up directly (the services under test are the timesheet ones)."""
    worker = worker or world.worker_a
    project = world.project_b if worker == world.worker_b else world.project_a
    return SessionFactory(worker=worker, project=project, started_at=start, ended_at=end)


# The state machine: who may take which step --------------------------------------------------


@pytest.mark.parametrize("action", list(MAY))
@pytest.mark.parametrize("who", ACTORS)
def test_each_transition_per_role_and_its_event(world, rate_a, action, who):
    # given contractor A's timesheet in the state the action starts from
    source, allowed = MAY[action]
    timesheet = timesheet_in(world, source)
    before = events_of(timesheet)
    actor = world.user(who)
    note = "Because." if action in ("reject", "reopen") else ""
    # when
    if who not in allowed:
        with pytest.raises(Forbidden):
            timesheet_transition(actor=actor, timesheet=timesheet, action=action, note=note)
        # then nothing changed and no event was written
        assert Timesheet.objects.get(pk=timesheet.pk).status == source
        assert events_of(timesheet) == before
        return
    result = timesheet_transition(actor=actor, timesheet=timesheet, action=action, note=note)
    # then the state moved and exactly one event records from, to, who, why and when
    target = TRANSITIONS[action].target
    assert result.status == target
    assert Timesheet.objects.get(pk=timesheet.pk).status == target
    assert events_of(timesheet) == [*before, (source, target, actor.pk, note, NOW)]


def test_submit_from_rejected_is_allowed_and_clears_the_decision(world, rate_a):
    # given a rejected timesheet
    timesheet = timesheet_in(world, "rejected")
    assert (timesheet.decided_by, timesheet.decision_note) == (world.manager_a, "Split Tuesday.")
    # when the contractor submits it again
    later = NOW + timedelta(hours=1)
    result = timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit", now=later)
    # then it is submitted again with a fresh submit time and no decision
    assert result.status == TimesheetStatus.SUBMITTED
    assert (result.submitted_at, result.decided_at, result.decided_by, result.decision_note) == (
        later,
        None,
        None,
        "",
    )
    assert events_of(timesheet)[-1] == ("rejected", "submitted", world.contractor_a.pk, "", later)


def test_the_whole_path_writes_one_event_per_step_in_order(world, rate_a):
    # given an open timesheet
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    steps = [
        ("submit", world.contractor_a, ""),
        ("reject", world.manager_a, "Tuesday is missing."),
        ("submit", world.contractor_a, "Added Tuesday."),
        ("approve", world.admin, "OK."),
        ("reopen", world.finance, "Wrong rate."),
        ("submit", world.contractor_a, ""),
    ]
    # when it goes through every step, an hour apart
    for hour, (action, actor, note) in enumerate(steps):
        timesheet_transition(
            actor=actor, timesheet=timesheet, action=action, note=note, now=NOW + timedelta(hours=hour)
        )
    # then the audit trail reads like the story
    assert events_of(timesheet) == [
        ("open", "submitted", world.contractor_a.pk, "", NOW),
        ("submitted", "rejected", world.manager_a.pk, "Tuesday is missing.", NOW + timedelta(hours=1)),
        ("rejected", "submitted", world.contractor_a.pk, "Added Tuesday.", NOW + timedelta(hours=2)),
        ("submitted", "approved", world.admin.pk, "OK.", NOW + timedelta(hours=3)),
        ("approved", "open", world.finance.pk, "Wrong rate.", NOW + timedelta(hours=4)),
        ("open", "submitted", world.contractor_a.pk, "", NOW + timedelta(hours=5)),
    ]


def test_approve_records_the_decision(world, rate_a):
    # given
    timesheet = timesheet_in(world, "submitted")
    # when
    result = timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="approve", note="Fine.")
    # then
    assert (result.decided_at, result.decided_by, result.decision_note) == (NOW, world.manager_a, "Fine.")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_nobody_approves_or_rejects_their_own_timesheet(world, role):
    # given a manager (or admin) who also works, in a team they manage, with a submitted timesheet
    boss = world.manager_a if role == Role.MANAGER else world.admin
    own = WorkerFactory(user=boss, team=world.team_a)
    world.project_a.workers.add(own)
    RateFactory(worker=own)
    add_session(world, local(2026, 11, 3, 9), local(2026, 11, 3, 10), worker=own)
    timesheet, _ = timesheet_get_or_create(worker=own, period=W45)
    timesheet = timesheet_transition(actor=boss, timesheet=timesheet, action="submit")
    # when / then they may neither approve nor reject it
    for action, note in (("approve", ""), ("reject", "No.")):
        with pytest.raises(Forbidden, match="their own"):
            timesheet_transition(actor=boss, timesheet=timesheet, action=action, note=note)
    assert Timesheet.objects.get(pk=timesheet.pk).status == TimesheetStatus.SUBMITTED
    # and someone else with the right may
    other = world.admin if role == Role.MANAGER else world.manager_a
    assert timesheet_transition(actor=other, timesheet=timesheet, action="approve").status == "approved"


# The state machine: from where ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "who"),
    [
        ("submitted", "submit", "contractor_a"),
        ("approved", "submit", "contractor_a"),
        ("invoiced", "submit", "contractor_a"),
        ("open", "approve", "manager_a"),
        ("approved", "approve", "manager_a"),
        ("rejected", "approve", "manager_a"),
        ("invoiced", "approve", "admin"),
        ("open", "reject", "manager_a"),
        ("approved", "reject", "manager_a"),
        ("rejected", "reject", "admin"),
        ("open", "reopen", "finance"),
        ("submitted", "reopen", "finance"),
        ("rejected", "reopen", "admin"),
        ("invoiced", "reopen", "finance"),
    ],
)
def test_a_step_from_the_wrong_state_is_a_conflict(world, rate_a, status, action, who):
    # given
    timesheet = timesheet_in(world, status)
    before = events_of(timesheet)
    # when / then
    with pytest.raises(Conflict, match=f"Cannot {action} a timesheet that is {status}"):
        timesheet_transition(actor=world.user(who), timesheet=timesheet, action=action, note="A note.")
    assert Timesheet.objects.get(pk=timesheet.pk).status == status
    assert events_of(timesheet) == before


def test_approving_twice_the_second_is_a_conflict(world, rate_a):
    # given a submitted timesheet, and a stale copy of it
    timesheet = timesheet_in(world, "submitted")
    timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="approve")
    # when / then the same click again (with the stale object) is refused
    with pytest.raises(Conflict):
        timesheet_transition(actor=world.admin, timesheet=timesheet, action="approve")
    assert [event[:2] for event in events_of(timesheet)] == [("open", "submitted"), ("submitted", "approved")]


def test_submitting_twice_the_second_is_a_conflict(world, rate_a):
    # given
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    # when / then
    with pytest.raises(Conflict, match="Cannot submit a timesheet that is submitted"):
        timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    assert len(events_of(timesheet)) == 1


@pytest.mark.parametrize("note", ["", "   ", "\n\t"])
def test_reject_needs_a_note(world, rate_a, note):
    # given
    timesheet = timesheet_in(world, "submitted")
    # when / then
    with pytest.raises(InvalidInput) as refused:
        timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="reject", note=note)
    assert list(refused.value.errors) == ["note"]
    assert Timesheet.objects.get(pk=timesheet.pk).status == TimesheetStatus.SUBMITTED
    assert len(events_of(timesheet)) == 1


@pytest.mark.parametrize("note", ["", "  "])
def test_reopen_needs_a_note(world, rate_a, note):
    # given
    timesheet = timesheet_in(world, "approved")
    # when / then
    with pytest.raises(InvalidInput) as refused:
        timesheet_transition(actor=world.finance, timesheet=timesheet, action="reopen", note=note)
    assert list(refused.value.errors) == ["note"]
    assert Timesheet.objects.get(pk=timesheet.pk).status == TimesheetStatus.APPROVED


def test_reopen_unlocks_and_prices_live_again(world, rate_a):
    # given an approved timesheet and a later rate change that applies to its week
    timesheet = timesheet_in(world, "approved")
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("20.00"), effective_from=date(2026, 11, 2))
    # when finance reopens it
    reopened = timesheet_transition(actor=world.finance, timesheet=timesheet, action="reopen", note="Rate.")
    # then it is open, sessions may change, and its figures are live (at the new rate)
    assert reopened.status == TimesheetStatus.OPEN
    assert (reopened.decided_at, reopened.decided_by, reopened.decision_note) == (NOW, world.finance, "Rate.")
    assert timesheet_lock_reason(world.worker_a, W45) is None
    assert timesheet_figures(reopened).total == Decimal("40.00")


# Submit: the stored copy --------------------------------------------------------------------------


def test_submit_copies_rates_multipliers_seconds_and_amounts(world, rate_a):
    # given overtime after 3 h at 1.5x, a rate change to 16.50 from Wed, and 2 h on Mon and Wed
    world.worker_a.overtime_after_hours = Decimal("3")
    world.worker_a.save()
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("16.50"), effective_from=date(2026, 11, 4))
    add_session(world, local(2026, 11, 4, 9), local(2026, 11, 4, 11))
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    # when
    submitted = timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    # then each (project, rate, kind) is one stored line with its own copy of the figures
    project = world.project_a.pk
    assert [line[1:] for line in stored(timesheet)] == [
        (project, "regular", Decimal("15.0000"), Decimal("1.00"), 7200, Decimal("30.00")),
        (project, "regular", Decimal("16.5000"), Decimal("1.00"), 3600, Decimal("16.50")),
        (project, "overtime", Decimal("16.5000"), Decimal("1.50"), 3600, Decimal("24.75")),
    ]
    assert submitted.total == Decimal("71.25")
    assert Timesheet.objects.get(pk=timesheet.pk).total == Decimal("71.25")
    assert submitted.submitted_at == NOW


def test_submit_total_is_the_lines_plus_the_adjustments(world, rate_a):
    # given 1:20 in this week (W47) and two adjustments that land on it
    add_session(world, local(2026, 11, 16, 9), local(2026, 11, 16, 10, 20))
    for amount in ("10.00", "-2.50"):
        adjustment_create(
            actor=world.finance, worker=world.worker_a, amount=Decimal(amount), currency="USD", reason="Fix."
        )
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W47)
    # when
    submitted = timesheet_transition(
        actor=world.contractor_a, timesheet=timesheet, action="submit", confirm=True
    )
    # then 20.00 for the time, +10.00 - 2.50 = 27.50
    assert [line[-2:] for line in stored(timesheet)] == [(4800, Decimal("20.00"))]
    assert submitted.total == Decimal("27.50")
    assert timesheet_figures(submitted).total == Decimal("27.50")


def test_a_clawback_larger_than_the_week_blocks_submit_until_offset(world, rate_a):
    # given 1:20 this week (W47, 20.00) and a clawback of 25.00 that lands on it
    add_session(world, local(2026, 11, 16, 9), local(2026, 11, 16, 10, 20))
    adjustment_create(
        actor=world.finance, worker=world.worker_a, amount=Decimal("-25.00"), currency="USD", reason="Over."
    )
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W47)
    # when / then the week cannot go forward to a negative invoice
    with pytest.raises(Conflict, match="negative sum"):
        timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit", confirm=True)
    assert Timesheet.objects.get(pk=timesheet.pk).status == TimesheetStatus.OPEN
    # and once finance offsets 5.00 of it (to claw back on a later week) it can
    adjustment_create(
        actor=world.finance, worker=world.worker_a, amount=Decimal("5.00"), currency="USD", reason="Later."
    )
    submitted = timesheet_transition(
        actor=world.contractor_a, timesheet=timesheet, action="submit", confirm=True
    )
    assert submitted.total == Decimal("0.00")


def test_after_submit_a_rate_change_never_rewrites_the_stored_lines(world, rate_a):
    # given a submitted timesheet (2 h at 15.00 = 30.00)
    timesheet = timesheet_in(world, "submitted")
    lines_before = stored(timesheet)
    # when the rate for that week changes, and the close runs again
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("99.00"), effective_from=date(2026, 11, 2))
    refreshed = timesheets_refresh(workers=[world.worker_a], period=W45)
    # then the stored lines, the total and the figures are what was submitted
    assert refreshed == 0
    assert stored(timesheet) == lines_before
    assert [line[-1] for line in lines_before] == [Decimal("30.00")]
    assert Timesheet.objects.get(pk=timesheet.pk).total == Decimal("30.00")
    assert timesheet_figures(Timesheet.objects.get(pk=timesheet.pk)).total == Decimal("30.00")
    # and after approval still
    approved = timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="approve")
    assert stored(approved) == lines_before
    assert timesheet_figures(approved).total == Decimal("30.00")


def test_after_reject_the_figures_are_live_again(world, rate_a):
    # given a submitted timesheet and a rate change for its week
    timesheet = timesheet_in(world, "submitted")
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("99.00"), effective_from=date(2026, 11, 2))
    # when it is rejected
    rejected = timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="reject", note="Redo.")
    # then it shows the current price of its time; submitting again stores that
    assert timesheet_figures(rejected).total == Decimal("198.00")
    resubmitted = timesheet_transition(actor=world.contractor_a, timesheet=rejected, action="submit")
    assert resubmitted.total == Decimal("198.00")
    assert [line[-1] for line in stored(resubmitted)] == [Decimal("198.00")]


def test_submit_is_refused_while_time_is_unpriced(world):
    # given contractor A's 2 h in W45 and no rate at all
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    # when / then
    with pytest.raises(Conflict, match=r"Cannot submit yet: .*'Project A' has no rate"):
        timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    assert Timesheet.objects.get(pk=timesheet.pk).status == TimesheetStatus.OPEN
    assert stored(timesheet) == []
    assert events_of(timesheet) == []


def test_submit_is_refused_while_a_session_is_running(world, rate_a):
    # given a timer running in this week (W47)
    session = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a)
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W47)
    # when / then
    assert session.started_at == NOW  # Fri 06:00 in Chicago: problems name sessions as people know them
    with pytest.raises(Conflict, match="Session of Fri 20 Nov 06:00: still running"):
        timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    assert Timesheet.objects.get(pk=timesheet.pk).status == TimesheetStatus.OPEN
    assert events_of(timesheet) == []


def test_approve_is_refused_while_a_blocking_problem_appeared_after_submit(world, rate_a):
    # given a submitted timesheet and a running session that got into its week past the lock
    timesheet = timesheet_in(world, "submitted")
    add_session(world, local(2026, 11, 6, 9), None)
    # when / then
    with pytest.raises(Conflict, match=r"Cannot approve: .*still running"):
        timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="approve")
    assert Timesheet.objects.get(pk=timesheet.pk).status == TimesheetStatus.SUBMITTED


# The period lock seen from the session services ---------------------------------------------------


def try_every_session_write(world: World) -> dict[str, str]:
    """Create, edit and delete contractor A's sessions in W45; what each one said."""
    outcomes = {}
    attempts = {
        "create": lambda: session_create(
            actor=world.contractor_a,
            worker=world.worker_a,
            project=world.project_a,
            started_at=local(2026, 11, 5, 9),
            ended_at=local(2026, 11, 5, 10),
        ),
        "edit": lambda: session_update(
            actor=world.contractor_a, session=world.session_a, changes={"notes": "more"}
        ),
        "delete": lambda: session_delete(actor=world.contractor_a, session=world.session_a),
    }
    for name, attempt in attempts.items():
        try:
            attempt()
            outcomes[name] = "ok"
        except Conflict as refused:
            outcomes[name] = refused.message
    return outcomes


LOCKED = "Period 2026-W45 is locked: its timesheet is {status}; sessions in it cannot change."


@pytest.mark.parametrize("status", ["submitted", "approved", "invoiced"])
def test_a_locked_timesheet_refuses_session_writes_in_its_period(world, rate_a, status):
    # given
    timesheet_in(world, status)
    # when
    outcomes = try_every_session_write(world)
    # then every write is a conflict that says why, and nothing changed
    message = LOCKED.format(status=status)
    assert outcomes == {"create": message, "edit": message, "delete": message}
    assert list(LabellingSession.objects.filter(worker=world.worker_a).values_list("pk", "notes")) == [
        (world.session_a.pk, "")
    ]


@pytest.mark.parametrize("status", ["open", "rejected"])
def test_an_open_or_rejected_timesheet_lets_sessions_change(world, rate_a, status):
    # given
    timesheet_in(world, status)
    # when
    outcomes = try_every_session_write(world)
    # then
    assert outcomes == {"create": "ok", "edit": "ok", "delete": "ok"}


def test_after_reject_sessions_change_again_and_after_reopen_too(world, rate_a):
    # given a submitted timesheet
    timesheet = timesheet_in(world, "submitted")
    assert try_every_session_write(world)["edit"].startswith("Period 2026-W45 is locked")
    # when it is rejected
    timesheet = timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="reject", note="x")
    # then the contractor may edit
    session_update(actor=world.contractor_a, session=world.session_a, changes={"notes": "fixed"})
    # when submitted, approved, then reopened
    for action, actor in (("submit", world.contractor_a), ("approve", world.manager_a)):
        timesheet = timesheet_transition(actor=actor, timesheet=timesheet, action=action)
    timesheet = timesheet_transition(actor=world.finance, timesheet=timesheet, action="reopen", note="y")
    # then the sessions unlock again
    assert try_every_session_write(world) == {"create": "ok", "edit": "ok", "delete": "ok"}


def test_the_lock_covers_moves_into_the_period_and_sessions_across_its_edge(world, rate_a):
    # given W45 submitted and a session of contractor A in W46
    timesheet_in(world, "submitted")
    later = add_session(world, local(2026, 11, 10, 9), local(2026, 11, 10, 10))
    # when / then moving it into W45 is refused
    with pytest.raises(Conflict, match="Period 2026-W45 is locked"):
        session_update(
            actor=world.contractor_a,
            session=later,
            changes={"started_at": local(2026, 11, 6, 9), "ended_at": local(2026, 11, 6, 10)},
        )
    # and so is a session over the Sunday/Monday boundary into W46
    with pytest.raises(Conflict, match="Period 2026-W45 is locked"):
        session_create(
            actor=world.contractor_a,
            worker=world.worker_a,
            project=world.project_a,
            started_at=local(2026, 11, 8, 23),
            ended_at=local(2026, 11, 9, 1),
        )
    # but W46 alone, and another worker's W45, are free
    session_create(
        actor=world.contractor_a,
        worker=world.worker_a,
        project=world.project_a,
        started_at=local(2026, 11, 9, 1),
        ended_at=local(2026, 11, 9, 2),
    )
    session_update(actor=world.contractor_a2, session=world.session_a2, changes={"notes": "mine"})


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("open", None),
        ("rejected", None),
        ("submitted", "its timesheet is submitted; sessions in it cannot change."),
        ("approved", "its timesheet is approved; sessions in it cannot change."),
        ("invoiced", "its timesheet is invoiced; sessions in it cannot change."),
    ],
)
def test_timesheet_lock_reason(world, rate_a, status, reason):
    # given
    timesheet_in(world, status)
    # when / then
    assert timesheet_lock_reason(world.worker_a, W45) == reason
    assert timesheet_lock_reason(world.worker_a, W46) is None
    assert timesheet_lock_reason(world.worker_a2, W45) is None


# Adjustments ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("manager_a", True),
        ("finance", True),
        ("admin", True),
        ("manager_b", False),
        ("contractor_a", False),
        ("contractor_a2", False),
        ("contractor_b", False),
    ],
)
def test_who_may_add_an_adjustment_for_contractor_a(world, who, allowed):
    # given
    actor = world.user(who)
    # when
    if not allowed:
        with pytest.raises(Forbidden):
            adjustment_create(
                actor=actor, worker=world.worker_a, amount=Decimal("5.00"), currency="USD", reason="Bonus."
            )
        # then
        assert not Adjustment.objects.exists()
        return
    adjustment = adjustment_create(
        actor=actor, worker=world.worker_a, amount=Decimal("5.00"), currency="USD", reason="Bonus."
    )
    # then
    assert Adjustment.objects.get() == adjustment
    assert (adjustment.amount, adjustment.currency, adjustment.created_by) == (Decimal("5.00"), "USD", actor)
    assert (adjustment.reason, adjustment.applies_to_period) == ("Bonus.", W47)


@pytest.mark.parametrize(
    ("amount", "currency", "reason", "fields"),
    [
        (Decimal("5.00"), "EUR", "Fix.", ["currency"]),
        (Decimal("0"), "USD", "Fix.", ["amount"]),
        (Decimal("-0.00"), "USD", "Fix.", ["amount"]),
        (Decimal("5.00"), "USD", "  ", ["reason"]),
        (Decimal("0.00"), "GBP", "", ["currency", "amount", "reason"]),
    ],
)
def test_an_adjustment_must_be_non_zero_in_the_contract_currency_with_a_reason(
    world, amount, currency, reason, fields
):
    # when / then
    with pytest.raises(InvalidInput) as refused:
        adjustment_create(
            actor=world.finance, worker=world.worker_a, amount=amount, currency=currency, reason=reason
        )
    assert sorted(refused.value.errors) == sorted(fields)
    assert not Adjustment.objects.exists()


@pytest.mark.parametrize("amount", ["0.001", "0.005", "12.345", "1000000", "-1000000"])
def test_an_adjustment_is_whole_cents_within_bounds(world, amount):
    # when / then
    with pytest.raises(InvalidInput) as refused:
        adjustment_create(
            actor=world.finance, worker=world.worker_a, amount=Decimal(amount), currency="USD", reason="Fix."
        )
    assert refused.value.errors == {"amount": ["Whole cents, strictly between -1000000 and 1000000."]}
    assert not Adjustment.objects.exists()


@pytest.mark.parametrize("amount", ["999999.99", "-999999.99", "0.01", "12.3", "7"])
def test_an_adjustment_may_be_any_whole_cents_within_bounds(world, amount):
    # when
    adjustment = adjustment_create(
        actor=world.finance, worker=world.worker_a, amount=Decimal(amount), currency="USD", reason="Fix."
    )
    # then what is stored is what was asked for
    assert Adjustment.objects.get(pk=adjustment.pk).amount == Decimal(amount)


@pytest.mark.parametrize(("amount", "refused"), [("1.000", False), ("Infinity", True), ("NaN", True)])
def test_an_adjustment_amount_is_judged_by_its_value_not_its_spelling(world, amount, refused):
    # when / then
    if refused:
        with pytest.raises(InvalidInput):
            adjustment_create(
                actor=world.finance, worker=world.worker_a, amount=Decimal(amount), currency="USD", reason="x"
            )
        return
    adjustment = adjustment_create(
        actor=world.finance, worker=world.worker_a, amount=Decimal(amount), currency="USD", reason="x"
    )
    assert adjustment.amount == Decimal(amount)


def test_the_same_adjustment_twice_within_moments_is_refused_as_a_double_submit(world):
    # given
    fields = {"worker": world.worker_a, "amount": Decimal("5.00"), "currency": "USD", "reason": "Bonus."}
    adjustment_create(actor=world.manager_a, **fields)
    # when the same person posts the same money again / then it is refused, and nothing is added
    with pytest.raises(Conflict, match="was just added"):
        adjustment_create(actor=world.manager_a, **fields)
    assert Adjustment.objects.filter(worker=world.worker_a).count() == 1
    # a reason that says it is meant twice is another decision
    adjustment_create(actor=world.manager_a, **{**fields, "reason": "Bonus, second shift."})
    assert Adjustment.objects.filter(worker=world.worker_a).count() == 2


def test_a_negative_adjustment_is_allowed(world):
    # when
    adjustment = adjustment_create(
        actor=world.manager_a, worker=world.worker_a, amount=Decimal("-12.34"), currency="USD", reason="Over."
    )
    # then
    assert Adjustment.objects.get(pk=adjustment.pk).amount == Decimal("-12.34")


def test_an_adjustment_lands_on_the_current_period_in_the_workers_zone(world):
    # given Mon 2026-11-23 03:00 UTC: still Sunday (W47) in Chicago, Monday (W48) in Kolkata
    monday_early = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    # when
    landed = {
        worker.time_zone: adjustment_create(
            actor=world.finance,
            worker=worker,
            amount=Decimal("1.00"),
            currency=worker.currency,
            reason="Fix.",
            now=monday_early,
        ).applies_to_period
        for worker in (world.worker_a, world.worker_b, world.worker_a2)
    }
    # then
    assert landed == {"America/Chicago": W47, "Asia/Kolkata": W48, "Europe/London": W48}


def test_an_adjustment_skips_locked_periods_to_the_next_unlocked_one(world, rate_a):
    # given this week (W47) submitted, and next week (W48) approved
    timesheet_in(world, "submitted", W47)
    timesheet_in(world, "approved", W48)

    def add(reason: str = "Fix.") -> Adjustment:
        return adjustment_create(
            actor=world.finance, worker=world.worker_a, amount=Decimal("7.00"), currency="USD", reason=reason
        )

    # when / then it lands on W49; other workers still get this week
    assert add().applies_to_period == W49
    assert next_open_period(world.worker_a2, NOW) == W47
    # when W47 is rejected, it is the next open period again
    timesheet_transition(
        actor=world.manager_a, timesheet=Timesheet.objects.get(period=W47), action="reject", note="x"
    )
    # then
    assert add("Another fix.").applies_to_period == W47


def test_next_open_period_ignores_locks_in_the_past(world, rate_a):
    # given last week's timesheets submitted
    timesheet_in(world, "submitted", W45)
    timesheet_in(world, "submitted", W46)
    # when / then the current week is still the next open period
    assert next_open_period(world.worker_a, NOW) == W47


def test_an_adjustment_shows_on_its_timesheet_and_in_the_stored_total(world, rate_a):
    # given W47 submitted, so an adjustment goes to W48 (which has no time, only the adjustment)
    timesheet_in(world, "submitted", W47)
    adjustment = adjustment_create(
        actor=world.manager_a, worker=world.worker_a, amount=Decimal("12.50"), currency="USD", reason="Bonus."
    )
    assert adjustment.applies_to_period == W48
    w48, _ = timesheet_get_or_create(worker=world.worker_a, period=W48)
    # when the W48 timesheet is read, refreshed and submitted
    figures = timesheet_figures(w48)
    timesheets_refresh(workers=[world.worker_a], period=W48)
    refreshed_total = Timesheet.objects.get(pk=w48.pk).total
    submitted = timesheet_transition(
        actor=world.contractor_a, timesheet=w48, action="submit", now=w48.period_start, confirm=True
    )
    # then the adjustment is its own entry and counts in every total; W47 never sees it
    assert figures.adjustments == [adjustment]
    assert (figures.lines, figures.total) == ([], Decimal("12.50"))
    assert refreshed_total == Decimal("12.50")
    assert submitted.total == Decimal("12.50")
    assert timesheet_figures(Timesheet.objects.get(period=W47, worker=world.worker_a)).adjustments == []


# The close: timesheets_refresh ----------------------------------------------------------------------


def snapshot(period: str) -> list[tuple[Any, ...]]:
    """Every timesheet of the period with its total and its lines' ids and figures."""
    return [
        (timesheet.pk, timesheet.worker_id, timesheet.status, timesheet.total, stored(timesheet))
        for timesheet in Timesheet.objects.filter(period=period).order_by("worker_id")
    ]


def test_refreshing_twice_gives_the_same_rows(world, rate_a):
    # given the three contractors, each with time in W45 (only A has a rate)
    workers = [world.worker_a, world.worker_a2, world.worker_b]
    # when
    first = timesheets_refresh(workers=workers, period=W45)
    after_first = snapshot(W45)
    second = timesheets_refresh(workers=workers, period=W45)
    # then the second run changes nothing: same timesheet and line ids, same totals
    assert (first, second) == (3, 0)
    assert snapshot(W45) == after_first
    totals = {row[1]: row[3] for row in after_first}
    assert totals == {world.worker_a.pk: Decimal("30.00"), world.worker_a2.pk: 0, world.worker_b.pk: 0}


def test_refresh_counts_the_timesheets_it_creates(world):
    # given three contractors with time in W45 and no rates (so nothing priced to store)
    workers = [world.worker_a, world.worker_a2, world.worker_b]
    # when
    created = timesheets_refresh(workers=workers, period=W45)
    # then
    assert Timesheet.objects.filter(period=W45).count() == 3
    assert created == 3


def test_refresh_stores_new_figures_after_a_change(world, rate_a):
    # given a refreshed week
    timesheets_refresh(workers=[world.worker_a], period=W45)
    # when another hour is logged and the close runs again
    add_session(world, local(2026, 11, 5, 9), local(2026, 11, 5, 10))
    changed = timesheets_refresh(workers=[world.worker_a], period=W45)
    # then the stored figures follow
    timesheet = Timesheet.objects.get(worker=world.worker_a, period=W45)
    assert changed == 1
    assert [line[-2:] for line in stored(timesheet)] == [(3 * 3600, Decimal("45.00"))]
    assert timesheet.total == Decimal("45.00")


def test_refresh_skips_locked_timesheets_and_updates_rejected_ones(world, rate_a):
    # given A's W45 submitted, A2's rejected, and then a rate change for that week
    RateFactory(worker=world.worker_a2)
    submitted = timesheet_in(world, "submitted")
    rejected, _ = timesheet_get_or_create(worker=world.worker_a2, period=W45)
    for action, actor, note in (("submit", world.contractor_a2, ""), ("reject", world.manager_a, "x")):
        rejected = timesheet_transition(actor=actor, timesheet=rejected, action=action, note=note)
    locked_before = next(row for row in snapshot(W45) if row[0] == submitted.pk)
    for worker in (world.worker_a, world.worker_a2):
        RateFactory(worker=worker, hourly_rate=Decimal("20.00"), effective_from=date(2026, 11, 2))
    # when
    changed = timesheets_refresh(workers=[world.worker_a, world.worker_a2], period=W45)
    # then only the rejected one was rewritten
    assert changed == 1
    assert next(row for row in snapshot(W45) if row[0] == submitted.pk) == locked_before
    assert Timesheet.objects.get(pk=rejected.pk).total == Decimal("40.00")
    assert Timesheet.objects.get(pk=rejected.pk).status == TimesheetStatus.REJECTED


def test_refresh_counts_adjustments_in_the_total(world, rate_a):
    # given 1 h this week and an adjustment on it
    add_session(world, local(2026, 11, 17, 9), local(2026, 11, 17, 10))
    adjustment_create(
        actor=world.finance, worker=world.worker_a, amount=Decimal("-5.00"), currency="USD", reason="Fix."
    )
    # when
    timesheets_refresh(workers=[world.worker_a], period=W47)
    # then
    assert Timesheet.objects.get(worker=world.worker_a, period=W47).total == Decimal("10.00")
    assert timesheets_refresh(workers=[world.worker_a], period=W47) == 0


# timesheet_get_or_create -------------------------------------------------------------------------------


def test_get_or_create_is_idempotent(world):
    # when
    first, created = timesheet_get_or_create(worker=world.worker_a, period=W45)
    second, created_again = timesheet_get_or_create(worker=world.worker_a, period=W45)
    # then the first call made it, the second found it
    assert (created, created_again) == (True, False)
    assert first.pk == second.pk
    assert Timesheet.objects.filter(worker=world.worker_a).count() == 1
    assert (first.status, first.currency, first.total) == ("open", "USD", Decimal("0.00"))


@pytest.mark.parametrize(
    ("zone", "period", "start", "end"),
    [
        ("America/Chicago", W45, datetime(2026, 11, 2, 6, 0), datetime(2026, 11, 9, 6, 0)),
        # the week of the fall-back: 7 days and 1 hour of real time
        ("America/Chicago", W44, datetime(2026, 10, 26, 5, 0), datetime(2026, 11, 2, 6, 0)),
        ("Asia/Kolkata", W45, datetime(2026, 11, 1, 18, 30), datetime(2026, 11, 8, 18, 30)),
        ("Europe/London", W45, datetime(2026, 11, 2, 0, 0), datetime(2026, 11, 9, 0, 0)),
        ("Pacific/Kiritimati", W45, datetime(2026, 11, 1, 10, 0), datetime(2026, 11, 8, 10, 0)),
        # Lord Howe moves its clocks by 30 minutes (on Sun 2026-10-04)
        ("Australia/Lord_Howe", "2026-W40", datetime(2026, 9, 27, 13, 30), datetime(2026, 10, 4, 13, 0)),
    ],
)
def test_period_bounds_are_read_in_the_workers_zone(db, zone, period, start, end):
    # given
    worker = WorkerFactory(time_zone=zone, currency="EUR")
    # when
    timesheet, _ = timesheet_get_or_create(worker=worker, period=period)
    # then
    assert (timesheet.period_start, timesheet.period_end) == (
        start.replace(tzinfo=UTC),
        end.replace(tzinfo=UTC),
    )
    assert timesheet.currency == "EUR"


def test_a_week_without_time_gets_no_timesheet_until_one_is_opened_and_then_an_empty_one(db):
    # given
    worker = WorkerFactory()
    ProjectFactory(workers=[worker])
    # when the week is priced (as the close does), nothing is created
    timesheets_refresh(workers=[worker], period=W45)
    assert not Timesheet.objects.filter(worker=worker).exists()
    # when the contractor opens it
    timesheet_get_or_create(worker=worker, period=W45)
    # then
    timesheet = Timesheet.objects.get(worker=worker)
    assert (timesheet.status, timesheet.total, stored(timesheet)) == ("open", Decimal("0.00"), [])


# Time zone changes: weeks are cut in one zone once signed ---------------------------------------


@pytest.mark.parametrize("status", ["submitted", "approved", "invoiced"])
def test_the_zone_cannot_move_once_a_week_is_signed(world, rate_a, status):
    # given a session from Sun 22:00 to Mon 02:00 Chicago: 2 h in W44, 2 h in W45, and W44 signed
    add_session(world, local(2026, 11, 1, 22), local(2026, 11, 2, 2))
    timesheet_in(world, status, period=W44)
    # when finance moves the worker to Berlin, whose W45 would start inside Chicago's W44
    with pytest.raises(Conflict, match=f"{W44} is already {status}"):
        worker_update(actor=world.finance, worker=world.worker_a, changes={"time_zone": "Europe/Berlin"})
    # then the zone, and with it every week boundary, stays
    assert Worker.objects.get(pk=world.worker_a.pk).time_zone == "America/Chicago"
    w45 = timesheet_figures(timesheet_get_or_create(worker=world.worker_a, period=W45)[0])
    assert w45.total_seconds == 2 * 3600 + 2 * 3600  # the world's Monday session and Monday 00:00-02:00


def test_a_zone_change_before_anything_is_signed_moves_the_open_weeks_bounds(world, rate_a):
    # given an open and a rejected week in Chicago
    open_week, _ = timesheet_get_or_create(worker=world.worker_a, period=W46)
    rejected = timesheet_in(world, "rejected", period=W45)
    # when the worker moves to Berlin
    worker_update(actor=world.finance, worker=world.worker_a, changes={"time_zone": "Europe/Berlin"})
    # then both weeks run Monday to Monday in Berlin (CET, UTC+1)
    assert Timesheet.objects.get(pk=open_week.pk).period_start == datetime(2026, 11, 8, 23, 0, tzinfo=UTC)
    assert Timesheet.objects.get(pk=rejected.pk).period_end == datetime(2026, 11, 8, 23, 0, tzinfo=UTC)


# Currency changes: money on its way to an invoice keeps the currency it was agreed in -------


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_the_currency_cannot_move_under_a_signed_week_not_yet_invoiced(world, status):
    # given contractor A, with no rates, and W44 signed in their currency
    signed = without_rates(timesheet_in(world, status, period=W44))
    before = world.worker_a.currency
    # when finance changes the contract currency
    with pytest.raises(Conflict, match=f"{W44} is {status} in {before}"):
        worker_update(actor=world.finance, worker=world.worker_a, changes={"currency": "JPY"})
    # then the worker and the week keep it
    assert Worker.objects.get(pk=world.worker_a.pk).currency == before
    assert Timesheet.objects.get(pk=signed.pk).currency == before


def test_the_currency_cannot_move_under_an_adjustment_not_yet_invoiced(world):
    # given a bonus in the contract currency for the next open week
    before = world.worker_a.currency
    bonus = adjustment_create(
        actor=world.finance, worker=world.worker_a, amount=Decimal("10.00"), currency=before, reason="Sign-on"
    )
    # when the currency changes, then it is refused: an invoice would add 10.00 of the old
    # currency to amounts in the new one
    with pytest.raises(
        Conflict, match=f"adjustment of 10.00 {before} for {bonus.applies_to_period}, not invoiced"
    ):
        worker_update(actor=world.finance, worker=world.worker_a, changes={"currency": "JPY"})
    assert Worker.objects.get(pk=world.worker_a.pk).currency == before


def test_the_currency_moves_once_its_money_is_invoiced_and_open_weeks_follow(world):
    # given an adjustment whose week is invoiced, and an open week
    before = world.worker_a.currency
    invoiced = without_rates(timesheet_in(world, "submitted", period=W44))
    Adjustment.objects.create(
        worker=world.worker_a, amount=Decimal("5.00"), currency=before, reason="Old", applies_to_period=W44,
        created_by=world.finance,
    )  # fmt: skip
    Timesheet.objects.filter(pk=invoiced.pk).update(status=TimesheetStatus.INVOICED)
    open_week, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    # when the currency changes
    worker_update(actor=world.finance, worker=world.worker_a, changes={"currency": "JPY"})
    # then the open week is in the new currency and the invoiced one keeps the old
    assert Timesheet.objects.get(pk=open_week.pk).currency == "JPY"
    assert Timesheet.objects.get(pk=invoiced.pk).currency == before


def test_an_adjustment_in_a_currency_changed_meanwhile_is_refused(world):
    # given the caller's copy of the worker still says the old currency
    stale = Worker.objects.get(pk=world.worker_a.pk)
    Worker.objects.filter(pk=stale.pk).update(currency="JPY")  # changed since it was read
    # when an adjustment is made in the old one, then the check under the lock refuses it
    with pytest.raises(InvalidInput, match="contract currency, JPY"):
        adjustment_create(
            actor=world.finance,
            worker=stale,
            amount=Decimal("10.00"),
            currency=stale.currency,
            reason="Bonus",
        )
    assert not Adjustment.objects.filter(worker=stale).exists()


def test_open_weeks_are_priced_again_after_a_currency_change(world, rate_a):
    # given an open week closed with the worker's rate, then the rate gone (a mistake)
    timesheets_refresh(workers=[world.worker_a], period=W45)
    assert Timesheet.objects.get(worker=world.worker_a, period=W45).total > 0
    rate_a.delete()
    # when the currency changes
    worker_update(actor=world.finance, worker=world.worker_a, changes={"currency": "JPY"})
    # then the open week holds nothing priced in the old currency
    week = Timesheet.objects.get(worker=world.worker_a, period=W45)
    assert (week.currency, week.total) == ("JPY", Decimal("0.00"))
    assert not TimesheetLine.objects.filter(timesheet=week, amount__gt=0).exists()


def test_the_admin_shows_contract_terms_read_only(admin_client, world):
    response = admin_client.get(f"/admin/trainers/worker/{world.worker_a.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "currency" not in form.fields and "time_zone" not in form.fields
    assert "full_name" in form.fields
