"""POST timesheets/bulk-approve/ and the queue's "approve the chosen": one service for both.

The problem-free submitted weeks are approved, each with its own event; the others are
skipped with why. `now` is frozen at Fri 2026-11-20 12:00 UTC; weeks are 2026-W45.
"""

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from payroll.models import Timesheet, TimesheetEvent, TimesheetStatus
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory, SessionFactory
from trainers.models import LabellingSession

pytestmark = pytest.mark.django_db
URL = "/api/v1/timesheets/bulk-approve/"
W45 = "2026-W45"


def submitted_week(worker, *, entered_late: bool = False) -> Timesheet:
    """The worker's W45, two hours priced, submitted; entered late, it carries a warning."""
    RateFactory(worker=worker)
    if not LabellingSession.objects.filter(worker=worker).exists():
        SessionFactory(worker=worker)
    if not entered_late:  # entered when it ended: nothing flagged
        LabellingSession.objects.filter(worker=worker).update(
            created_at=F("ended_at"), updated_at=F("ended_at")
        )
    timesheet = timesheet_get_or_create(worker=worker, period=W45)[0]
    return timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")


@pytest.fixture
def queue(world, frozen_now):
    """Team A's two submitted weeks (one with a warning) and team B's one."""
    return {
        "clean": submitted_week(world.worker_a),
        "warned": submitted_week(world.worker_a2, entered_late=True),
        "other_team": submitted_week(world.worker_b),
    }


def status_of(timesheet: Timesheet) -> str:
    return Timesheet.objects.get(pk=timesheet.pk).status


def test_a_manager_approves_the_problem_free_and_learns_why_the_rest_waited(world, queue, client_for):
    # when
    ids = [queue["clean"].pk, queue["warned"].pk, queue["other_team"].pk, 999_999]
    response = client_for(world.manager_a).post(URL, {"ids": ids}, format="json")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["approved"] == [queue["clean"].pk]
    reasons = {row["id"]: row["reason"] for row in body["skipped"]}
    assert reasons[queue["other_team"].pk] == reasons[999_999] == "No such timesheet."
    assert reasons[queue["warned"].pk].startswith("Has problems to look at first: ")
    assert [status_of(queue[name]) for name in ("clean", "warned", "other_team")] == [
        TimesheetStatus.APPROVED,
        TimesheetStatus.SUBMITTED,
        TimesheetStatus.SUBMITTED,
    ]
    assert TimesheetEvent.objects.filter(timesheet=queue["clean"], to_status="approved").count() == 1


def test_a_week_already_approved_is_skipped_with_the_state_conflict(world, queue, client_for):
    # given
    timesheet_transition(actor=world.manager_a, timesheet=queue["clean"], action="approve")
    # when
    response = client_for(world.manager_a).post(URL, {"ids": [queue["clean"].pk]}, format="json")
    # then
    assert response.json() == {
        "approved": [],
        "skipped": [{"id": queue["clean"].pk, "reason": "Cannot approve a timesheet that is approved."}],
    }


@pytest.mark.parametrize("who", ["contractor_a", "finance"])
def test_only_managers_and_admins_may_bulk_approve(world, queue, client_for, who):
    # when
    response = client_for(world.user(who)).post(URL, {"ids": [queue["clean"].pk]}, format="json")
    # then
    assert response.status_code == 403
    assert status_of(queue["clean"]) == TimesheetStatus.SUBMITTED


def test_an_admin_approves_across_teams(world, queue, client_for):
    # when
    response = client_for(world.admin).post(
        URL, {"ids": [queue["clean"].pk, queue["other_team"].pk]}, format="json"
    )
    # then
    assert sorted(response.json()["approved"]) == sorted([queue["clean"].pk, queue["other_team"].pk])


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": []},
        {"ids": "1"},
        {"ids": [1.0]},
        {"ids": ["1"]},
        {"ids": [True]},
        {"ids": [0]},
        {"ids": [2**63]},
    ],
)
def test_bad_ids_are_a_400_naming_the_field_and_change_nothing(world, queue, client_for, body):
    # when
    response = client_for(world.manager_a).post(URL, body, format="json")
    # then
    assert response.status_code == 400
    assert "ids" in response.json()
    assert status_of(queue["clean"]) == TimesheetStatus.SUBMITTED


def test_more_than_500_ids_is_a_400(world, queue, client_for):
    # when
    response = client_for(world.manager_a).post(URL, {"ids": list(range(1, 502))}, format="json")
    # then
    assert response.status_code == 400
    assert "ids" in response.json()


def test_the_queue_page_approves_through_the_same_service(world, queue):
    # given
    client = Client()
    client.force_login(world.manager_a)
    # when the manager ticks both of team A's weeks
    picked = {"timesheet": [queue["clean"].pk, queue["warned"].pk]}
    page = client.post(reverse("payroll:approve-many"), picked, follow=True).content.decode()
    # then the clean one is approved, and the page says why the other waits
    assert status_of(queue["clean"]) == TimesheetStatus.APPROVED
    assert status_of(queue["warned"]) == TimesheetStatus.SUBMITTED
    assert "Approved 1 timesheet." in page
    assert f"{world.worker_a2.full_name} {W45}: Has problems to look at first:" in page
