"""A timesheet's history in the order its steps committed: `sequence` 1, 2, 3..., time never back.

Each event is written under its timesheet's row lock, numbered as the last one + 1, at a
time read once the lock is held (and never before the last event's). Contractor A's
W45 (America/Chicago) has a 2 h session on Mon 2026-11-02 and a 15.00 USD rate.
"""

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from core.errors import Conflict
from payroll.models import Timesheet, TimesheetEvent
from payroll.services.invoices import invoices_issue_batch
from payroll.services.timesheet_transitions import timesheet_transition, timesheets_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.conftest import NOW
from tests.factories import RateFactory, SessionFactory, WorkerFactory
from tests.trainers.test_concurrency import race
from trainers.models import LabellingSession, Worker

W45 = "2026-W45"
ROUNDS = 12
BEFORE, NUMBERED = (
    ("payroll", "0008_issued_invoices_never_change"),
    ("payroll", "0009_timesheet_event_sequence"),
)


def history(timesheet: Timesheet) -> list[tuple[int, str, str, datetime]]:
    """The timesheet's events as they are listed: (sequence, from, to, at)."""
    return list(
        TimesheetEvent.objects.filter(timesheet=timesheet).values_list(
            "sequence", "from_status", "to_status", "at"
        )
    )


def assert_consistent(timesheet: Timesheet) -> list[tuple[int, str, str, datetime]]:
    """Numbered 1..n, each step from where the last one left it, times never going back."""
    events = history(timesheet)
    assert [sequence for sequence, *_ in events] == list(range(1, len(events) + 1)), events
    state = "open"
    for _, from_status, to_status, _ in events:
        assert from_status == state, events
        state = to_status
    assert Timesheet.objects.get(pk=timesheet.pk).status == state
    times = [at for *_, at in events]
    assert times == sorted(times), events
    return events


def week_of(worker: Worker) -> Timesheet:
    """The worker's W45, with a 2 h session (the world's, or a new one) and a rate: ready to submit."""
    RateFactory(worker=worker)
    if not LabellingSession.objects.filter(worker=worker).exists():
        SessionFactory(worker=worker)
    return timesheet_get_or_create(worker=worker, period=W45)[0]


def steps(world: Any) -> dict[str, Callable[[Timesheet], Timesheet]]:
    """Each person's step on a timesheet of contractor A (rejected and reopened with a note)."""
    return {
        "submit": lambda t: timesheet_transition(actor=world.contractor_a, timesheet=t, action="submit"),
        "approve": lambda t: timesheet_transition(actor=world.manager_a, timesheet=t, action="approve"),
        "reject": lambda t: timesheet_transition(
            actor=world.admin, timesheet=t, action="reject", note="Split Tuesday."
        ),
        "reopen": lambda t: timesheet_transition(
            actor=world.finance, timesheet=t, action="reopen", note="Wrong project."
        ),
    }


@pytest.fixture
def ticking_clock(monkeypatch) -> None:
    """timezone.now() a millisecond later at every call, in every thread: a time read early shows."""
    ticks = itertools.count()
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW + timedelta(milliseconds=next(ticks)))


# One step after another ---------------------------------------------------------------------


@pytest.mark.django_db
def test_events_are_numbered_in_order_and_listed_so(world, ticking_clock, client_for):
    # given
    timesheet = week_of(world.worker_a)
    step = steps(world)
    # when it goes round the whole state machine
    for action in ("submit", "reject", "submit", "approve", "reopen", "submit", "approve"):
        step[action](timesheet)
    # then the history is numbered 1..7 in that order, each step from the last one's state
    events = assert_consistent(timesheet)
    assert [(from_status, to_status) for _, from_status, to_status, _ in events] == [
        ("open", "submitted"), ("submitted", "rejected"), ("rejected", "submitted"),
        ("submitted", "approved"), ("approved", "open"), ("open", "submitted"),
        ("submitted", "approved"),
    ]  # fmt: skip
    # and the API shows the same, with each event's sequence
    shown = client_for(world.contractor_a).get(f"/api/v1/timesheets/{timesheet.pk}/").json()["events"]
    assert [(e["sequence"], e["from_status"], e["to_status"]) for e in shown] == [e[:3] for e in events]


@pytest.mark.django_db
def test_a_clock_running_behind_never_writes_history_backwards(world, frozen_now):
    # given a submitted timesheet (at NOW)
    timesheet = week_of(world.worker_a)
    timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    # when its approval comes from a host whose clock is an hour behind
    timesheet_transition(
        actor=world.manager_a, timesheet=timesheet, action="approve", now=NOW - timedelta(hours=1)
    )
    # then the approval is recorded second, at the submit's time rather than before it
    assert history(timesheet) == [(1, "open", "submitted", NOW), (2, "submitted", "approved", NOW)]


@pytest.mark.django_db
def test_events_are_listed_by_sequence_not_by_time_or_insertion(world, client_for):
    # given events written out of order: the third first, the second at the third's time
    timesheet = week_of(world.worker_a)
    for sequence, from_status, to_status, minutes in [
        (3, "rejected", "submitted", 20), (1, "open", "submitted", 0), (2, "submitted", "rejected", 20),
    ]:  # fmt: skip
        TimesheetEvent.objects.create(
            timesheet=timesheet,
            sequence=sequence,
            from_status=from_status,
            to_status=to_status,
            at=NOW + timedelta(minutes=minutes),
        )
    expected = [("open", "submitted"), ("submitted", "rejected"), ("rejected", "submitted")]
    # when the API and the web page show the timesheet
    shown = client_for(world.contractor_a).get(f"/api/v1/timesheets/{timesheet.pk}/").json()["events"]
    browser = Client()
    browser.force_login(world.contractor_a)
    html = browser.get(reverse("payroll:timesheet", args=[timesheet.pk])).content.decode()
    # then both list them by sequence
    assert [(e["sequence"], e["from_status"], e["to_status"]) for e in shown] == [
        (n, *pair) for n, pair in enumerate(expected, start=1)
    ]
    listed = html[html.index('id="history-title"') :]
    positions = [listed.index(f"{from_status} → {to_status}") for from_status, to_status in expected]
    assert positions == sorted(positions), positions


@pytest.mark.django_db
def test_the_api_schema_describes_the_events_sequence(client_for):
    schema = client_for(None).get("/api/schema/?format=json").json()
    event = schema["components"]["schemas"]["TimesheetEvent"]
    assert event["properties"]["sequence"]["type"] == "integer"
    assert "1, 2, 3" in event["properties"]["sequence"]["description"]
    assert "sequence" in event["required"]


# Many timesheets in one step ----------------------------------------------------------------


@pytest.mark.django_db
def test_bulk_steps_number_each_timesheets_events_after_its_own(world, frozen_now):
    # given four weeks of the same team with histories of different lengths
    workers = [world.worker_a, *(WorkerFactory(team=world.team_a) for _ in range(3))]
    short, rejected_once, reopened, waiting = [week_of(worker) for worker in workers]
    for timesheet in (short, rejected_once, reopened, waiting):
        timesheet_transition(actor=timesheet.worker.user, timesheet=timesheet, action="submit")
    timesheet_transition(actor=world.manager_a, timesheet=rejected_once, action="reject", note="Fix it.")
    timesheet_transition(actor=rejected_once.worker.user, timesheet=rejected_once, action="submit")
    timesheet_transition(actor=world.manager_a, timesheet=reopened, action="approve")
    timesheet_transition(actor=world.finance, timesheet=reopened, action="reopen", note="Wrong week.")
    timesheet_transition(actor=reopened.worker.user, timesheet=reopened, action="submit")
    # when a manager approves three at once, and finance invoices all four at once
    timesheets_transition(
        actor=world.manager_a, timesheets=[short, rejected_once, reopened], action="approve"
    )
    invoices_issue_batch(
        timesheet_ids=[t.pk for t in (short, rejected_once, reopened, waiting)], actor=world.finance
    )
    # then each timesheet's events go on from its own last number; the submitted one is skipped
    lengths = {t.pk: len(assert_consistent(t)) for t in (short, rejected_once, reopened, waiting)}
    assert lengths == {short.pk: 3, rejected_once.pk: 5, reopened.pk: 6, waiting.pk: 1}
    assert TimesheetEvent.objects.get(timesheet=reopened, to_status="invoiced").sequence == 6


# Steps racing each other --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_racing_steps_on_one_timesheet_leave_one_unbroken_history(world, ticking_clock):
    # given a week ready to submit
    timesheet = week_of(world.worker_a)
    step = steps(world)
    # when, round after round, all four steps are taken on it at the same instant
    for _ in range(ROUNDS):
        outcomes = race(*(lambda take=take: take(timesheet) for take in step.values()))
        # then each lands or is refused as a conflict (never a database error)
        assert all(isinstance(outcome, Timesheet | Conflict) for outcome in outcomes), outcomes
    # and the history is one chain, numbered 1..n in commit order, its times never going back
    events = assert_consistent(timesheet)
    assert len(events) >= ROUNDS  # every round, the step its state allows landed


# The migration numbers what was there -------------------------------------------------------


EVENT_ROWS = """
INSERT INTO payroll_timesheetevent (timesheet_id, from_status, to_status, at, note)
SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::text[])
"""


@pytest.mark.django_db(transaction=True)
def test_the_migration_numbers_existing_events_in_the_order_they_were_written(world):
    # given events of two timesheets written before 0009, the reopen's time read before the
    # approval's (the race this fixes) though it was written after
    first, second = week_of(world.worker_a), week_of(world.worker_b)
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        rows = [
            (first.pk, "open", "submitted", NOW),
            (second.pk, "open", "submitted", NOW),
            (first.pk, "submitted", "approved", NOW + timedelta(seconds=2)),
            (first.pk, "approved", "open", NOW + timedelta(seconds=1)),
        ]
        with connection.cursor() as cursor:
            cursor.execute(EVENT_ROWS, [[column[i] for column in rows] for i in range(4)] + [[""] * 4])
        # when the migration runs
        executor = MigrationExecutor(connection)
        executor.migrate([NUMBERED])
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    # then each timesheet's events are numbered from 1 in the order they were written
    numbered = [(sequence, a, b) for sequence, a, b, _ in history(first)]
    assert numbered == [(1, "open", "submitted"), (2, "submitted", "approved"), (3, "approved", "open")]
    assert [(sequence, a, b) for sequence, a, b, _ in history(second)] == [(1, "open", "submitted")]
