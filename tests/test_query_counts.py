"""Query counts of every list endpoint and list-like page do not grow with the rows shown.

Each case is measured as the role that sees the most rows, once with a small data set and
once after more workers (with teams, projects, rates, sessions, timesheets in every state,
invoices and adjustments) and more of the contractor's own sessions are added. A case
that issues queries per row is marked xfail (strict), naming the code that issues them.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payroll import tasks
from payroll.models import Job, Timesheet
from payroll.services.adjustments import adjustment_create
from payroll.services.exports import export_start
from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import ProjectFactory, RateFactory, SessionFactory, TeamFactory, WorkerFactory

pytestmark = pytest.mark.django_db

W45, W46, W47 = "2026-W45", "2026-W46", "2026-W47"
SMALL, LARGE = 3, 15
REPORT_RANGE = f"period_from={W45}&period_to={W47}"
# Spread data: the new workers' open timesheets are in 2026-W20, W21, ... (see Data).
SPREAD_FIRST_WEEK = 20
SPREAD_RANGE = f"period_from=2026-W{SPREAD_FIRST_WEEK}&period_to={W47}"
# The contractor's own W47 sessions start here (a Monday in Chicago), one every two hours.
OWN_WEEK_START = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


class Data:
    """Grows the world: `add(n)` adds n of everything a list shows.

    Spread: each new worker instead has one open timesheet in a week of its own
    (2026-W20, W21, ...), as a page of long-unsubmitted weeks would show.
    """

    def __init__(self, world: Any, spread: bool = False) -> None:
        self.world = world
        self.spread = spread
        self.added = 0
        self.own_timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W47)
        self.job = Job.objects.create(
            kind="close_period", params={"period": W45}, params_key="query-counts", created_by=world.finance
        )

    def add(self, count: int) -> None:
        for _ in range(count):
            self._add_one(self.added)
            self.added += 1

    def _add_one(self, n: int) -> None:
        if self.spread:
            self._add_spread(n)
            return
        world = self.world
        team = TeamFactory(managers=[world.manager_a])
        worker = WorkerFactory(team=team)
        project = ProjectFactory(workers=[worker])
        world.project_a.workers.add(worker)
        RateFactory(worker=worker)
        RateFactory(worker=worker, project=project, hourly_rate=Decimal("18.00"))
        for day in (2, 9, 17):  # one session in each of W45, W46, W47
            start = datetime(2026, 11, day, 15, 0, tzinfo=UTC)
            SessionFactory(
                worker=worker, project=project, started_at=start, ended_at=start + timedelta(hours=2)
            )
            SessionFactory(
                worker=worker,
                project=world.project_a,
                started_at=start + timedelta(hours=3),
                ended_at=start + timedelta(hours=4),
            )
        w45, _ = timesheet_get_or_create(worker=worker, period=W45)
        timesheet_transition(actor=worker.user, timesheet=w45, action="submit")
        timesheet_transition(actor=world.manager_a, timesheet=w45, action="approve")
        invoice_issue(timesheet=Timesheet.objects.get(pk=w45.pk), actor=world.finance)
        w46, _ = timesheet_get_or_create(worker=worker, period=W46)
        timesheet_transition(actor=worker.user, timesheet=w46, action="submit")
        timesheet_get_or_create(worker=worker, period=W47)
        adjustment_create(
            actor=world.finance, worker=worker, amount=Decimal("2.50"), currency="USD", reason=f"Bonus {n}"
        )
        start = OWN_WEEK_START + timedelta(hours=2 * n)
        SessionFactory(
            worker=world.worker_a,
            project=world.project_a,
            started_at=start,
            ended_at=start + timedelta(hours=1),
        )

    def _add_spread(self, n: int) -> None:
        worker = WorkerFactory(team=TeamFactory(managers=[self.world.manager_a]))
        RateFactory(worker=worker)
        week = SPREAD_FIRST_WEEK + n
        start = datetime.combine(date.fromisocalendar(2026, week, 2), time(15), tzinfo=UTC)
        SessionFactory(
            worker=worker, project=self.world.project_a, started_at=start, ended_at=start + timedelta(hours=2)
        )
        self.world.project_a.workers.add(worker)
        timesheet_get_or_create(worker=worker, period=f"2026-W{week}")


Measure = Callable[[], int]  # runs the request (or job) once; returns the size of its output


@dataclass(frozen=True)
class Case:
    name: str
    prepare: Callable[[Data, Any], Measure]  # (data, client_for) -> the thing to measure
    output_grows: bool = True
    spread: bool = False  # new rows each in a period of their own (see Data)


def api(role: str, url: Callable[[Data], str]) -> Callable[[Data, Any], Measure]:
    def prepare(data: Data, client_for: Any) -> Measure:
        client = client_for(getattr(data.world, role))
        address = url(data)

        def run() -> int:
            response = client.get(address)
            assert response.status_code == 200, (address, response.status_code, response.content[:400])
            return len(response.content)

        return run

    return prepare


def web(role: str, url: Callable[[Data], str]) -> Callable[[Data, Any], Measure]:
    def prepare(data: Data, client_for: Any) -> Measure:
        client = Client()
        client.force_login(getattr(data.world, role))
        address = url(data)

        def run() -> int:
            response = client.get(address)
            assert response.status_code == 200, (address, response.status_code, response.content[:400])
            return len(response.content)

        return run

    return prepare


def csv_export(period_from: str) -> Callable[[Data, Any], Measure]:
    """The pay report's CSV export, run through its job (Celery runs eagerly in the tests)."""

    def prepare(data: Data, client_for: Any) -> Measure:
        params = {"period_from": period_from, "period_to": W47, "group_by": "worker"}
        job, _ = export_start(actor=data.world.finance, report="pay", params=params, file_format="csv")

        def run() -> int:
            tasks.export_report.delay(job.pk)
            job.refresh_from_db()
            assert job.status == "done", (job.status, job.error)
            return int(job.result["rows"])

        return run

    return prepare


def fixed(url: str) -> Callable[[Data], str]:
    return lambda data: url


def named(name: str, query: str = "") -> Callable[[Data], str]:
    return lambda data: reverse(name) + (f"?{query}" if query else "")


def param(case: Case, grows: str = "") -> Any:
    """A case; `grows` says which code issues queries per row (then it is a strict xfail)."""
    marks = [pytest.mark.xfail(strict=True, reason=grows)] if grows else []
    return pytest.param(case, id=case.name, marks=marks)


def report(by: str) -> Case:
    return Case(
        f"api-report-{by}", api("finance", fixed(f"/api/v1/reports/pay/?{REPORT_RANGE}&group_by={by}"))
    )


CASES = [
    # API (as the role that sees the most rows)
    param(Case("api-sessions", api("finance", fixed("/api/v1/sessions/")))),
    param(Case("api-workers", api("finance", fixed("/api/v1/workers/")))),
    param(Case("api-projects", api("finance", fixed("/api/v1/projects/")))),
    param(Case("api-teams", api("finance", fixed("/api/v1/teams/")))),
    param(Case("api-users", api("admin", fixed("/api/v1/users/")))),
    param(Case("api-rates", api("finance", fixed("/api/v1/rates/")))),
    param(Case("api-timesheets", api("finance", fixed("/api/v1/timesheets/")))),
    param(Case("api-adjustments", api("finance", fixed("/api/v1/adjustments/")))),
    param(Case("api-invoices", api("finance", fixed("/api/v1/invoices/")))),
    *(param(report(by)) for by in ("worker", "project", "team", "period")),
    param(Case("api-job", api("finance", lambda data: f"/api/v1/jobs/{data.job.pk}/"), output_grows=False)),
    param(Case("api-invoice-payout", api("finance", fixed(f"/api/v1/invoices/payout/?period={W45}")))),
    param(Case("job-csv-export", csv_export(W45))),
    # Web pages
    param(Case("web-contractor-home", web("contractor_a", named("trainers:home")))),
    param(Case("web-contractor-week", web("contractor_a", named("trainers:week-sessions")))),
    param(Case("web-contractor-sessions", web("contractor_a", named("trainers:sessions", f"period={W47}")))),
    param(Case("web-approvals", web("admin", named("payroll:approvals")))),
    param(Case("web-timesheets", web("finance", named("payroll:timesheets")))),
    param(
        Case(
            "web-timesheet-detail",
            web("finance", lambda data: reverse("payroll:timesheet", args=[data.own_timesheet.pk])),
        )
    ),
    param(Case("web-invoices", web("finance", named("payroll:invoices")))),
    param(Case("web-finance-overview", web("finance", named("payroll:overview", f"period={W45}")))),
    param(Case("web-rates", web("finance", named("payroll:rates")))),
    param(Case("web-adjustments", web("finance", named("payroll:adjustments")))),
    param(Case("web-reports", web("finance", named("payroll:reports", REPORT_RANGE)))),
    # The new open timesheets each in a week of their own (a page of long-unsubmitted weeks):
    # their lines are stored as time is logged, so the weeks in range cost no query each
    param(Case("api-timesheets-spread", api("finance", fixed("/api/v1/timesheets/")), spread=True)),
    param(Case("web-timesheets-spread", web("finance", named("payroll:timesheets")), spread=True)),
    param(
        Case(
            "api-report-worker-spread",
            api("finance", fixed(f"/api/v1/reports/pay/?{SPREAD_RANGE}&group_by=worker")),
            spread=True,
        )
    ),
    param(Case("web-reports-spread", web("finance", named("payroll:reports", SPREAD_RANGE)), spread=True)),
    param(Case("job-csv-export-spread", csv_export(f"2026-W{SPREAD_FIRST_WEEK}"), spread=True)),
]


def _shape(sql: str) -> str:
    """A statement with its literals blanked, so the same query for another row compares equal."""
    out, quoted = [], False
    for char in sql:
        if char == "'":
            quoted = not quoted
            out.append("?" if quoted else "")
        elif not quoted:
            out.append("#" if char.isdigit() else char)
    return "".join(out)


def _count(prepare: Callable[[Data, Any], Measure], data: Data, client_for: Any) -> tuple[int, int, Counter]:
    run = prepare(data, client_for)
    with CaptureQueriesContext(connection) as queries:
        size = run()
    return len(queries), size, Counter(_shape(query["sql"]) for query in queries.captured_queries)


@pytest.mark.parametrize("case", CASES)
def test_queries_do_not_grow_with_the_rows(case, world, frozen_now, client_for):
    # given a small data set, measured after one warm-up (prepared statements, caches)
    data = Data(world, spread=case.spread)
    data.add(SMALL)
    case.prepare(data, client_for)()
    small, small_size, small_shapes = _count(case.prepare, data, client_for)
    # when the data set grows
    data.add(LARGE - SMALL)
    large, large_size, large_shapes = _count(case.prepare, data, client_for)
    # then the output shows the new rows, but the number of queries is the same
    if case.output_grows:
        assert large_size > small_size, "the larger data set should show more rows"
    extra = {shape[:300]: n for shape, n in (large_shapes - small_shapes).items()}
    assert large == small, extra
