"""Safe submit (issue 15): a week not over needs a confirmation, an empty week is refused.

Contractor A works in America/Chicago; `now` is frozen at Fri 2026-11-20 12:00 UTC, in
their week 2026-W47 (Mon 16 to Sun 22 November, local). Submitting locks a week, so a
click on a Monday once locked the rest of it with no word of warning.
"""

from datetime import UTC, datetime

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from core.errors import Conflict
from payroll.models import Timesheet, TimesheetEvent, TimesheetStatus
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory, SessionFactory
from trainers.models import LabellingSession

pytestmark = pytest.mark.django_db
W47 = "2026-W47"
NOT_OVER = "2026-W47 is not over yet: it runs until Sunday 22 November, 23:59 (America/Chicago)."


@pytest.fixture
def this_week(world, frozen_now) -> Timesheet:
    """Contractor A's current week, with two hours on Wednesday."""
    RateFactory(worker=world.worker_a)
    SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=datetime(2026, 11, 18, 15, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 18, 17, 0, tzinfo=UTC),
    )
    return timesheet_get_or_create(worker=world.worker_a, period=W47)[0]


@pytest.fixture
def empty_week(world, frozen_now) -> Timesheet:
    """Contractor A's current week, with nothing logged in it."""
    RateFactory(worker=world.worker_a)
    return timesheet_get_or_create(worker=world.worker_a, period=W47)[0]


def untouched(timesheet: Timesheet) -> bool:
    stored = Timesheet.objects.get(pk=timesheet.pk)
    return (
        stored.status == TimesheetStatus.OPEN and not TimesheetEvent.objects.filter(timesheet=stored).exists()
    )


# The service ------------------------------------------------------------------------------


def test_a_week_not_over_is_refused_with_what_it_locks_and_nothing_changes(world, this_week):
    # when
    with pytest.raises(Conflict) as refused:
        timesheet_transition(actor=world.contractor_a, timesheet=this_week, action="submit")
    # then
    assert str(refused.value).startswith(NOT_OVER)
    assert "no time can be logged or changed in it until it is sent back" in str(refused.value)
    assert untouched(this_week)


def test_a_week_not_over_is_submitted_once_confirmed(world, this_week):
    # when
    submitted = timesheet_transition(
        actor=world.contractor_a, timesheet=this_week, action="submit", confirm=True
    )
    # then
    assert submitted.status == TimesheetStatus.SUBMITTED
    assert Timesheet.objects.get(pk=this_week.pk).total == submitted.total > 0


@pytest.mark.parametrize("confirm", [False, True])
def test_an_empty_week_is_never_submitted(world, empty_week, confirm):
    # when
    with pytest.raises(Conflict, match=r"Nothing to submit: 2026-W47 has no time and no adjustment\."):
        timesheet_transition(actor=world.contractor_a, timesheet=empty_week, action="submit", confirm=confirm)
    # then
    assert untouched(empty_week)


def test_an_ended_week_needs_no_confirmation(world, frozen_now):
    # given W45, over two weeks ago, with session_a's two hours
    RateFactory(worker=world.worker_a)
    timesheet = timesheet_get_or_create(worker=world.worker_a, period="2026-W45")[0]
    # when
    submitted = timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    # then
    assert submitted.status == TimesheetStatus.SUBMITTED


# The API ----------------------------------------------------------------------------------


def submit_url(timesheet: Timesheet) -> str:
    return f"/api/v1/timesheets/{timesheet.pk}/submit/"


def test_the_api_answers_409_saying_what_locks_then_200_with_confirm(world, this_week, client_for):
    client = client_for(world.contractor_a)
    # when
    refused = client.post(submit_url(this_week), {}, format="json")
    confirmed = client.post(submit_url(this_week), {"confirm": True}, format="json")
    # then
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith(NOT_OVER)
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "submitted"


@pytest.mark.parametrize("confirm", ["yes", 1, None, "true"])
def test_the_api_reads_confirm_as_a_json_boolean_only(world, this_week, client_for, confirm):
    # when
    response = client_for(world.contractor_a).post(submit_url(this_week), {"confirm": confirm}, format="json")
    # then
    assert response.status_code == 400
    assert "confirm" in response.json()
    assert untouched(this_week)


def test_the_api_refuses_an_empty_week_with_409(world, empty_week, client_for):
    # when
    response = client_for(world.contractor_a).post(submit_url(empty_week), {"confirm": True}, format="json")
    # then
    assert response.status_code == 409
    assert response.json()["detail"] == "Nothing to submit: 2026-W47 has no time and no adjustment."


# The pages --------------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_week_card_asks_to_tick_a_box_before_locking_a_week_not_over(world, this_week):
    # when
    page = signed_in(world.contractor_a).get(reverse("payroll:current-figures")).content.decode()
    # then the words of what locks, and a required box
    assert NOT_OVER in page
    assert f'name="confirm" value="yes" id="confirm-submit-{this_week.pk}" required' in page
    assert 'id="submit-week"' in page


def test_submitting_from_the_page_without_the_box_changes_nothing_and_says_why(world, this_week):
    # when the box is left unticked (a browser without the `required` check)
    url = reverse("payroll:timesheet-action", args=[this_week.pk, "submit"])
    response = signed_in(world.contractor_a).post(url, {}, follow=True)
    # then
    assert NOT_OVER in response.content.decode()
    assert untouched(this_week)


def test_submitting_from_the_page_with_the_box_ticked_submits(world, this_week):
    # when
    url = reverse("payroll:timesheet-action", args=[this_week.pk, "submit"])
    signed_in(world.contractor_a).post(url, {"confirm": "yes"})
    # then
    assert Timesheet.objects.get(pk=this_week.pk).status == TimesheetStatus.SUBMITTED


def test_an_empty_week_offers_no_submit_button(world, empty_week):
    # when
    card = signed_in(world.contractor_a).get(reverse("payroll:current-figures")).content.decode()
    detail = (
        signed_in(world.contractor_a).get(reverse("payroll:timesheet", args=[empty_week.pk])).content.decode()
    )
    # then
    for page in (card, detail):
        assert "Nothing to submit yet: log time in this week first." in page
        assert 'id="submit-week"' not in page and 'id="submit-timesheet"' not in page


# The approval queue -----------------------------------------------------------------------


def test_a_week_submitted_before_its_end_is_not_pre_ticked_for_approval(world, this_week):
    # given the current week submitted with a confirmation, and W45 (over) without problems
    timesheet_transition(actor=world.contractor_a, timesheet=this_week, action="submit", confirm=True)
    RateFactory(worker=world.worker_a2)
    ended = timesheet_get_or_create(worker=world.worker_a2, period="2026-W45")[0]
    entered_in_their_week(world.worker_a2)
    timesheet_transition(actor=world.worker_a2.user, timesheet=ended, action="submit")
    # when
    page = signed_in(world.manager_a).get(reverse("payroll:approvals")).content.decode()
    # then both are offered; only the ended week is ticked at first
    assert f'id="pick-{ended.pk}" aria-label="Approve {world.worker_a2.full_name} 2026-W45" checked>' in page
    assert f'id="pick-{this_week.pk}" aria-label="Approve {world.worker_a.full_name} {W47}">' in page


def entered_in_their_week(worker) -> None:
    """Date the worker's sessions as entered when they ended (no late-entry warning)."""
    sessions = LabellingSession.objects.filter(worker=worker)
    sessions.update(created_at=F("ended_at"), updated_at=F("ended_at"))
