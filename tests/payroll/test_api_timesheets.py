"""Timesheets through the API: the close, the state machine per role, locks, adjustments, jobs.

The world's contractor A has one 2 h session on Mon 2026-11-02 (period 2026-W45 in
America/Chicago) on project A; tests add a 15.00 USD default rate where they need priced
time. `now` is frozen at Fri 2026-11-20 (2026-W47), so adjustments land in W47 or later.
"""

import json
from typing import Any

import pytest

from payroll.models import Adjustment, Job, JobStatus, Timesheet, TimesheetEvent, TimesheetLine
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory, WorkerFactory, give_time
from trainers.models import User

pytestmark = pytest.mark.django_db

API = "/api/v1"
W45 = "2026-W45"


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC."""


@pytest.fixture
def rate_a(world):
    """Contractor A's default rate: 15.00 USD from 2026-01-01."""
    return RateFactory(worker=world.worker_a)


@pytest.fixture
def close(client_for, world, django_capture_on_commit_callbacks):
    """POST payroll/close/ as finance and run the queued job (Celery is eager in tests)."""

    def run(period: str, user: User | None = None) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user or world.finance).post(
                f"{API}/payroll/close/", {"period": period}, format="json"
            )
        assert response.status_code == 202, response.data
        return response

    return run


# Which actions lead from a fresh open timesheet to each state, and who takes them.
PATHS = {
    "open": [],
    "submitted": [("submit", "contractor_a", "")],
    "approved": [("submit", "contractor_a", ""), ("approve", "manager_a", "Fine.")],
    "rejected": [("submit", "contractor_a", ""), ("reject", "manager_a", "Split Tuesday.")],
    "invoiced": [("submit", "contractor_a", ""), ("approve", "manager_a", "Fine.")],
}


def timesheet_in(world, status: str, period: str = W45) -> Timesheet:
    """Contractor A's timesheet of `period`, brought to `status` through the services."""
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=period)
    if PATHS[status]:
        give_time(timesheet)  # never submitted empty
    for action, who, note in PATHS[status]:
        timesheet = timesheet_transition(
            actor=world.user(who), timesheet=timesheet, action=action, note=note, confirm=True
        )
    if status == "invoiced":  # no invoice service yet: the state is all a transition checks
        Timesheet.objects.filter(pk=timesheet.pk).update(status="invoiced")
    return Timesheet.objects.get(pk=timesheet.pk)


def events_of(timesheet: Timesheet) -> list[tuple[str, str, int | None, str]]:
    return list(
        TimesheetEvent.objects.filter(timesheet=timesheet).values_list(
            "from_status", "to_status", "actor_id", "note"
        )
    )


def post(client, path: str, body: dict | None = None) -> Any:
    return client.post(f"{API}/{path}", body or {}, format="json")


# --- the whole flow -----------------------------------------------------------------------------


def test_the_whole_flow_log_close_read_submit_approve(world, rate_a, client_for, close):
    # given contractor A logs a second session on Tue (1:30) beside Monday's 2:00
    contractor = client_for(world.contractor_a)
    logged = post(
        contractor,
        "sessions/",
        {
            "project": world.project_a.pk,
            "started_at": "2026-11-03T09:00:00-06:00",
            "ended_at": "2026-11-03T10:30:00-06:00",
        },
    )
    assert logged.status_code == 201, logged.data
    # when finance closes the period
    job_id = close(W45).data["job"]
    # then the job is done and every worker with time in W45 has a timesheet
    job = client_for(world.finance).get(f"{API}/jobs/{job_id}/")
    assert job.status_code == 200
    assert (job.data["status"], job.data["progress"], job.data["kind"]) == ("done", 100, "close_period")
    assert job.data["params"] == {"period": W45}
    assert job.data["result"]["timesheets"] == 3
    assert job.data["error"] == ""
    assert job.data["finished_at"] is not None
    assert Timesheet.objects.filter(period=W45).count() == 3
    # when the contractor reads their timesheet
    listed = contractor.get(f"{API}/timesheets/?period={W45}")
    # then it shows one line of 3:30:00 at 15.00 and the total
    assert listed.status_code == 200
    assert listed.data["count"] == 1
    sheet = listed.data["results"][0]
    assert sheet["worker"] == world.worker_a.pk
    assert (sheet["period"], sheet["status"], sheet["currency"]) == (W45, "open", "USD")
    assert sheet["lines"] == [
        {
            "project": world.project_a.pk,
            "project_name": "Project A",
            "activity": "labelling",
            "kind": "regular",
            "rate": "15.00",
            "hourly_rate": "15.00",
            "multiplier": "1.00",
            "seconds": 12600,
            "units": 0,
            "description": "Project A (regular) 3:30:00 = 3.50 h",
            "duration": "3:30:00",
            "hours": "3.50",
            "amount": "52.50",
        }
    ]
    assert (sheet["total"], sheet["adjustments"], sheet["events"]) == ("52.50", [], [])
    assert sheet["effective_hourly"] == "15.00"
    assert [p for p in sheet["problems"] if p["blocking"]] == []
    # when the contractor submits and the manager approves
    submitted = post(contractor, f"timesheets/{sheet['id']}/submit/")
    approved = post(client_for(world.manager_a), f"timesheets/{sheet['id']}/approve/", {"note": "Thanks"})
    # then
    assert submitted.status_code == 200, submitted.data
    assert submitted.data["status"] == "submitted"
    assert submitted.data["submitted_at"] == "2026-11-20T12:00:00Z"
    assert approved.status_code == 200, approved.data
    assert approved.data["status"] == "approved"
    assert (approved.data["decided_by"], approved.data["decision_note"]) == (world.manager_a.pk, "Thanks")
    assert approved.data["total"] == "52.50"
    assert [(e["from_status"], e["to_status"], e["actor"], e["note"]) for e in approved.data["events"]] == [
        ("open", "submitted", world.contractor_a.pk, ""),
        ("submitted", "approved", world.manager_a.pk, "Thanks"),
    ]
    stored = Timesheet.objects.get(pk=sheet["id"])
    assert str(stored.total) == "52.50"
    assert list(stored.lines.values_list("seconds", "amount")) == [(12600, pytest.approx(52.5))]


def test_retrieve_shows_the_same_figures_as_the_list(world, rate_a, client_for):
    # given
    timesheet = timesheet_in(world, "submitted")
    client = client_for(world.manager_a)
    # when
    one = client.get(f"{API}/timesheets/{timesheet.pk}/")
    many = client.get(f"{API}/timesheets/?worker={world.worker_a.pk}&status=submitted")
    # then
    assert one.status_code == 200
    assert many.data["results"] == [one.data]
    assert one.data["total"] == "30.00"
    assert one.data["period_start"] == "2026-11-02T06:00:00Z"
    assert one.data["period_end"] == "2026-11-09T06:00:00Z"


def test_the_list_costs_a_bounded_number_of_queries_per_row(world, client_for, django_assert_max_num_queries):
    # given nine timesheets, three of them submitted (stored lines), six open (priced live)
    for worker in (world.worker_a, world.worker_a2, world.worker_b):
        RateFactory(worker=worker)
        for period in ("2026-W44", W45, "2026-W46"):
            timesheet, _ = timesheet_get_or_create(worker=worker, period=period)
            if period == W45:
                timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
    # when / then: figures are per row (a few queries each), events come in one prefetch
    with django_assert_max_num_queries(9 * 5 + 6):
        response = client_for(world.finance).get(f"{API}/timesheets/")
    assert response.data["count"] == 9
    assert all(row["events"] for row in response.data["results"] if row["period"] == W45)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=open", 1),
        ("status=submitted", 0),
        ("period=2026-W44", 0),
        ("period=2026-W45", 1),
        ("period=2026-W45&status=open", 1),
        ("period=2026-W99", 400),
        ("status=paid", 400),
        ("worker=abc", 400),
    ],
)
def test_timesheet_filters(world, client_for, query, expected):
    # given
    timesheet_in(world, "open")
    # when
    response = client_for(world.contractor_a).get(f"{API}/timesheets/?{query}")
    # then
    if expected == 400:
        assert response.status_code == 400, response.data
    else:
        assert response.status_code == 200
        assert response.data["count"] == expected


# --- the state machine, verb by verb, per role and state -------------------------------------

TARGET = {"submit": "submitted", "approve": "approved", "reject": "rejected", "reopen": "open"}
NOTES = {
    "submit": "",
    "approve": "Looks right.",
    "reject": "Tuesday is on the wrong project.",
    "reopen": "Typo.",
}

TRANSITION_CELLS = [
    # caller, verb, from state, expected
    ("contractor_a", "submit", "open", 200),
    ("contractor_a", "submit", "rejected", 200),
    ("contractor_a", "submit", "submitted", 409),
    ("contractor_a", "submit", "approved", 409),
    ("contractor_a", "submit", "invoiced", 409),
    ("contractor_a2", "submit", "open", 404),
    ("contractor_b", "submit", "open", 404),
    ("manager_a", "submit", "open", 403),
    ("finance", "submit", "open", 403),
    ("admin", "submit", "open", 403),
    ("manager_a", "approve", "submitted", 200),
    ("admin", "approve", "submitted", 200),
    ("manager_a", "approve", "open", 409),
    ("manager_a", "approve", "rejected", 409),
    ("manager_a", "approve", "approved", 409),
    ("admin", "approve", "invoiced", 409),
    ("manager_b", "approve", "submitted", 404),
    ("finance", "approve", "submitted", 403),
    ("contractor_a", "approve", "submitted", 403),
    ("contractor_b", "approve", "submitted", 403),
    ("manager_a", "reject", "submitted", 200),
    ("admin", "reject", "submitted", 200),
    ("manager_a", "reject", "open", 409),
    ("manager_a", "reject", "approved", 409),
    ("manager_a", "reject", "rejected", 409),
    ("manager_b", "reject", "submitted", 404),
    ("finance", "reject", "submitted", 403),
    ("contractor_a", "reject", "submitted", 403),
    ("finance", "reopen", "approved", 200),
    ("admin", "reopen", "approved", 200),
    ("finance", "reopen", "open", 409),
    ("finance", "reopen", "submitted", 409),
    ("finance", "reopen", "rejected", 409),
    ("admin", "reopen", "invoiced", 409),
    ("manager_a", "reopen", "approved", 403),
    ("manager_b", "reopen", "approved", 403),
    ("contractor_a", "reopen", "approved", 403),
    ("anonymous", "submit", "open", 401),
    ("anonymous", "approve", "submitted", 401),
    ("anonymous", "reject", "submitted", 401),
    ("anonymous", "reopen", "approved", 401),
]


@pytest.mark.parametrize(("caller", "verb", "state", "expected"), TRANSITION_CELLS)
def test_transition_per_role_and_state(world, rate_a, client_for, caller, verb, state, expected):
    # given
    timesheet = timesheet_in(world, state)
    before = events_of(timesheet)
    user = world.user(caller)
    # when
    response = post(client_for(user), f"timesheets/{timesheet.pk}/{verb}/", {"note": NOTES[verb]})
    # then
    assert response.status_code == expected, response.data
    stored = Timesheet.objects.get(pk=timesheet.pk)
    if expected == 200:
        assert stored.status == response.data["status"] == TARGET[verb]
        assert events_of(timesheet) == [*before, (state, TARGET[verb], user.pk, NOTES[verb])]
        last = response.data["events"][-1]
        assert (last["from_status"], last["to_status"], last["actor"], last["note"]) == (
            state,
            TARGET[verb],
            user.pk,
            NOTES[verb],
        )
        assert last["at"] == "2026-11-20T12:00:00Z"
    else:
        assert stored.status == state
        assert events_of(timesheet) == before
    if expected == 409:
        assert f"that is {state}" in response.data["detail"]


@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": "   "}])
def test_reject_needs_a_note(world, rate_a, client_for, body):
    # given
    timesheet = timesheet_in(world, "submitted")
    # when
    response = post(client_for(world.manager_a), f"timesheets/{timesheet.pk}/reject/", body)
    # then
    assert response.status_code == 400
    assert response.data == {"note": ["A rejection needs a note saying what to fix."]}
    assert Timesheet.objects.get(pk=timesheet.pk).status == "submitted"


def test_reopen_needs_a_note_and_only_from_approved(world, rate_a, client_for):
    # given
    timesheet = timesheet_in(world, "approved")
    finance = client_for(world.finance)
    # when
    without = post(finance, f"timesheets/{timesheet.pk}/reopen/", {"note": ""})
    reopened = post(finance, f"timesheets/{timesheet.pk}/reopen/", {"note": "Wrong project on Monday."})
    again = post(finance, f"timesheets/{timesheet.pk}/reopen/", {"note": "Twice?"})
    # then
    assert without.status_code == 400
    assert without.data == {"note": ["Reopening needs a note saying why."]}
    assert reopened.status_code == 200
    assert (reopened.data["status"], reopened.data["decided_by"]) == ("open", world.finance.pk)
    assert again.status_code == 409
    assert again.data["detail"] == "Cannot reopen a timesheet that is open."


def test_a_note_longer_than_the_limit_is_refused(world, rate_a, client_for):
    # given
    timesheet = timesheet_in(world, "submitted")
    # when
    response = post(client_for(world.manager_a), f"timesheets/{timesheet.pk}/approve/", {"note": "x" * 2001})
    # then
    assert response.status_code == 400
    assert "note" in response.data
    assert Timesheet.objects.get(pk=timesheet.pk).status == "submitted"


def test_reject_unlocks_the_sessions_and_resubmit_locks_them_again(world, rate_a, client_for):
    # given
    timesheet = timesheet_in(world, "open")
    contractor = client_for(world.contractor_a)
    session_url = f"{API}/sessions/{world.session_a.pk}/"
    submitted = post(contractor, f"timesheets/{timesheet.pk}/submit/")
    assert submitted.status_code == 200
    # when the contractor edits a session of the submitted period
    locked = contractor.patch(session_url, {"ended_at": "2026-11-02T11:30:00-06:00"}, format="json")
    # then it is refused, naming the state
    assert locked.status_code == 409
    assert (
        locked.data["detail"]
        == "Period 2026-W45 is locked: its timesheet is submitted; sessions in it cannot change."
    )
    # when the manager rejects it, the same edit goes through
    rejected = post(
        client_for(world.manager_a), f"timesheets/{timesheet.pk}/reject/", {"note": "Add Monday's half hour."}
    )
    assert rejected.status_code == 200
    assert rejected.data["decision_note"] == "Add Monday's half hour."
    edited = contractor.patch(session_url, {"ended_at": "2026-11-02T11:30:00-06:00"}, format="json")
    assert edited.status_code == 200, edited.data
    # then the rejected timesheet shows live figures, and resubmitting stores them
    live = contractor.get(f"{API}/timesheets/{timesheet.pk}/")
    assert (live.data["status"], live.data["total"]) == ("rejected", "37.50")
    resubmitted = post(contractor, f"timesheets/{timesheet.pk}/submit/")
    assert resubmitted.status_code == 200
    assert (resubmitted.data["status"], resubmitted.data["total"]) == ("submitted", "37.50")
    assert resubmitted.data["decided_by"] is None
    assert resubmitted.data["decision_note"] == ""
    assert [(e["from_status"], e["to_status"]) for e in resubmitted.data["events"]] == [
        ("open", "submitted"),
        ("submitted", "rejected"),
        ("rejected", "submitted"),
    ]
    assert Timesheet.objects.get(pk=timesheet.pk).total == pytest.approx(37.5)
    assert contractor.delete(session_url).status_code == 409


def test_approved_period_refuses_session_changes_naming_the_state(world, rate_a, client_for):
    # given
    timesheet_in(world, "approved")
    contractor = client_for(world.contractor_a)
    # when
    edit = contractor.patch(f"{API}/sessions/{world.session_a.pk}/", {"notes": "late"}, format="json")
    create = post(
        contractor,
        "sessions/",
        {
            "project": world.project_a.pk,
            "started_at": "2026-11-04T09:00:00-06:00",
            "ended_at": "2026-11-04T10:00:00-06:00",
        },
    )
    # then
    assert edit.status_code == 409
    assert "its timesheet is approved" in edit.data["detail"]
    assert create.status_code == 409
    assert "its timesheet is approved" in create.data["detail"]


def test_submit_is_refused_while_a_session_runs_in_the_period(world, rate_a, client_for):
    # given a timer running now (2026-W47)
    contractor = client_for(world.contractor_a)
    started = post(contractor, "sessions/start/", {"project": world.project_a.pk})
    assert started.status_code == 201
    current = contractor.get(f"{API}/timesheets/current/")
    assert current.status_code == 200
    assert current.data["period"] == "2026-W47"
    assert [(p["code"], p["blocking"], p["session_ids"]) for p in current.data["problems"]] == [
        ("running_session", True, [started.data["id"]])
    ]
    # when
    response = post(contractor, f"timesheets/{current.data['id']}/submit/")
    # then
    assert response.status_code == 409
    assert response.data["detail"] == (
        "Cannot submit yet: Session of Fri 20 Nov 06:00: still running; stop it before submitting."
    )
    assert Timesheet.objects.get(pk=current.data["id"]).status == "open"
    assert not TimesheetEvent.objects.exists()


def test_submit_is_refused_while_time_is_unpriced(world, client_for):
    # given no rate at all for contractor A
    timesheet = timesheet_in(world, "open")
    contractor = client_for(world.contractor_a)
    shown = contractor.get(f"{API}/timesheets/{timesheet.pk}/")
    blocking = [p["code"] for p in shown.data["problems"] if p["blocking"]]
    assert blocking == ["unpriced_time"]
    assert (shown.data["lines"], shown.data["total"]) == ([], "0.00")
    # when
    response = post(contractor, f"timesheets/{timesheet.pk}/submit/")
    # then
    assert response.status_code == 409
    assert response.data["detail"] == (
        "Cannot submit yet: 2:00:00 on 'Project A' has no rate; "
        "finance must add one before this can be submitted or approved."
    )
    assert Timesheet.objects.get(pk=timesheet.pk).status == "open"
    # and once finance adds a rate, it goes through
    RateFactory(worker=world.worker_a)
    assert post(contractor, f"timesheets/{timesheet.pk}/submit/").status_code == 200


def test_a_manager_may_not_approve_their_own_timesheet(world, client_for):
    # given manager A also logs time, in the team they manage
    own = WorkerFactory(user=world.manager_a, team=world.team_a)
    RateFactory(worker=own)
    timesheet, _ = timesheet_get_or_create(worker=own, period=W45)
    give_time(timesheet)
    timesheet = timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="submit")
    # when
    response = post(client_for(world.manager_a), f"timesheets/{timesheet.pk}/approve/")
    # then
    assert response.status_code == 403
    assert response.data["detail"] == "Nobody approves or rejects their own timesheet."
    assert Timesheet.objects.get(pk=timesheet.pk).status == "submitted"
    # while the admin may
    assert post(client_for(world.admin), f"timesheets/{timesheet.pk}/approve/").status_code == 200


def test_another_teams_manager_sees_nothing(world, rate_a, client_for):
    # given
    timesheet = timesheet_in(world, "submitted")
    manager_b = client_for(world.manager_b)
    # when
    listed = manager_b.get(f"{API}/timesheets/")
    shown = manager_b.get(f"{API}/timesheets/{timesheet.pk}/")
    approved = post(manager_b, f"timesheets/{timesheet.pk}/approve/")
    # then
    assert listed.data["count"] == 0
    assert (shown.status_code, approved.status_code) == (404, 404)
    assert Timesheet.objects.get(pk=timesheet.pk).status == "submitted"


# --- creating timesheets ----------------------------------------------------------------------


def test_contractor_gets_or_creates_their_own_timesheet(world, client_for):
    # given
    contractor = client_for(world.contractor_a)
    # when
    first = post(contractor, "timesheets/", {"period": "2026-W46"})
    second = post(contractor, "timesheets/", {"period": "2026-W46"})
    # then
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.data["id"] == second.data["id"]
    assert (first.data["worker"], first.data["status"], first.data["total"]) == (
        world.worker_a.pk,
        "open",
        "0.00",
    )
    assert Timesheet.objects.filter(worker=world.worker_a).count() == 1


def test_finance_names_the_worker(world, client_for):
    # given
    finance = client_for(world.finance)
    # when
    missing = post(finance, "timesheets/", {"period": W45})
    created = post(finance, "timesheets/", {"worker": world.worker_b.pk, "period": W45})
    # then
    assert missing.status_code == 400
    assert missing.data == {"worker": ["This field is required."]}
    assert created.status_code == 201
    assert created.data["worker"] == world.worker_b.pk
    # Asia/Kolkata: the week starts at Monday 00:00 IST = Sunday 18:30 UTC
    assert created.data["period_start"] == "2026-11-01T18:30:00Z"


def test_a_contractor_cannot_create_anothers_timesheet(world, client_for):
    # when
    response = post(
        client_for(world.contractor_a), "timesheets/", {"worker": world.worker_b.pk, "period": W45}
    )
    # then
    assert response.status_code == 400
    assert "worker" in response.data
    assert not Timesheet.objects.filter(worker=world.worker_b).exists()


@pytest.mark.parametrize("period", ["2026-W54", "2026-45", "", "1999-W10", "٢٠٢٦-W45", "2026-W45x"])
def test_timesheet_create_refuses_bad_periods(world, client_for, period):
    # when
    response = post(client_for(world.contractor_a), "timesheets/", {"period": period})
    # then
    assert response.status_code == 400
    assert "period" in response.data
    assert not Timesheet.objects.exists()


def test_current_is_the_period_containing_now_in_the_workers_zone(world, client_for):
    # when
    first = client_for(world.contractor_b).get(f"{API}/timesheets/current/")
    again = client_for(world.contractor_b).get(f"{API}/timesheets/current/")
    # then
    assert first.status_code == 200
    assert first.data["period"] == "2026-W47"
    assert first.data["worker"] == world.worker_b.pk
    assert again.data["id"] == first.data["id"]


# --- adjustments -----------------------------------------------------------------------------


def test_adjustments_land_on_the_next_open_period_and_count_in_its_total(world, rate_a, client_for):
    # given W45 approved, and the current week W47 already submitted (with an hour's time)
    timesheet_in(world, "approved")
    timesheet_in(world, "submitted", period="2026-W47")
    # when finance and the manager add corrections
    finance = post(
        client_for(world.finance),
        "adjustments/",
        {"worker": world.worker_a.pk, "amount": "-5.25", "currency": "USD", "reason": "Overpaid in W45."},
    )
    manager = post(
        client_for(world.manager_a),
        "adjustments/",
        {"worker": world.worker_a.pk, "amount": "10.00", "currency": "USD", "reason": "Missed review bonus."},
    )
    # then both go to W48, the first period neither locked nor past
    assert finance.status_code == 201, finance.data
    assert manager.status_code == 201, manager.data
    assert finance.data["applies_to_period"] == manager.data["applies_to_period"] == "2026-W48"
    assert (finance.data["amount"], finance.data["created_by"]) == ("-5.25", world.finance.pk)
    # and the W48 timesheet exists at once and shows them as its own lines and in its total
    sheet = post(client_for(world.contractor_a), "timesheets/", {"period": "2026-W48"})
    assert sheet.status_code == 200
    assert [(a["amount"], a["reason"], a["created_by"]) for a in sheet.data["adjustments"]] == [
        ("-5.25", "Overpaid in W45.", world.finance.pk),
        ("10.00", "Missed review bonus.", world.manager_a.pk),
    ]
    assert sheet.data["lines"] == []
    assert sheet.data["total"] == "4.75"
    # and the approved W45 is untouched
    w45 = Timesheet.objects.get(worker=world.worker_a, period=W45)
    assert str(w45.total) == "30.00"


def test_an_adjustment_shows_on_the_current_timesheet_beside_its_lines(world, rate_a, client_for, close):
    # given a session this week (W47) and the week closed
    contractor = client_for(world.contractor_a)
    body = {
        "project": world.project_a.pk,
        "started_at": "2026-11-16T09:00:00-06:00",
        "ended_at": "2026-11-16T10:00:00-06:00",
    }
    assert post(contractor, "sessions/", body).status_code == 201
    close("2026-W47")
    # when
    added = post(
        client_for(world.admin),
        "adjustments/",
        {"worker": world.worker_a.pk, "amount": "2.50", "currency": "USD", "reason": "Bonus."},
    )
    close("2026-W47")
    # then
    assert added.data["applies_to_period"] == "2026-W47"
    sheet = contractor.get(f"{API}/timesheets/current/").data
    assert [line["amount"] for line in sheet["lines"]] == ["15.00"]
    assert [a["amount"] for a in sheet["adjustments"]] == ["2.50"]
    assert sheet["total"] == "17.50"
    assert str(Timesheet.objects.get(pk=sheet["id"]).total) == "17.50"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "0.00"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1000000.00"}, "amount"),
        ({"amount": "-1000000"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1_000"}, "amount"),
        ({"amount": "\u0661\u0662.\u0665"}, "amount"),
        ({"amount": None}, "amount"),
        ({"currency": "EUR"}, "currency"),
        ({"currency": "XXXX"}, "currency"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"worker": 99999999999999999999}, "worker"),
        ({"worker": None}, "worker"),
    ],
)
def test_adjustment_bad_input_is_a_400_naming_the_field(world, client_for, body, field):
    # given
    good = {"worker": world.worker_a.pk, "amount": "5.00", "currency": "USD", "reason": "Bonus."}
    # when
    response = post(client_for(world.finance), "adjustments/", {**good, **body})
    # then
    assert response.status_code == 400, response.data
    assert field in response.data
    assert not Adjustment.objects.exists()


def test_largest_adjustment_is_accepted(world, client_for):
    # when
    response = post(
        client_for(world.finance),
        "adjustments/",
        {"worker": world.worker_a.pk, "amount": "-999999.99", "currency": "USD", "reason": "Clawback."},
    )
    # then
    assert response.status_code == 201, response.data
    assert response.data["amount"] == "-999999.99"


def test_adjustments_are_never_rewritten(world, client_for):
    # given
    finance = client_for(world.finance)
    made = post(
        finance,
        "adjustments/",
        {"worker": world.worker_a.pk, "amount": "5.00", "currency": "USD", "reason": "x"},
    )
    url = f"{API}/adjustments/{made.data['id']}/"
    # when / then
    assert finance.patch(url, {"amount": "6.00"}, format="json").status_code == 405
    assert finance.delete(url).status_code == 405
    assert str(Adjustment.objects.get().amount) == "5.00"


# --- the close job ----------------------------------------------------------------------------


def snapshot(period: str) -> list[tuple]:
    """Every timesheet of the period with its stored lines, ids included."""
    rows = []
    for timesheet in Timesheet.objects.filter(period=period).order_by("pk"):
        lines = list(
            TimesheetLine.objects.filter(timesheet=timesheet)
            .order_by("pk")
            .values_list("pk", "project_id", "kind", "hourly_rate", "multiplier", "seconds", "amount")
        )
        rows.append((timesheet.pk, timesheet.worker_id, timesheet.status, timesheet.total, lines))
    return rows


def test_closing_twice_gives_identical_rows(world, rate_a, client_for, close):
    # given
    RateFactory(worker=world.worker_b, hourly_rate="20.00")
    first_job = close(W45).data["job"]
    first = snapshot(W45)
    # when
    second_job = close(W45).data["job"]
    # then the same timesheets and lines (same ids), and the second run changed nothing
    assert second_job != first_job
    assert snapshot(W45) == first
    assert len(first) == 3
    totals = {worker_id: str(total) for _, worker_id, _, total, _ in first}
    assert totals == {world.worker_a.pk: "30.00", world.worker_b.pk: "40.00", world.worker_a2.pk: "0.00"}
    job = Job.objects.get(pk=second_job)
    assert (job.status, job.result) == (JobStatus.DONE, {"timesheets": 3, "changed": 0})


def test_close_leaves_submitted_timesheets_alone(world, rate_a, client_for, close):
    # given a submitted timesheet, then the rate changes
    timesheet = timesheet_in(world, "submitted")
    before = snapshot(W45)
    world.worker_a.rates.update(hourly_rate="99.00")
    # when
    close(W45)
    # then
    assert [row for row in snapshot(W45) if row[0] == timesheet.pk] == before
    shown = client_for(world.contractor_a).get(f"{API}/timesheets/{timesheet.pk}/")
    assert shown.data["total"] == "30.00"


def test_a_second_close_while_the_first_is_unfinished_returns_the_same_job(world, client_for, close):
    # given a close of W45 queued and not yet run
    queued = Job.objects.create(
        kind="close_period",
        params={"period": W45},
        params_key=json.dumps({"period": W45}, sort_keys=True, separators=(",", ":")),
        created_by=world.finance,
    )
    # when finance and the admin ask again
    again = close(W45)
    by_admin = close(W45, user=world.admin)
    # then
    assert again.data == {"job": queued.pk}
    assert by_admin.data == {"job": queued.pk}
    assert Job.objects.count() == 1
    assert not Timesheet.objects.exists()
    # and a different period is a different job
    assert close("2026-W46").data["job"] != queued.pk


def test_a_running_job_shows_its_progress(world, client_for):
    # given
    job = Job.objects.create(
        kind="close_period",
        params={"period": W45},
        params_key="x",
        created_by=world.finance,
        status=JobStatus.RUNNING,
        total_chunks=4,
        done_chunks=1,
    )
    # when
    response = client_for(world.finance).get(f"{API}/jobs/{job.pk}/")
    # then
    assert response.status_code == 200
    assert (response.data["status"], response.data["progress"]) == ("running", 25)
    assert set(response.data) == {
        "id",
        "kind",
        "params",
        "status",
        "progress",
        "result",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    }


@pytest.mark.parametrize(
    "body", [{}, {"period": ""}, {"period": "2026-W00"}, {"period": "W45"}, {"period": ["2026-W45"]}]
)
def test_close_refuses_bad_periods(world, client_for, body):
    # when
    response = client_for(world.finance).post(f"{API}/payroll/close/", body, format="json")
    # then
    assert response.status_code == 400
    assert "period" in response.data
    assert not Job.objects.exists()
