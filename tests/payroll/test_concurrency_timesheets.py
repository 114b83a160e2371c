"""Timesheet requests racing each other through the API (PostgreSQL, real transactions).

The services lock the worker row first and then the timesheet row, and the session
services lock the same worker row: so two approvals, or a submit and a session edit of
the same period, run one after the other. Whatever the order, the stored figures are
those of the sessions as they ended up, and the stored total is the sum of the stored
lines and adjustments.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from payroll.models import Adjustment, Timesheet, TimesheetEvent
from payroll.selectors.pricing import price_worker_period
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory, SessionFactory
from tests.trainers.test_concurrency import race
from trainers.models import LabellingSession

ROUNDS = 20
API = "/api/v1"
# Mon 2026-11-02 15:00 UTC = 09:00 in Chicago, 2026-W45; round n works n weeks earlier.
MONDAY = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC (threads see the same clock)."""


def open_week(world, weeks_back: int) -> tuple[Timesheet, LabellingSession]:
    """Contractor A's timesheet of a week with a 2 h session and a 1.25 adjustment in it."""
    start = MONDAY - timedelta(weeks=weeks_back)
    session = (
        world.session_a
        if weeks_back == 0
        else SessionFactory(
            worker=world.worker_a,
            project=world.project_a,
            started_at=start,
            ended_at=start + timedelta(hours=2),
        )
    )
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=session.period)
    Adjustment.objects.create(
        worker=world.worker_a,
        amount=Decimal("1.25"),
        currency="USD",
        reason="Review bonus.",
        applies_to_period=timesheet.period,
        created_by=world.finance,
    )
    return timesheet, session


def stored_figures_are_consistent(timesheet: Timesheet) -> None:
    """Total = stored lines + adjustments, and the stored lines are the sessions' as they are."""
    timesheet = Timesheet.objects.get(pk=timesheet.pk)
    stored = sorted(timesheet.lines.values_list("project_id", "kind", "hourly_rate", "seconds", "amount"))
    adjustments = Adjustment.objects.filter(worker=timesheet.worker, applies_to_period=timesheet.period)
    assert timesheet.total == sum((amount for *_, amount in stored), Decimal(0)) + sum(
        (a.amount for a in adjustments), Decimal(0)
    )
    fresh = price_worker_period(timesheet.worker, timesheet.period)
    assert stored == sorted((ln.project_id, ln.kind, ln.rate, ln.seconds, ln.amount) for ln in fresh.lines)


def code(outcome: Any) -> Any:
    return getattr(outcome, "status_code", outcome)


@pytest.mark.django_db(transaction=True)
def test_two_approvals_racing_one_wins_the_other_is_a_conflict(world, client_for):
    # given
    RateFactory(worker=world.worker_a)
    approvers = {world.manager_a.pk: client_for(world.manager_a), world.admin.pk: client_for(world.admin)}
    for weeks_back in range(ROUNDS):
        timesheet, _ = open_week(world, weeks_back)
        timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
        url = f"{API}/timesheets/{timesheet.pk}/approve/"

        def approve(client: Any, url: str = url) -> Any:
            return client.post(url, {"note": "ok"}, format="json")

        # when the manager and the admin approve at the same instant
        outcomes = race(*(lambda c=c: approve(c) for c in approvers.values()))
        # then exactly one approves; the other is told it is already approved
        assert sorted(map(code, outcomes)) == [200, 409], outcomes
        winner = next(o for o in outcomes if o.status_code == 200)
        loser = next(o for o in outcomes if o.status_code == 409)
        assert loser.json()["detail"] == "Cannot approve a timesheet that is approved."
        stored = Timesheet.objects.get(pk=timesheet.pk)
        assert (stored.status, stored.decided_by_id) == ("approved", winner.json()["decided_by"])
        assert TimesheetEvent.objects.filter(timesheet=timesheet, to_status="approved").count() == 1
        stored_figures_are_consistent(stored)


@pytest.mark.django_db(transaction=True)
def test_a_submit_racing_a_session_edit_never_stores_stale_figures(world, client_for):
    # given
    RateFactory(worker=world.worker_a)
    submitter, editor = client_for(world.contractor_a), client_for(world.contractor_a)
    seen: Counter[str] = Counter()
    for weeks_back in range(ROUNDS):
        timesheet, session = open_week(world, weeks_back)
        longer = (session.ended_at + timedelta(minutes=30)).isoformat()

        def submit(timesheet: Timesheet = timesheet) -> Any:
            return submitter.post(f"{API}/timesheets/{timesheet.pk}/submit/", {}, format="json")

        def edit(session: LabellingSession = session, longer: str = longer) -> Any:
            return editor.patch(f"{API}/sessions/{session.pk}/", {"ended_at": longer}, format="json")

        # when the contractor submits while (another tab of) theirs lengthens a session
        submitted, edited = race(submit, edit)
        # then the submit lands, and the edit either landed first or was refused
        assert code(submitted) == 200, submitted
        assert code(edited) in (200, 409), edited
        stored = Timesheet.objects.get(pk=timesheet.pk)
        assert stored.status == "submitted"
        if edited.status_code == 200:
            seen["edit first"] += 1
            assert stored.total == Decimal("38.75")  # 2:30 at 15.00 + 1.25
        else:
            seen["submit first"] += 1
            assert "its timesheet is submitted" in edited.json()["detail"]
            assert stored.total == Decimal("31.25")  # 2:00 at 15.00 + 1.25
            session.refresh_from_db()
            assert session.ended_at - session.started_at == timedelta(hours=2)
        assert submitted.json()["total"] == f"{stored.total}"
        stored_figures_are_consistent(stored)
    assert sum(seen.values()) == ROUNDS, seen


@pytest.mark.django_db(transaction=True)
def test_a_close_racing_a_submit_never_overwrites_the_stored_lines(world, client_for):
    # given
    RateFactory(worker=world.worker_a)
    finance, contractor = client_for(world.finance), client_for(world.contractor_a)
    for weeks_back in range(ROUNDS):
        timesheet, _ = open_week(world, weeks_back)

        def close(period: str = timesheet.period) -> Any:
            return finance.post(f"{API}/payroll/close/", {"period": period}, format="json")

        def submit(timesheet: Timesheet = timesheet) -> Any:
            return contractor.post(f"{API}/timesheets/{timesheet.pk}/submit/", {}, format="json")

        # when finance closes the period as the contractor submits
        closed, submitted = race(close, submit)
        # then both succeed and the submitted figures stand
        assert (code(closed), code(submitted)) == (202, 200), (closed, submitted)
        stored = Timesheet.objects.get(pk=timesheet.pk)
        assert (stored.status, stored.total) == ("submitted", Decimal("31.25"))
        assert Timesheet.objects.filter(worker=world.worker_a, period=timesheet.period).count() == 1
        stored_figures_are_consistent(stored)
