"""The five worked examples of PAY_RULES, end to end through the API.

A contractor in America/Chicago logs the sessions with explicit offsets, finance sets
rates (and, for overtime, the contract terms), closes the period, and the timesheets
show the figures of the specification. `now` is Fri 2026-11-20, after every session.
"""

from typing import Any

import pytest

from tests.factories import UserFactory, chicago_contractor
from trainers.models import Role, Worker

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC."""


@pytest.fixture
def carol(db) -> Worker:
    return chicago_contractor("carol")


@pytest.fixture
def example(carol, client_for, django_capture_on_commit_callbacks):
    """Drive one example: rates by finance, sessions by the contractor, the close, the read."""
    finance = client_for(UserFactory(username="finance", role=Role.FINANCE))
    contractor = client_for(carol.user)
    project = carol.projects.get()

    class Example:
        def rate(self, hourly_rate: str, effective_from: str) -> None:
            body = {
                "worker": carol.pk,
                "project": None,
                "hourly_rate": hourly_rate,
                "currency": "USD",
                "effective_from": effective_from,
            }
            response = finance.post(f"{API}/rates/", body, format="json")
            assert response.status_code == 201, response.data

        def contract(self, **terms: str) -> None:
            response = finance.patch(f"{API}/workers/{carol.pk}/", terms, format="json")
            assert response.status_code == 200, response.data

        def log(self, started_at: str, ended_at: str) -> None:
            body = {"project": project.pk, "started_at": started_at, "ended_at": ended_at}
            response = contractor.post(f"{API}/sessions/", body, format="json")
            assert response.status_code == 201, response.data

        def close(self, period: str) -> dict[str, Any]:
            with django_capture_on_commit_callbacks(execute=True):
                started = finance.post(f"{API}/payroll/close/", {"period": period}, format="json")
            assert started.status_code == 202, started.data
            job = finance.get(f"{API}/jobs/{started.data['job']}/")
            assert job.data["status"] == "done", job.data
            listed = contractor.get(f"{API}/timesheets/?period={period}")
            assert listed.data["count"] == 1
            sheet = listed.data["results"][0]
            assert [p for p in sheet["problems"] if p["blocking"]] == []
            return sheet

    return Example()


def lines_of(sheet: dict[str, Any]) -> list[tuple[str, str, str, int, str, str, str]]:
    return [
        (
            line["kind"],
            line["hourly_rate"],
            line["multiplier"],
            line["seconds"],
            line["duration"],
            line["hours"],
            line["amount"],
        )
        for line in sheet["lines"]
    ]


def test_example_1_rounding_happens_once_per_line(example):
    # given three sessions at 15.00/h: 1:20:00, 0:40:10 and 2:05:00
    example.rate("15.00", "2026-01-01")
    example.log("2026-11-03T09:00:00-06:00", "2026-11-03T10:20:00-06:00")
    example.log("2026-11-03T11:00:00-06:00", "2026-11-03T11:40:10-06:00")
    example.log("2026-11-04T13:00:00-06:00", "2026-11-04T15:05:00-06:00")
    # when
    sheet = example.close("2026-W45")
    # then 14,710 s x 15 / 3600 = 61.2916... -> 61.29
    assert lines_of(sheet) == [("regular", "15.00", "1.00", 14710, "4:05:10", "4.09", "61.29")]
    assert (sheet["total"], sheet["currency"]) == ("61.29", "USD")


def test_example_2_a_night_across_the_dst_change_pays_real_time(example):
    # given Sat 2026-10-31 23:00 CDT to Sun 2026-11-01 03:00 CST
    example.rate("15.00", "2026-01-01")
    example.log("2026-10-31T23:00:00-05:00", "2026-11-01T03:00:00-06:00")
    # when
    sheet = example.close("2026-W44")
    # then 5 h of real time
    assert lines_of(sheet) == [("regular", "15.00", "1.00", 18000, "5:00:00", "5.00", "75.00")]
    assert sheet["total"] == "75.00"


def test_example_3_a_session_across_the_period_boundary_is_split(example):
    # given Sun 2026-11-01 22:00 to Mon 2026-11-02 02:00 local
    example.rate("15.00", "2026-01-01")
    example.log("2026-11-01T22:00:00-06:00", "2026-11-02T02:00:00-06:00")
    # when
    w44 = example.close("2026-W44")
    w45 = example.close("2026-W45")
    # then 2 h in each period
    assert lines_of(w44) == [("regular", "15.00", "1.00", 7200, "2:00:00", "2.00", "30.00")]
    assert lines_of(w45) == [("regular", "15.00", "1.00", 7200, "2:00:00", "2.00", "30.00")]
    assert (w44["total"], w45["total"]) == ("30.00", "30.00")
    assert w44["period_end"] == w45["period_start"] == "2026-11-02T06:00:00Z"


def test_example_4_a_rate_change_splits_the_session_into_two_lines(example):
    # given 15.00 from 2026-01-01 and 16.50 from 2026-11-04
    example.rate("15.00", "2026-01-01")
    example.rate("16.50", "2026-11-04")
    example.log("2026-11-03T23:30:00-06:00", "2026-11-04T00:45:00-06:00")
    # when
    sheet = example.close("2026-W45")
    # then 0:30 at 15.00 and 0:45 at 16.50 (12.375 rounds half-up)
    assert lines_of(sheet) == [
        ("regular", "15.00", "1.00", 1800, "0:30:00", "0.50", "7.50"),
        ("regular", "16.50", "1.00", 2700, "0:45:00", "0.75", "12.38"),
    ]
    assert sheet["total"] == "19.88"


def test_example_5_overtime_past_forty_hours(example):
    # given a contract with overtime after 40 h at 1.5, and five 9 h days
    example.rate("15.00", "2026-01-01")
    example.contract(overtime_after_hours="40", overtime_multiplier="1.5")
    for day in range(2, 7):
        example.log(f"2026-11-0{day}T08:00:00-06:00", f"2026-11-0{day}T17:00:00-06:00")
    # when
    sheet = example.close("2026-W45")
    # then regular 40 h = 600.00 and overtime 5 h at 22.50 = 112.50
    assert sorted(lines_of(sheet)) == [
        ("overtime", "15.00", "1.50", 18000, "5:00:00", "5.00", "112.50"),
        ("regular", "15.00", "1.00", 144000, "40:00:00", "40.00", "600.00"),
    ]
    assert sheet["total"] == "712.50"


def test_the_stored_figures_match_after_submit(example, carol, client_for):
    # given example 4, closed
    example.rate("15.00", "2026-01-01")
    example.rate("16.50", "2026-11-04")
    example.log("2026-11-03T23:30:00-06:00", "2026-11-04T00:45:00-06:00")
    live = example.close("2026-W45")
    # when the contractor submits, the lines are copied onto the timesheet
    submitted = client_for(carol.user).post(f"{API}/timesheets/{live['id']}/submit/", {}, format="json")
    # then the stored figures are the live ones
    assert submitted.status_code == 200
    assert (lines_of(submitted.data), submitted.data["total"]) == (lines_of(live), "19.88")
