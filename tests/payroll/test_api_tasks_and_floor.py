"""PAY_RULES worked examples 6-8 end to end through the API, and the new fields' bad input.

Finance sets rates (per hour, per task, per activity) and the contract's fair-pay floor;
the contractor logs sessions with an activity and a task count; the close prices the
week, and the timesheet shows task and top-up lines with the words that explain them.
`now` is Fri 2026-11-20 12:00 UTC, after every session.
"""

from typing import Any

import pytest

from tests.api_helpers import assert_refused, row_counts
from tests.factories import (
    RateFactory,
    UserFactory,
    chicago_contractor,
)
from trainers.models import Role, Worker

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC."""


@pytest.fixture
def tomas(db) -> Worker:
    return chicago_contractor("tomas")


@pytest.fixture
def finance(client_for):
    return client_for(UserFactory(username="finance", role=Role.FINANCE))


@pytest.fixture
def example(tomas, finance, client_for, django_capture_on_commit_callbacks):
    contractor = client_for(tomas.user)
    project = tomas.projects.get()

    class Example:
        def rate(self, hourly_rate: str, **scope: Any) -> None:
            body = {
                "worker": tomas.pk,
                "hourly_rate": hourly_rate,
                "currency": "USD",
                "effective_from": "2026-01-01",
                **scope,
            }
            if body.get("project") == "A":
                body["project"] = project.pk
            response = finance.post(f"{API}/rates/", body, format="json")
            assert response.status_code == 201, response.data

        def floor(self, minimum_hourly: str) -> None:
            response = finance.patch(
                f"{API}/workers/{tomas.pk}/", {"minimum_hourly": minimum_hourly}, format="json"
            )
            assert response.status_code == 200, response.data

        def log(self, started_at: str, ended_at: str, tasks: int = 0, activity: str | None = None) -> None:
            body = {
                "project": project.pk,
                "started_at": started_at,
                "ended_at": ended_at,
                "task_count": tasks,
            }
            if activity:
                body["activity"] = activity
            response = contractor.post(f"{API}/sessions/", body, format="json")
            assert response.status_code == 201, response.data
            assert response.data["activity"] == (activity or "labelling")

        def close(self, period: str) -> dict[str, Any]:
            with django_capture_on_commit_callbacks(execute=True):
                started = finance.post(f"{API}/payroll/close/", {"period": period}, format="json")
            assert started.status_code == 202, started.data
            listed = contractor.get(f"{API}/timesheets/?period={period}")
            assert listed.data["count"] == 1
            return listed.data["results"][0]

    return Example()


def lines_of(sheet: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (line["activity"], line["kind"], line["rate"], line["seconds"], line["units"], line["amount"])
        for line in sheet["lines"]
    ]


def test_example_6_piece_work_is_topped_up_to_the_floor(example):
    # given 0.00/h with 0.35 per task and a 15.00/h floor
    example.rate("0.00", task_rate="0.35")
    example.floor("15.00")
    # when a 2 h labelling session delivers 37 tasks
    example.log("2026-11-03T09:00:00-06:00", "2026-11-03T11:00:00-06:00", tasks=37)
    sheet = example.close("2026-W45")
    # then tasks 12.95, floor 30.00, top-up 17.05
    assert lines_of(sheet) == [
        ("labelling", "regular", "0.00", 7200, 0, "0.00"),
        ("labelling", "tasks", "0.35", 0, 37, "12.95"),
        (None, "top_up", "15.00", 7200, 0, "17.05"),
    ]
    assert (
        sheet["lines"][-1]["description"] == "Fair-pay top-up: floor 15.00/h x 2:00:00 = 30.00; earned 12.95"
    )
    assert (sheet["total"], sheet["effective_hourly"]) == ("30.00", "15.00")
    warning = [problem for problem in sheet["problems"] if problem["code"] == "fair_pay_top_up"]
    assert len(warning) == 1 and not warning[0]["blocking"]


def test_example_7_an_activity_rate_beats_the_project_rate_and_pays_no_tasks(example):
    # given default 15.00/h, project A 18.00/h + 0.10/task, training 12.00/h
    example.rate("15.00")
    example.rate("18.00", project="A", task_rate="0.10")
    example.rate("12.00", activity="training")
    # when a 1:30 training session with 5 tasks and a 1 h labelling session with 40 tasks
    example.log("2026-11-03T09:00:00-06:00", "2026-11-03T10:30:00-06:00", tasks=5, activity="training")
    example.log("2026-11-03T11:00:00-06:00", "2026-11-03T12:00:00-06:00", tasks=40)
    sheet = example.close("2026-W45")
    # then 18.00 for the training, 18.00 + 4.00 for the labelling
    assert lines_of(sheet) == [
        ("labelling", "regular", "18.00", 3600, 0, "18.00"),
        ("labelling", "tasks", "0.10", 0, 40, "4.00"),
        ("training", "regular", "12.00", 5400, 0, "18.00"),
    ]
    assert sheet["total"] == "40.00"


def test_example_8_tasks_come_with_the_last_second_each_week_meets_its_floor(example):
    # given 0.00/h + 0.35/task and a 10.00/h floor
    example.rate("0.00", task_rate="0.35")
    example.floor("10.00")
    # when a session from Sun 23:00 to Mon 01:00 delivers 10 tasks
    example.log("2026-11-15T23:00:00-06:00", "2026-11-16T01:00:00-06:00", tasks=10)
    w46, w47 = example.close("2026-W46"), example.close("2026-W47")
    # then W46 has 1 h and no tasks, W47 1 h and the 10 tasks; each week pays 10.00
    assert [line["kind"] for line in w46["lines"]] == ["regular", "top_up"]
    assert lines_of(w47)[1:] == [
        ("labelling", "tasks", "0.35", 0, 10, "3.50"),
        (None, "top_up", "10.00", 3600, 0, "6.50"),
    ]
    assert (w46["total"], w47["total"]) == ("10.00", "10.00")


def test_sessions_are_filtered_by_activity(example, tomas, client_for):
    example.log("2026-11-03T09:00:00-06:00", "2026-11-03T10:00:00-06:00", activity="guidelines")
    example.log("2026-11-03T11:00:00-06:00", "2026-11-03T12:00:00-06:00")
    listed = client_for(tomas.user).get(f"{API}/sessions/?activity=guidelines")
    assert [session["activity"] for session in listed.data["results"]] == ["guidelines"]


def test_the_timer_starts_on_an_activity(tomas, client_for):
    response = client_for(tomas.user).post(
        f"{API}/sessions/start/",
        {"project": tomas.projects.get().pk, "activity": "calibration"},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["activity"] == "calibration"


# Bad input: a 400 naming the field and the rule, nothing written --------------------------


def refused(response: Any, field: str, words: str) -> None:
    assert_refused(response, 400, field)
    assert words in " ".join(map(str, response.json()[field])), response.json()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"activity": "coffee"}, "activity", "is not an activity"),
        ({"activity": "LABELLING"}, "activity", "is not an activity"),
        ({"task_count": -1}, "task_count", "greater than or equal to 0"),
    ],
)
def test_a_bad_session_is_refused(tomas, client_for, body, field, words):
    before = row_counts()
    session = {"project": tomas.projects.get().pk, "started_at": "2026-11-03T09:00:00-06:00"}
    session["ended_at"] = "2026-11-03T10:00:00-06:00"
    refused(client_for(tomas.user).post(f"{API}/sessions/", {**session, **body}, format="json"), field, words)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"task_rate": "-0.01"}, "task_rate", "greater than or equal to 0"),
        ({"task_rate": "0.12345"}, "task_rate", "4 decimal places"),
        ({"hourly_rate": "-1.00"}, "hourly_rate", "greater than or equal to 0"),
        ({"activity": "labelling"}, "activity", "Only a non-production activity"),
        ({"activity": "training", "project": "A"}, "activity", "not both"),
        ({"activity": "nap"}, "activity", "not a valid choice"),
    ],
)
def test_a_bad_rate_is_refused(tomas, finance, body, field, words):
    RateFactory(worker=tomas)  # the worker's default, so the scope checks are what refuses
    before = row_counts()
    rate = {"worker": tomas.pk, "hourly_rate": "12.00", "currency": "USD", "effective_from": "2026-02-01"}
    if body.get("project") == "A":
        body = {**body, "project": tomas.projects.get().pk}
    refused(finance.post(f"{API}/rates/", {**rate, **body}, format="json"), field, words)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("floor", "words"), [("-0.01", "greater than or equal to 0"), ("15.001", "2 decimal places")]
)
def test_a_bad_floor_is_refused(tomas, finance, floor, words):
    before = row_counts()
    response = finance.patch(f"{API}/workers/{tomas.pk}/", {"minimum_hourly": floor}, format="json")
    refused(response, "minimum_hourly", words)
    assert row_counts() == before
    tomas.refresh_from_db()
    assert tomas.minimum_hourly is None


def test_the_pay_report_counts_tasks_and_top_ups_and_time_once(example, finance):
    # given example 6, closed
    example.rate("0.00", task_rate="0.35")
    example.floor("15.00")
    example.log("2026-11-03T09:00:00-06:00", "2026-11-03T11:00:00-06:00", tasks=37)
    example.close("2026-W45")
    report = f"{API}/reports/pay/?period_from=2026-W45&period_to=2026-W45&group_by="
    # when
    by_worker = finance.get(report + "worker").json()["results"]
    by_project = finance.get(report + "project").json()["results"]
    # then the top-up line's repeat of the week's time is not counted twice
    figures = ("seconds", "tasks", "top_up", "amount", "effective_hourly")
    assert [tuple(row[name] for name in figures) for row in by_worker] == [
        (7200, 37, "17.05", "30.00", "15.00")
    ]
    # and by project the top-ups are a row of their own, with no project
    assert [(row["project"], row["seconds"], row["tasks"], row["amount"]) for row in by_project] == [
        ({"id": by_project[0]["project"]["id"], "name": "Project A"}, 7200, 37, "12.95"),
        ({"id": None, "name": "Fair-pay top-ups (no project)"}, 0, 0, "17.05"),
    ]
