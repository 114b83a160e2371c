"""`manage.py benchmark`: the payroll, logging and report scenarios run, check themselves, print figures.

Smoke tests on tiny inputs (no timing assertions): the figures come from running the
command at full size (docs/benchmarks.md).
"""

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from benchmarks import close_and_invoice, logging_load, report
from benchmarks.workforce import PERIOD, load_workforce
from core.periods import next_period
from payroll.models import (
    Adjustment,
    Invoice,
    InvoiceLine,
    Job,
    Timesheet,
    TimesheetEvent,
    TimesheetLine,
    TimesheetStatus,
)
from payroll.selectors.reports import GROUP_BY
from trainers.models import LabellingSession, Worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scratch(monkeypatch) -> list[str]:
    """The command's scratch database replaced by the test database (creating one costs seconds).

    Records each use, so a test can check the command asked for one.
    """
    used: list[str] = []

    def in_test_database(scenario):
        used.append("used")
        scenario()

    monkeypatch.setattr("benchmarks.management.commands.benchmark.in_scratch_database", in_test_database)
    return used


def test_the_payroll_scenario_closes_approves_and_invoices_everyone_and_agrees_with_the_floor():
    # given a tiny workforce in the test database
    out = StringIO()
    # when
    close_and_invoice.run(out, workers=24, sessions=480, seed=7, celery_workers=0)
    # then every worker was closed, approved (two events) and invoiced (a third)
    output = out.getvalue()
    assert Timesheet.objects.filter(period=PERIOD, status="invoiced").count() == 24
    assert TimesheetEvent.objects.count() == 3 * 24
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, 25))
    assert "every invoice and line agrees with the SQL floor to the cent" in output
    labels = ("close (payroll.close_period)", close_and_invoice.WEEKLY_CLOSE, "invoicing", "SQL floor")
    for label in labels:
        assert re.search(rf"{re.escape(label)}[^\n]*\s+\d+\.\d\d s\s+\d+ \w+/s", output), output
    assert re.search(r"ratio \(close \+ invoicing\) / floor\s+\d+\.\d\dx", output)
    assert re.search(r"ratio \(weekly close \+ invoicing\) / floor\s+\d+\.\d\dx", output)
    # and the weekly close, run on weeks already priced, changed none (else the run fails)
    assert Job.objects.filter(kind="close_period").latest("pk").result["changed"] == 0
    assert re.search(r"peak memory \(this process\)\s+\d+ MB", output)
    # and the sessions table got back the indexes and constraints dropped for the load
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'trainers_labellingsession'")
        indexes = {name for (name,) in cursor.fetchall()}
    assert {"session_no_overlap", "session_worker_start", "session_one_running_per_worker"} <= indexes


def test_a_weekly_close_that_corrects_a_week_fails_the_run(world):
    # given the last close corrected a week (a write had not priced it)
    Job.objects.create(kind="close_period", params={"period": PERIOD}, result={"changed": 1})
    # when / then
    with pytest.raises(CommandError, match="corrected 1 timesheets"):
        close_and_invoice.check_nothing_corrected()


def test_the_payroll_check_fails_on_a_cent_of_difference():
    # given a finished run, and the floor a cent away from one invoice (issued invoices are
    # frozen by the database, so the floor's own result is what is changed)
    close_and_invoice.run(StringIO(), workers=8, sessions=80, seed=8, celery_workers=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE floor_invoices SET subtotal = subtotal + 0.01, total = total + 0.01 "
            "WHERE worker_id = (SELECT MIN(worker_id) FROM floor_invoices)"
        )
    # when / then
    with pytest.raises(CommandError, match="disagree: 1 invoices"):
        close_and_invoice._compare(StringIO(), 8)


def test_the_logging_scenario_serves_both_endpoints_with_gunicorn_and_prints_figures():
    # given / when
    out = StringIO()
    logging_load.run(out, requests=16, clients=8)
    # then 8 clients x (warm-up + 2) sessions landed through each endpoint
    output = out.getvalue()
    landed = 8 * (logging_load.warm_up_requests(2) + 2)
    assert LabellingSession.objects.filter(worker__user__username__startswith="real-").count() == landed
    assert LabellingSession.objects.filter(worker__user__username__startswith="bare-").count() == landed
    for label in ("POST /api/v1/sessions/", "bare INSERT (floor)"):
        assert re.search(rf"{re.escape(label)}\s+\d+ requests/s\s+p50\s+[\d.]+ ms\s+p99\s+[\d.]+ ms", output)
    assert re.search(r"ratio logging/bare\s+\d+\.\d\dx", output)


def test_the_command_runs_the_payroll_scenario_in_a_scratch_database(scratch):
    # given the scratch database replaced by the test database (the fixture)
    # when
    out = StringIO()
    call_command("benchmark", "--scenario", "payroll", "--workers", "5", "--sessions", "40", stdout=out)
    # then
    assert scratch == ["used"]
    assert "payroll: 5 workers, 40 sessions in 2026-W44, seed 45, pay mix off" in out.getvalue()
    assert "pay mix:" not in out.getvalue()
    assert "agrees with the SQL floor to the cent" in out.getvalue()


def test_the_command_passes_the_pay_mix_flag_and_says_so_in_the_header(scratch):
    # given the scratch database replaced by the test database (the fixture)
    # when
    out = StringIO()
    call_command(
        "benchmark", "--scenario", "payroll", "--workers", "6", "--sessions", "60", "--pay-mix", stdout=out
    )
    # then
    assert "payroll: 6 workers, 60 sessions in 2026-W44, seed 45, pay mix on" in out.getvalue()
    assert "pay mix: 2 workers on task rates" in out.getvalue()
    assert "agrees with the SQL floor to the cent" in out.getvalue()


def test_the_command_refuses_too_few_sessions():
    with pytest.raises(CommandError, match="at least --workers"):
        close_and_invoice.run(StringIO(), workers=5, sessions=4, seed=1, celery_workers=0)


def test_the_report_scenario_signs_weeks_times_every_grouping_and_agrees_with_the_floor():
    # given / when a tiny workforce over three weeks, the first two signed
    out = StringIO()
    report.run(out, workers=24, sessions=24 * 3 * 5, weeks=3, signed=2, seed=7)
    # then every week was priced, the first two approved, and the first and third adjusted
    weeks = [PERIOD, next_period(PERIOD), next_period(next_period(PERIOD))]
    statuses = {period: set() for period in weeks}
    for period, status in Timesheet.objects.values_list("period", "status"):
        statuses[period].add(status)
    assert statuses == {
        weeks[0]: {TimesheetStatus.APPROVED},
        weeks[1]: {TimesheetStatus.APPROVED},
        weeks[2]: {TimesheetStatus.OPEN},
    }
    assert sorted(Adjustment.objects.values_list("applies_to_period", flat=True)) == [weeks[0], weeks[2]]
    # and each grouping was timed over all the weeks, and compared over the signed ones and all
    output = out.getvalue()
    for group_by in GROUP_BY:
        figures = r"\d+\.\d{3} s\s+\d+ timesheets/s\s+\d+ rows\s+\d+ queries\s+peak\s+[\d.]+ MB"
        assert re.search(rf"group_by={group_by}\s+{figures}", output), output
        compared = r"\d+\.\d{3} s\s+floor\s+\d+\.\d{3} s\s+\d+\.\d\dx\s+\d+ rows\s+equal to the cent"
        assert re.search(rf"group_by={group_by}\s+{compared}", output), output
    for group_by in GROUP_BY:
        first_page = r"first page\s+\d+\.\d{3} s\s+\d+ rows\s+\d+ queries"
        assert re.search(rf"GET reports/pay/ group_by={group_by}\s+{first_page}", output), output
    assert re.search(r"CSV export by worker .* COPY \(floor\) TO STDOUT .*\d+\.\d\dx", output), output
    assert "signed weeks and all weeks, agrees with the SQL floor to the cent" in output
    assert "the pay summaries equal the timesheets' lines and adjustments in every group" in output
    assert re.search(r"close of \S+ after live pricing .* 0 corrected", output), output


def test_the_report_check_fails_on_a_cent_of_difference(monkeypatch):
    # given a floor a cent off for one group
    real_floor = report.floor_rows

    def floor_a_cent_off(group_by, first, last, *statuses):
        figures = real_floor(group_by, first, last, *statuses)
        group = min(figures, key=str)
        seconds, amount, adjustments = figures[group]
        figures[group] = (seconds, amount + Decimal("0.01"), adjustments)
        return figures

    monkeypatch.setattr(report, "floor_rows", floor_a_cent_off)
    # when / then
    with pytest.raises(CommandError, match="The report and the SQL floor disagree"):
        report.run(StringIO(), workers=8, sessions=80, weeks=1, signed=1, seed=8)


def test_the_command_runs_the_report_scenario_in_a_scratch_database(scratch):
    # given the scratch database replaced by the test database (the fixture)
    # when
    out = StringIO()
    call_command(
        "benchmark",
        "--scenario",
        "report",
        "--workers",
        "6",
        "--weeks",
        "2",
        "--signed-weeks",
        "1",
        stdout=out,
    )
    # then five sessions a week each by default
    assert scratch == ["used"]
    assert "report: 6 workers, 60 sessions over 2 weeks" in out.getvalue()
    assert "agrees with the SQL floor to the cent" in out.getvalue()


@pytest.mark.parametrize(("weeks", "signed"), [(2, 0), (2, 3), (200, 1)])
def test_the_report_scenario_refuses_impossible_weeks(weeks, signed):
    with pytest.raises(CommandError, match="--signed-weeks"):
        report.run(StringIO(), workers=5, sessions=50, weeks=weeks, signed=signed, seed=1)


def test_the_payroll_scenario_with_the_pay_mix_agrees_with_the_floor_on_tasks_activities_and_top_ups():
    # given a tiny workforce, a third of it paid by the piece with floors and activities
    out = StringIO()
    # when
    close_and_invoice.run(out, workers=36, sessions=720, seed=7, celery_workers=0, mix=True)
    # then everyone was invoiced, to the cent of the floor extended for tasks and top-ups
    output = out.getvalue()
    assert "pay mix on" in output
    assert Timesheet.objects.filter(period=PERIOD, status="invoiced").count() == 36
    assert "every invoice and line agrees with the SQL floor to the cent" in output
    # and the mix was exercised: task lines, pure piece work, activity lines, some top-ups, not all
    lines = TimesheetLine.objects.filter(timesheet__period=PERIOD)
    assert lines.filter(kind="tasks").exists()
    assert lines.filter(kind="regular", hourly_rate=0).exists()
    activities = set(lines.exclude(activity="labelling").values_list("activity", flat=True))
    assert {"review", "training"} <= activities - {None}
    floors = Worker.objects.filter(minimum_hourly__isnull=False).count()
    top_ups = lines.filter(kind="top_up").count()
    assert 0 < top_ups < floors
    assert re.search(r"pay mix: 12 workers on task rates \(\d+ at 0\.00/h\), \d+ with a floor", output)
    assert re.search(rf"pay mix closed: \d+ task lines, \d+ activity lines, {top_ups} top-ups", output)
    # and the invoices carry the tasks
    assert InvoiceLine.objects.filter(kind="tasks", units__gt=0).exists()


def test_the_pay_mix_changes_prices_and_tasks_never_the_sessions_times():
    # given the workforce of a seed without the mix (rolled back after reading its sessions)
    with transaction.atomic():
        plain = load_workforce(12, 120, seed=5)
        times = _session_times()
        transaction.set_rollback(True)
    # when the same seed is loaded with the mix
    mixed = load_workforce(12, 120, seed=5, mix=True)
    # then a third of the workers are piece workers, and every session kept its time
    assert plain.mix is None
    assert mixed.mix is not None and mixed.mix.piece_workers == 4
    assert _session_times() == times
    assert LabellingSession.objects.filter(task_count__gt=0).exists()


def _session_times() -> list[tuple[object, ...]]:
    return list(LabellingSession.objects.order_by("pk").values_list("started_at", "ended_at"))
