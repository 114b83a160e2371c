"""reports/pay/: who may run it, what each role sees, the rows' shape, and every bad input.

Figures: the table in tests/payroll/test_selectors_reports.py (team A in USD, team B in EUR).
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest

from payroll.models import TimesheetStatus
from payroll.services.timesheets import timesheet_get_or_create
from tests.api_helpers import assert_refused
from tests.factories import RateFactory, SessionFactory, WorkerFactory
from tests.payroll.test_selectors_reports import W45, W46, build_figures

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/pay/"
GROUPINGS = ("worker", "project", "team", "period")
WORKER_NAMES = {
    "contractor_a": "Worker contractor_a",
    "contractor_a2": "Worker contractor_a2",
    "contractor_b": "Worker contractor_b",
}


@pytest.fixture
def figures(world, frozen_now):
    return build_figures(world)


@pytest.fixture
def get(client_for, figures):
    def run(caller: str, **params: str) -> Any:
        query = {"period_from": W45, "period_to": W46, "group_by": "worker", **params}
        return client_for(figures.user(caller)).get(URL, query)

    return run


@pytest.mark.parametrize(
    ("caller", "expected", "workers"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 403, None),
        ("contractor_b", 403, None),
        ("manager_a", 200, ["contractor_a", "contractor_a2"]),
        ("manager_b", 200, ["contractor_b"]),
        ("finance", 200, ["contractor_a", "contractor_a2", "contractor_b"]),
        ("admin", 200, ["contractor_a", "contractor_a2", "contractor_b"]),
    ],
)
def test_who_may_run_the_report_and_whose_rows_they_get(get, caller, expected, workers):
    # when
    response = get(caller)
    # then
    assert response.status_code == expected, response.content
    if workers is not None:
        rows = response.json()["results"]
        assert [row["worker"]["full_name"] for row in rows] == [WORKER_NAMES[w] for w in workers]


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_another_manager_never_gets_team_a_rows(get, group_by):
    # when manager B asks, in any grouping
    rows = get("manager_b", group_by=group_by).json()["results"]
    # then only team B's EUR figures: none of team A's USD time or its adjustment
    assert rows
    assert {row["currency"] for row in rows} == {"EUR"}
    assert sum(row["seconds"] for row in rows) == 7200


def test_rows_by_worker_are_decimal_strings_with_the_worker_named(get, figures):
    # when
    rows = get("finance").json()["results"]
    # then
    assert rows[0] == {
        "worker": {"id": figures.worker_a.pk, "full_name": "Worker contractor_a"},
        "currency": "USD",
        "seconds": 12600,
        "duration": "3:30:00",
        "hours": "3.50",
        "tasks": 0,
        "top_up": "0.00",
        "adjustments": "5.00",
        "amount": "57.50",
        "effective_hourly": "15.00",
    }


def test_rows_by_project_team_and_period_name_their_group(get, figures):
    # when
    by_project = get("finance", group_by="project").json()["results"]
    by_team = get("finance", group_by="team").json()["results"]
    by_period = get("finance", group_by="period").json()["results"]
    # then
    assert [(row["project"], row["currency"], row["amount"]) for row in by_project] == [
        ({"id": figures.project_a.pk, "name": "Project A"}, "USD", "70.00"),
        ({"id": figures.project_b.pk, "name": "Project B"}, "EUR", "20.00"),
        ({"id": figures.project_b.pk, "name": "Project B"}, "USD", "22.50"),
    ]
    assert [(row["team"], row["hours"], row["amount"]) for row in by_team] == [
        ({"id": figures.team_a.pk, "name": "Team A"}, "5.50", "97.50"),
        ({"id": figures.team_b.pk, "name": "Team B"}, "2.00", "20.00"),
    ]
    assert [(row["period"], row["currency"], row["amount"]) for row in by_period] == [
        (W45, "EUR", "20.00"),
        (W45, "USD", "70.00"),
        (W46, "USD", "27.50"),
    ]


def test_a_worker_without_a_team_shows_as_team_null(get, figures):
    # given
    loner = WorkerFactory(user__username="loner", team=None)
    RateFactory(worker=loner)
    SessionFactory(worker=loner, project=figures.project_a)
    timesheet_get_or_create(worker=loner, period=W45)
    # when
    rows = get("finance", group_by="team").json()["results"]
    # then
    assert rows[-1]["team"] is None
    assert rows[-1]["amount"] == "30.00"


def test_the_status_filter(get):
    # when
    rows = get("finance", status="approved").json()["results"]
    # then only contractor A's approved W45
    assert [(row["worker"]["full_name"], row["amount"]) for row in rows] == [("Worker contractor_a", "30.00")]


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_the_status_filter_shares_out_the_whole_report_in_every_grouping(get, group_by):
    # when the report is run once per status, and once without a filter
    whole = get("finance", group_by=group_by).json()["results"]
    per_status = {
        status: get("finance", group_by=group_by, status=status).json()["results"]
        for status in TimesheetStatus.values
    }
    # then approved is contractor A's W45 alone, and the statuses add up to the whole
    assert sum(Decimal(row["amount"]) for row in per_status["approved"]) == Decimal("30.00")
    assert _amounts(row for rows in per_status.values() for row in rows) == _amounts(whole)


def _amounts(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """(seconds, amount) summed per (group, currency): a group is its id and name, or a period."""
    seconds: dict[tuple[str, str], int] = defaultdict(int)
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        key = (json.dumps(next(row[name] for name in GROUPINGS if name in row)), row["currency"])
        seconds[key] += row["seconds"]
        amounts[key] += Decimal(row["amount"])
    return {key: (seconds[key], amounts[key]) for key in amounts}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period_from": ""}, "period_from"),
        ({"period_from": "2026-45"}, "period_from"),
        ({"period_from": "\uff12\uff10\uff12\uff16-W45"}, "period_from"),  # full-width digits
        ({"period_from": "2026-W45" * 50}, "period_from"),
        ({"period_to": "2025-W53"}, "period_to"),  # 2025 has 52 weeks
        ({"period_to": "1999-W01"}, "period_to"),
        ({"period_from": W46, "period_to": W45}, "period_to"),
        ({"period_from": "2024-W01", "period_to": "2026-W03"}, "period_to"),  # 107 weeks
        ({"group_by": ""}, "group_by"),
        ({"group_by": "client"}, "group_by"),
        ({"status": "paid"}, "status"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(get, params, field):
    # when
    response = get("finance", **params)
    # then
    assert_refused(response, 400, field)


def test_a_missing_parameter_is_named(client_for, figures):
    # when
    response = client_for(figures.finance).get(URL, {"group_by": "worker"})
    # then
    assert_refused(response, 400, "period_from")
    assert "period_to" in response.json()


def test_the_longest_range_is_accepted(get):
    # 2024-W01 .. 2026-W02: 106 weeks
    assert get("finance", period_from="2024-W01", period_to="2026-W02").status_code == 200


def test_the_report_by_worker_is_paged_by_worker(get):
    # when
    first = get("finance", page_size="2").json()
    second = get("finance", page_size="2", page="2").json()
    # then the three workers, by name, two a page
    assert first["count"] == 3
    assert [row["worker"]["full_name"] for row in first["results"] + second["results"]] == [
        WORKER_NAMES[worker] for worker in ("contractor_a", "contractor_a2", "contractor_b")
    ]
    assert first["next"] is not None
    assert second["next"] is None


@pytest.mark.parametrize(("params", "field"), [({"page": "0"}, "page"), ({"page_size": "501"}, "page_size")])
def test_a_bad_page_is_a_400_naming_it(get, params, field):
    assert_refused(get("finance", **params), 400, field)
