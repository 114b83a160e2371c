"""The state machine's one path for one timesheet or many: each checked, all written at once.

Teams of contractors (America/Chicago) with a 2 h session each on Mon 2026-11-02 (period
2026-W45) and a 15.00 USD rate. `now` is frozen at Fri 2026-11-20 12:00 UTC. The per-role
rules of each step, for one timesheet, are in test_services_timesheets.
"""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import Conflict, Forbidden, InvalidInput
from payroll.models import Invoice, Timesheet, TimesheetEvent
from payroll.services.invoices import invoices_issue_batch
from payroll.services.timesheet_transitions import (
    timesheet_transition,
    timesheets_move,
    timesheets_transition,
)
from payroll.services.timesheets import timesheet_get_or_create
from tests.conftest import NOW
from tests.factories import RateFactory, SessionFactory, TeamFactory, WorkerFactory
from trainers.models import User, Worker

pytestmark = pytest.mark.django_db
W45 = "2026-W45"


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC."""


def team_of(count: int, manager: User) -> list[Worker]:
    """`count` contractors of a new team that `manager` manages, each with priced W45 time."""
    team = TeamFactory(managers=[manager])
    workers = [WorkerFactory(team=team) for _ in range(count)]
    for worker in workers:
        RateFactory(worker=worker)
        SessionFactory(worker=worker)
    return workers


def submitted(workers: list[Worker]) -> list[Timesheet]:
    """Each worker's W45 timesheet, submitted by its contractor."""
    return [
        timesheet_transition(
            actor=worker.user,
            timesheet=timesheet_get_or_create(worker=worker, period=W45)[0],
            action="submit",
        )
        for worker in workers
    ]


def statuses(timesheets: list[Timesheet]) -> list[str]:
    return [Timesheet.objects.get(pk=timesheet.pk).status for timesheet in timesheets]


def events(timesheets: list[Timesheet]) -> list[tuple[object, ...]]:
    return list(
        TimesheetEvent.objects.filter(timesheet__in=timesheets)
        .order_by("timesheet_id", "id")
        .values_list("timesheet_id", "from_status", "to_status", "actor_id", "note", "at")
    )


def test_a_manager_approves_many_at_once_with_one_event_each(world):
    # given three submitted timesheets of the manager's team
    timesheets = submitted(team_of(3, world.manager_a))
    # when
    approved = timesheets_transition(
        actor=world.manager_a, timesheets=timesheets, action="approve", note="Fine."
    )
    # then each is approved, as returned and as stored, with one event naming the step
    assert [timesheet.pk for timesheet in approved] == sorted(timesheet.pk for timesheet in timesheets)
    decision = ("approved", world.manager_a.pk, NOW, "Fine.")
    assert {(t.status, t.decided_by_id, t.decided_at, t.decision_note) for t in approved} == {decision}
    stored = Timesheet.objects.filter(pk__in=[timesheet.pk for timesheet in timesheets])
    assert {(t.status, t.decided_by_id, t.decided_at, t.decision_note) for t in stored} == {decision}
    decisions = [event for event in events(timesheets) if event[2] == "approved"]
    assert decisions == [
        (timesheet.pk, "submitted", "approved", world.manager_a.pk, "Fine.", NOW)
        for timesheet in sorted(timesheets, key=lambda t: t.pk)
    ]


def test_ids_are_taken_as_well_as_timesheets(world):
    # given
    timesheets = submitted(team_of(2, world.manager_a))
    # when
    timesheets_transition(actor=world.admin, timesheets=[t.pk for t in timesheets], action="approve")
    # then
    assert statuses(timesheets) == ["approved", "approved"]


def test_a_step_for_more_timesheets_takes_no_more_queries(world):
    # given two batches of submitted timesheets, one four times the other
    small, large = submitted(team_of(2, world.manager_a)), submitted(team_of(8, world.manager_a))
    # when each is approved in one step
    counts = []
    for batch in (small, large):
        with CaptureQueriesContext(connection) as queries:
            timesheets_transition(actor=world.manager_a, timesheets=batch, action="approve")
        counts.append(len(queries))
    # then
    assert counts[0] == counts[1], counts


def test_one_timesheet_in_the_wrong_state_refuses_the_whole_batch(world):
    # given three submitted timesheets, the second approved already
    timesheets = submitted(team_of(3, world.manager_a))
    timesheet_transition(actor=world.manager_a, timesheet=timesheets[1], action="approve")
    before = events(timesheets)
    # when / then the refusal says which one
    named = f"{timesheets[1].worker.full_name} {W45}: Cannot approve a timesheet that is approved."
    with pytest.raises(Conflict, match=named):
        timesheets_transition(actor=world.manager_a, timesheets=timesheets, action="approve")
    # then nothing moved and no event was written
    assert statuses(timesheets) == ["submitted", "approved", "submitted"]
    assert events(timesheets) == before


def test_the_guard_weighs_every_timesheet_of_the_batch(world):
    # given submitted timesheets of manager A's team and one of manager B's
    ours, theirs = submitted(team_of(2, world.manager_a)), submitted(team_of(1, world.manager_b))
    # when / then manager A may not decide B's, so decides none
    with pytest.raises(Forbidden):
        timesheets_transition(actor=world.manager_a, timesheets=[*ours, *theirs], action="approve")
    assert statuses([*ours, *theirs]) == ["submitted"] * 3


def test_nobody_decides_a_batch_holding_their_own_timesheet(world):
    # given a manager who also logs time in the team they manage
    workers = team_of(2, world.manager_a)
    own = WorkerFactory(user=world.manager_a, team=workers[0].team)
    RateFactory(worker=own)
    SessionFactory(worker=own)
    timesheets = submitted([*workers, own])
    # when / then
    with pytest.raises(Forbidden, match="their own"):
        timesheets_transition(actor=world.manager_a, timesheets=timesheets, action="approve")
    assert statuses(timesheets) == ["submitted"] * 3


def test_a_blocking_problem_of_one_refuses_the_batch_and_names_it(world):
    # given three submitted timesheets; the last one's contractor then left a timer running in W45
    timesheets = submitted(team_of(3, world.manager_a))
    SessionFactory(  # Tue 3 Nov 09:00 in the worker's Chicago: the refusal names it so
        worker=timesheets[2].worker, started_at=datetime(2026, 11, 3, 15, 0, tzinfo=UTC), ended_at=None
    )
    # when / then
    with pytest.raises(
        Conflict, match=f"{timesheets[2].worker.full_name} {W45}: Cannot approve: Session of Tue 3 Nov 09:00:"
    ):
        timesheets_transition(actor=world.manager_a, timesheets=timesheets, action="approve")
    assert statuses(timesheets) == ["submitted"] * 3


def test_a_contractor_submits_several_weeks_at_once_and_each_stores_its_lines(world):
    # given contractor A with priced time in W45 and W46
    RateFactory(worker=world.worker_a)
    SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=datetime(2026, 11, 10, 15, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 10, 16, 0, tzinfo=UTC),
    )
    weeks = [timesheet_get_or_create(worker=world.worker_a, period=p)[0] for p in (W45, "2026-W46")]
    # when
    done = timesheets_transition(actor=world.contractor_a, timesheets=weeks, action="submit")
    # then each is submitted with its own stored lines and total
    assert [(t.status, t.submitted_at, str(t.total)) for t in done] == [
        ("submitted", NOW, "30.00"),
        ("submitted", NOW, "15.00"),
    ]
    stored = {t.pk: [(line.seconds, str(line.amount)) for line in t.lines.all()] for t in done}
    assert stored == {done[0].pk: [(7200, "30.00")], done[1].pk: [(3600, "15.00")]}


def test_invoice_is_not_a_persons_step(world):
    # given an approved timesheet
    (timesheet,) = submitted(team_of(1, world.manager_a))
    timesheet_transition(actor=world.admin, timesheet=timesheet, action="approve")
    # when / then only issuing its invoice invoices it
    with pytest.raises(InvalidInput, match="Unknown action"):
        timesheets_transition(actor=world.finance, timesheets=[timesheet], action="invoice")
    assert statuses([timesheet]) == ["approved"]


def test_a_move_skips_what_is_not_in_a_source_state_and_says_where_each_came_from(world):
    # given an open, a submitted and a rejected timesheet
    first, second, third = team_of(3, world.manager_a)
    open_one, _ = timesheet_get_or_create(worker=first, period=W45)
    (submitted_one, rejected) = submitted([second, third])
    timesheet_transition(actor=world.manager_a, timesheet=rejected, action="reject", note="Split it.")
    # when the submit step's status change alone is applied to all three
    moved = timesheets_move(action="submit", ids=[open_one.pk, submitted_one.pk, rejected.pk])
    # then the open and the rejected one moved, each saying its former state; no event is written
    assert [(row.pk, row.from_status) for row in moved] == sorted(
        [(open_one.pk, "open"), (rejected.pk, "rejected")]
    )
    assert statuses([open_one, submitted_one, rejected]) == ["submitted"] * 3
    assert not TimesheetEvent.objects.filter(timesheet=open_one).exists()


def test_invoicing_more_timesheets_takes_no_more_queries(world):
    # given approved timesheets in batches of one (to make the year's counter), two and eight
    batches = [submitted(team_of(size, world.manager_a)) for size in (1, 2, 8)]
    for batch in batches:
        timesheets_transition(actor=world.manager_a, timesheets=batch, action="approve")
    invoices_issue_batch(timesheet_ids=[t.pk for t in batches[0]], actor=world.finance)
    # when the other two are invoiced
    counts = []
    for batch in batches[1:]:
        with CaptureQueriesContext(connection) as queries:
            invoices_issue_batch(timesheet_ids=[t.pk for t in batch], actor=world.finance)
        counts.append(len(queries))
    # then
    assert counts[0] == counts[1], counts
    assert Invoice.objects.count() == 11
    invoiced = TimesheetEvent.objects.filter(to_status="invoiced").values_list("from_status", "actor_id")
    assert set(invoiced) == {("approved", world.finance.pk)}
