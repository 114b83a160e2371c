"""The pay report: figures a reader can check by hand, currencies never summed, role scope.

The world (tests/conftest.py) at Fri 2026-11-20 12:00 UTC, with the `figures` below:

| worker        | team | rate     | W45: 2 h on its project    | W46                            |
|---------------|------|----------|----------------------------|--------------------------------|
| contractor_a  | A    | USD 15/h | Project A 30.00, approved  | Project B 1:30 = 22.50, open   |
| contractor_a2 | A    | USD 20/h | Project A 40.00, open      | -                              |
| contractor_b  | B    | EUR 10/h | Project B 20.00, submitted | -                              |

and an adjustment of +5.00 USD for contractor_a that lands on W46.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import Forbidden, InvalidInput
from payroll.models import Timesheet, TimesheetLine
from payroll.selectors.reports import MAX_REPORT_WEEKS, pay_report, report_params_errors
from payroll.services.adjustments import adjustment_create
from payroll.services.rates import rate_create
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory, SessionFactory, WorkerFactory

pytestmark = pytest.mark.django_db

W45, W46 = "2026-W45", "2026-W46"


@pytest.fixture
def figures(world, frozen_now):
    return build_figures(world)


def build_figures(world):
    """The table in the module docstring (the API and export tests use it too)."""
    world.worker_b.currency = "EUR"
    world.worker_b.save()
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("15.00"))
    RateFactory(worker=world.worker_a2, hourly_rate=Decimal("20.00"))
    RateFactory(worker=world.worker_b, hourly_rate=Decimal("10.00"))
    world.project_b.workers.add(world.worker_a)
    SessionFactory(
        worker=world.worker_a,
        project=world.project_b,
        started_at=datetime(2026, 11, 10, 15, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 10, 16, 30, tzinfo=UTC),
    )
    a45, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    timesheet_transition(actor=world.contractor_a, timesheet=a45, action="submit")
    timesheet_transition(actor=world.manager_a, timesheet=a45, action="approve")
    b45, _ = timesheet_get_or_create(worker=world.worker_b, period=W45)
    timesheet_transition(actor=world.contractor_b, timesheet=b45, action="submit")
    timesheet_get_or_create(worker=world.worker_a2, period=W45)
    timesheet_get_or_create(worker=world.worker_a, period=W46)
    adjustment_create(
        actor=world.finance,
        worker=world.worker_a,
        amount=Decimal("5.00"),
        currency="USD",
        reason="Bonus for batch 7",
        now=datetime(2026, 11, 10, 18, 0, tzinfo=UTC),  # lands on W46, still open
    )
    return world


def raise_rate(finance, worker, hourly_rate):
    """A new default rate from Sun 1 Nov (before W45), added as finance adds one."""
    fields = {"worker": worker, "hourly_rate": Decimal(hourly_rate), "currency": worker.currency}
    rate_create(actor=finance, fields={**fields, "effective_from": date(2026, 11, 1)})


def table(user, group_by, period_from=W45, period_to=W46, status=None):
    report = pay_report(
        user=user, period_from=period_from, period_to=period_to, group_by=group_by, status=status
    )
    return [
        (row.key, row.name, row.currency, row.seconds, f"{row.hours}", f"{row.amount}", f"{row.adjustments}")
        for row in report.rows
    ]


def test_by_worker_each_worker_with_their_currency_and_adjustments(figures):
    # when
    rows = table(figures.finance, "worker")
    # then a: 2 h + 1:30 = 3.50 h; 30.00 + 22.50 + 5.00 = 57.50
    w = figures
    assert rows == [
        (w.worker_a.pk, "Worker contractor_a", "USD", 12600, "3.50", "57.50", "5.00"),
        (w.worker_a2.pk, "Worker contractor_a2", "USD", 7200, "2.00", "40.00", "0.00"),
        (w.worker_b.pk, "Worker contractor_b", "EUR", 7200, "2.00", "20.00", "0.00"),
    ]


def test_by_project_two_currencies_are_two_rows_and_adjustments_are_left_out(figures):
    # when
    rows = table(figures.admin, "project")
    # then Project B has a EUR row and a USD row, never one sum; no adjustment on any project
    w = figures
    assert rows == [
        (w.project_a.pk, "Project A", "USD", 14400, "4.00", "70.00", "0.00"),
        (w.project_b.pk, "Project B", "EUR", 7200, "2.00", "20.00", "0.00"),
        (w.project_b.pk, "Project B", "USD", 5400, "1.50", "22.50", "0.00"),
    ]


def test_by_team_sums_the_teams_workers_with_adjustments(figures):
    # when
    rows = table(figures.finance, "team")
    # then Team A: 30.00 + 40.00 + 22.50 + 5.00
    assert rows == [
        (figures.team_a.pk, "Team A", "USD", 19800, "5.50", "97.50", "5.00"),
        (figures.team_b.pk, "Team B", "EUR", 7200, "2.00", "20.00", "0.00"),
    ]


def test_by_period_one_row_per_week_and_currency(figures):
    # when
    rows = table(figures.finance, "period")
    # then
    assert rows == [
        (W45, W45, "EUR", 7200, "2.00", "20.00", "0.00"),
        (W45, W45, "USD", 14400, "4.00", "70.00", "0.00"),
        (W46, W46, "USD", 5400, "1.50", "27.50", "5.00"),
    ]


def test_a_worker_without_a_team_is_its_own_group(figures):
    # given a teamless worker's open W45 with 2 h at 12.00
    loner = WorkerFactory(user__username="loner", team=None)
    RateFactory(worker=loner, hourly_rate=Decimal("12.00"))
    SessionFactory(worker=loner, project=figures.project_a)
    timesheet_get_or_create(worker=loner, period=W45)
    # when
    rows = table(figures.finance, "team", W45, W45)
    # then it comes last, with no id
    assert rows[-1] == (None, "", "USD", 7200, "2.00", "24.00", "0.00")


def test_the_range_is_inclusive_and_nothing_outside_it_counts(figures):
    # when only W46
    rows = table(figures.finance, "worker", W46, W46)
    # then
    assert rows == [(figures.worker_a.pk, "Worker contractor_a", "USD", 5400, "1.50", "27.50", "5.00")]


def test_a_manager_sees_only_their_teams_workers_even_on_a_shared_project(figures):
    # when manager A groups by project: Project B is shared with team B's worker
    rows = table(figures.manager_a, "project")
    # then only team A's time on it (LESSONS: Kimai #2478), and team B's EUR never shows
    assert [(row[1], row[2], row[5]) for row in rows] == [
        ("Project A", "USD", "70.00"),
        ("Project B", "USD", "22.50"),
    ]
    assert [row[1] for row in table(figures.manager_a, "worker")] == [
        "Worker contractor_a",
        "Worker contractor_a2",
    ]
    assert table(figures.manager_b, "team") == [
        (figures.team_b.pk, "Team B", "EUR", 7200, "2.00", "20.00", "0.00")
    ]


def test_a_manager_of_no_team_gets_an_empty_report(figures):
    # given manager B manages nothing any more
    figures.team_b.managers.clear()
    # then
    assert table(figures.manager_b, "worker") == []


def test_contractors_may_not_run_reports(figures):
    with pytest.raises(Forbidden):
        pay_report(user=figures.contractor_a, period_from=W45, period_to=W45, group_by="worker")


def test_frozen_timesheets_keep_their_stored_figures_and_open_ones_follow_a_new_rate(figures):
    # given finance raised a's rate from W45 on
    raise_rate(figures.finance, figures.worker_a, "99.00")
    # when
    rows = table(figures.finance, "period", status=None)
    # then approved W45 keeps 30.00 (+ 40.00 of a2, whose rate did not change);
    # open W46 was priced again when the rate was added: 1:30 at 99.00 = 148.50 (+ 5.00)
    usd = {row[0]: row[5] for row in rows if row[2] == "USD"}
    assert usd == {W45: "70.00", W46: "153.50"}
    assert TimesheetLine.objects.get(timesheet__period=W46).amount == Decimal("148.50")


def test_the_status_filter_counts_only_timesheets_in_that_status(figures):
    # when
    open_rows = table(figures.finance, "worker", status="open")
    approved_rows = table(figures.finance, "worker", status="approved")
    # then open: a2's W45 and a's W46 with its adjustment; approved: a's W45
    assert [(row[1], row[5], row[6]) for row in open_rows] == [
        ("Worker contractor_a", "27.50", "5.00"),
        ("Worker contractor_a2", "40.00", "0.00"),
    ]
    assert [(row[1], row[5]) for row in approved_rows] == [("Worker contractor_a", "30.00")]


def test_a_rejected_timesheet_is_priced_live(figures):
    # given b's submitted W45 is rejected, then b's rate goes up
    b45 = Timesheet.objects.get(worker=figures.worker_b, period=W45)
    timesheet_transition(actor=figures.manager_b, timesheet=b45, action="reject", note="Wrong project")
    raise_rate(figures.finance, figures.worker_b, "11.00")
    # then 2 h at 11.00
    assert table(figures.finance, "worker", status="rejected") == [
        (figures.worker_b.pk, "Worker contractor_b", "EUR", 7200, "2.00", "22.00", "0.00")
    ]


def test_an_adjustment_counts_on_the_week_it_lands_on_and_only_in_its_range(figures):
    # given an adjustment for a2 that lands on W47, a week without time
    adjustment_create(
        actor=figures.finance, worker=figures.worker_a2, amount=Decimal("-3.00"), currency="USD", reason="Fix"
    )
    # then W47 has its timesheet at once: W45-W47 for a2 is 40.00 - 3.00; W45-W46 leaves it out
    rows = table(figures.finance, "worker", W45, "2026-W47")
    assert [row[5] for row in rows if row[0] == figures.worker_a2.pk] == ["37.00"]
    rows = table(figures.finance, "worker", W45, W46)
    assert [row[5] for row in rows if row[0] == figures.worker_a2.pk] == ["40.00"]


def test_the_number_of_queries_does_not_grow_with_the_number_of_workers(figures):
    # given
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            pay_report(user=figures.finance, period_from=W45, period_to=W46, group_by="team")
        return len(queries)

    before = count()
    for n in range(15):
        worker = WorkerFactory(user__username=f"extra{n}", team=figures.team_a)
        RateFactory(worker=worker)
        SessionFactory(worker=worker, project=figures.project_a)
        timesheet_get_or_create(worker=worker, period=W45)
    # then
    assert count() == before


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period_from": "2026-45"}, "period_from"),
        ({"period_to": "2026-W54"}, "period_to"),
        ({"period_from": "2026-W46", "period_to": "2026-W45"}, "period_to"),
        ({"period_from": "2024-W01", "period_to": "2026-W03"}, "period_to"),  # 107 weeks
        ({"group_by": "client"}, "group_by"),
        ({"status": "paid"}, "status"),
    ],
)
def test_bad_parameters_are_named(params, field):
    # given
    good = {"period_from": W45, "period_to": W46, "group_by": "worker"}
    # then
    assert list(report_params_errors({**good, **params})) == [field]


def test_the_longest_range_is_106_weeks():
    # 2024-W01 .. 2026-W02 is 106 weeks (2024 and 2025 have 52 each)
    assert MAX_REPORT_WEEKS == 106
    longest = {"period_from": "2024-W01", "period_to": "2026-W02", "group_by": "team"}
    assert report_params_errors(longest) == {}


def test_the_selector_refuses_bad_parameters_itself(figures):
    with pytest.raises(InvalidInput) as refused:
        pay_report(user=figures.finance, period_from=W46, period_to=W45, group_by="worker")
    assert list(refused.value.errors) == ["period_to"]
