"""Live timesheets: every write that changes pay prices its weeks again, in its transaction.

The property at the end interleaves random session, rate, adjustment and contract changes,
then prices every week from scratch (as the close does) and finds nothing to change.
"""

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from payroll.models import PaySummary, Timesheet, TimesheetLine
from payroll.services.adjustments import adjustment_create
from payroll.services.close import timesheets_close
from payroll.services.pay_summaries import (
    pay_summaries_compact,
    pay_summaries_differences,
    pay_summaries_rebuild,
)
from payroll.services.rates import rate_create, rate_delete, rate_update
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheets_price_everything
from tests.conftest import NOW
from trainers.models import Activity, LabellingSession
from trainers.services.people import worker_update
from trainers.services.sessions import session_create, session_delete, session_update

W45, W46 = "2026-W45", "2026-W46"
MONDAY = datetime(2026, 11, 2, tzinfo=UTC)  # W45 in UTC (worker_a's zone)


def log(world, day: int, hour: int, minutes: int = 60, **extra):
    """A session of worker_a on project A, `day` days after Mon 2 Nov, logged as the contractor does."""
    start = MONDAY + timedelta(days=day, hours=hour)
    return session_create(
        actor=world.contractor_a,
        worker=world.worker_a,
        project=world.project_a,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        now=NOW,
        **extra,
    )


def rate(world, hourly: str, effective_from: date = date(2026, 1, 1), **extra):
    fields = {"worker": world.worker_a, "hourly_rate": Decimal(hourly), "currency": "USD", **extra}
    return rate_create(actor=world.finance, fields={**fields, "effective_from": effective_from})


def week(world, period: str) -> tuple[str, list[tuple[str, int, str]]]:
    """worker_a's stored total and lines (kind, seconds, amount) of a week."""
    timesheet = Timesheet.objects.get(worker=world.worker_a, period=period)
    lines = TimesheetLine.objects.filter(timesheet=timesheet).order_by("kind", "hourly_rate")
    return str(timesheet.total), [(line.kind, line.seconds, str(line.amount)) for line in lines]


@pytest.fixture
def priced(world, frozen_now):
    rate(world, "15.00")
    LabellingSession.objects.all().delete()  # the factory's, written without a service
    pay_summaries_rebuild()  # and the sums of what factories wrote
    return world


def test_the_first_session_of_a_week_creates_its_timesheet_priced(priced):
    # when
    log(priced, 0, 9, 120)
    # then no close has run, and the week is there with its line and total
    assert week(priced, W45) == ("30.00", [("regular", 7200, "30.00")])


def test_an_edit_that_moves_a_session_prices_the_week_it_left_and_the_week_it_joined(priced):
    # given
    session = log(priced, 0, 9, 120)
    log(priced, 1, 9, 60)
    # when the first moves to the next week
    moved = MONDAY + timedelta(days=7, hours=9)
    session_update(
        actor=priced.contractor_a,
        session=session,
        changes={"started_at": moved, "ended_at": moved + timedelta(hours=2)},
        now=NOW,
    )
    # then
    assert week(priced, W45) == ("15.00", [("regular", 3600, "15.00")])
    assert week(priced, W46) == ("30.00", [("regular", 7200, "30.00")])


def test_a_deleted_session_leaves_its_week_with_no_lines(priced):
    # given
    session = log(priced, 0, 9, 120)
    # when
    session_delete(actor=priced.contractor_a, session=session)
    # then the (open) week stays, empty
    assert week(priced, W45) == ("0.00", [])


def test_rate_changes_price_the_open_weeks_again(priced):
    # given 2 h on Monday and 1 h on Wednesday
    log(priced, 0, 9, 120)
    log(priced, 2, 9, 60)
    # when a rate from Wednesday is added, corrected, then removed
    wednesday = rate(priced, "20.00", date(2026, 11, 4))
    assert week(priced, W45) == ("50.00", [("regular", 7200, "30.00"), ("regular", 3600, "20.00")])
    rate_update(actor=priced.finance, rate=wednesday, changes={"hourly_rate": Decimal("21.00")})
    assert week(priced, W45)[0] == "51.00"
    rate_delete(actor=priced.finance, rate=wednesday)
    # then
    assert week(priced, W45) == ("45.00", [("regular", 10800, "45.00")])


def test_an_adjustment_and_a_floor_show_in_the_week_at_once(priced):
    # given 2 h of piece work at 0.00 an hour and 0.50 a task, 10 tasks
    rate(priced, "0.00", date(2026, 11, 1), task_rate=Decimal("0.50"))
    log(priced, 0, 9, 120, task_count=10)
    assert week(priced, W45)[0] == "5.00"
    # when the contract gets a 15.00/h floor
    worker_update(actor=priced.admin, worker=priced.worker_a, changes={"minimum_hourly": Decimal("15.00")})
    # then the week is topped up to 30.00
    assert week(priced, W45) == (
        "30.00",
        [("regular", 7200, "0.00"), ("tasks", 0, "5.00"), ("top_up", 7200, "25.00")],
    )
    # when finance adds back pay, it lands on the next open week, which exists at once
    adjustment_create(
        actor=priced.finance, worker=priced.worker_a, amount=Decimal("7.50"), currency="USD", reason="Fix"
    )
    assert Timesheet.objects.get(worker=priced.worker_a, period="2026-W47").total == Decimal("7.50")


def test_a_rejected_week_is_priced_on_the_rates_added_while_it_was_signed(priced):
    # given a submitted week, then a rate change that applies to it
    log(priced, 0, 9, 120)
    timesheet = Timesheet.objects.get(worker=priced.worker_a, period=W45)
    timesheet_transition(actor=priced.contractor_a, timesheet=timesheet, action="submit")
    rate(priced, "20.00", date(2026, 11, 1))
    assert week(priced, W45)[0] == "30.00"  # signed: frozen
    # when its manager sends it back
    timesheet_transition(actor=priced.manager_a, timesheet=timesheet, action="reject", note="New rate.")
    # then
    assert week(priced, W45)[0] == "40.00"


def test_the_close_finds_nothing_to_change_after_normal_operation(priced, caplog):
    # given
    log(priced, 0, 9, 120)
    # when
    with caplog.at_level(logging.ERROR, logger="payroll.services.close"):
        changed = timesheets_close(worker_ids=[priced.worker_a.pk], period=W45)
    # then
    assert changed == 0
    assert caplog.records == []


def test_the_close_corrects_and_reports_a_week_a_write_did_not_price(priced, caplog):
    # given a session written behind the services' back
    log(priced, 0, 9, 120)
    LabellingSession.objects.filter(worker=priced.worker_a).update(ended_at=MONDAY + timedelta(hours=12))
    # when
    with caplog.at_level(logging.ERROR, logger="payroll.services.close"):
        changed = timesheets_close(worker_ids=[priced.worker_a.pk], period=W45)
    # then it is corrected, and said out loud
    assert changed == 1
    assert week(priced, W45)[0] == "45.00"
    assert "corrected 1 of 1 timesheets" in caplog.text


# The pay report's sums (PaySummary) follow every write --------------------------------


def summed(period: str, **by) -> dict[str, tuple[int, Decimal]]:
    """The summaries of a week per kind: seconds and amount, rows added up."""
    sums: dict[str, tuple[int, Decimal]] = {}
    for row in PaySummary.objects.filter(period=period, **by):
        seconds, amount = sums.get(row.kind, (0, Decimal("0.00")))
        sums[row.kind] = (seconds + row.seconds, amount + row.amount)
    return {key: value for key, value in sums.items() if any(value)}


def test_the_sums_follow_sessions_and_adjustments_as_they_are_written(priced):
    # when
    log(priced, 0, 9, 120)
    log(priced, 1, 9, 60)
    adjustment_create(
        actor=priced.finance, worker=priced.worker_a, amount=Decimal("-5.00"), currency="USD", reason="Fix"
    )
    # then
    assert summed(W45, team=priced.team_a) == {"regular": (10800, Decimal("45.00"))}
    assert pay_summaries_differences() == []


def test_submit_and_approve_write_no_summary_and_the_week_counts_once(priced):
    # given
    log(priced, 0, 9, 120)
    timesheet = Timesheet.objects.get(worker=priced.worker_a, period=W45)
    rows_before = PaySummary.objects.count()
    # when
    timesheet_transition(actor=priced.contractor_a, timesheet=timesheet, action="submit")
    timesheet_transition(actor=priced.manager_a, timesheet=timesheet, action="approve")
    # then the summaries have no status: the moves wrote none, and the week counts once
    assert PaySummary.objects.count() == rows_before
    assert summed(W45, team=priced.team_a) == {"regular": (7200, Decimal("30.00"))}
    assert pay_summaries_differences() == []


@pytest.mark.parametrize("through", ["service", "admin"])
def test_a_worker_who_changes_team_takes_their_weeks_to_the_new_team(priced, through, client):
    # given
    log(priced, 0, 9, 120)
    # when
    if through == "service":
        worker_update(actor=priced.admin, worker=priced.worker_a, changes={"team": priced.team_b})
    else:  # the Django admin's change form, as an admin submits it
        client.force_login(priced.admin)
        form = {
            "full_name": priced.worker_a.full_name,
            "email": priced.worker_a.email,
            "team": priced.team_b.pk,
            "is_active": "on",
            "overtime_multiplier": priced.worker_a.overtime_multiplier,
            "tax_rate": priced.worker_a.tax_rate,
        }
        response = client.post(f"/admin/trainers/worker/{priced.worker_a.pk}/change/", form)
        assert response.status_code == 302, response.context["adminform"].form.errors
    # then
    assert summed(W45, team=priced.team_a) == {}
    assert summed(W45, team=priced.team_b) == {"regular": (7200, Decimal("30.00"))}
    assert pay_summaries_differences() == []


def test_compaction_folds_each_group_into_one_row_and_changes_no_figure(priced):
    # given many writes to one week
    for hour in range(8):
        log(priced, 2, hour)
    rows_before = PaySummary.objects.filter(period=W45).count()
    # when
    pay_summaries_compact()
    # then
    assert rows_before > 1
    assert PaySummary.objects.filter(period=W45).count() == 1
    assert summed(W45) == {"regular": (28800, Decimal("120.00"))}
    assert pay_summaries_differences() == []


# The property: random writes, then a pricing from scratch finds nothing to change ---------

DAYS = st.integers(min_value=-1, max_value=13)  # the Sunday before W45 to the end of W46
Write = st.one_of(
    st.tuples(
        st.just("log"),
        DAYS,
        st.integers(min_value=0, max_value=23),
        st.integers(min_value=1, max_value=300),
        st.sampled_from([Activity.LABELLING, Activity.TRAINING, Activity.REVIEW]),
        st.integers(min_value=0, max_value=40),
    ),
    st.tuples(st.just("move"), st.integers(min_value=0, max_value=20), DAYS),
    st.tuples(st.just("delete"), st.integers(min_value=0, max_value=20)),
    st.tuples(
        st.just("rate"),
        DAYS,
        st.sampled_from(["0.00", "12.00", "15.50", "20.00"]),
        st.sampled_from([None, "0.25", "1.10"]),
        st.sampled_from([None, Activity.TRAINING]),
    ),
    st.tuples(st.just("adjust"), st.sampled_from(["5.00", "-2.50", "12.34"])),
    st.tuples(st.just("team"), st.sampled_from(["team_a", "team_b", None])),
    st.tuples(st.just("sign"), st.sampled_from([W45, W46]), st.sampled_from(["submit", "reject", "approve"])),
    st.tuples(
        st.just("terms"),
        st.sampled_from([None, Decimal("14.00"), Decimal("25.00")]),
        st.sampled_from([None, Decimal("2"), Decimal("10")]),
    ),
)


def _apply(world, write) -> None:
    kind, *args = write
    sessions = list(LabellingSession.objects.filter(worker=world.worker_a).order_by("pk"))
    if kind == "log":
        day, hour, minutes, activity, tasks = args
        log(world, day, hour, minutes, activity=activity, task_count=tasks)
    elif kind == "move" and sessions:
        session = sessions[args[0] % len(sessions)]
        shift = timedelta(days=args[1] - (session.started_at - MONDAY).days)
        changes = {"started_at": session.started_at + shift, "ended_at": session.ended_at + shift}
        session_update(actor=world.contractor_a, session=session, changes=changes, now=NOW)
    elif kind == "delete" and sessions:
        session_delete(actor=world.contractor_a, session=sessions[args[0] % len(sessions)])
    elif kind == "rate":
        day, hourly, per_task, activity = args
        task_rate = Decimal(per_task) if per_task else None
        rate(world, hourly, (MONDAY + timedelta(days=day)).date(), task_rate=task_rate, activity=activity)
    elif kind == "adjust":
        amount = Decimal(args[0])
        adjustment_create(
            actor=world.finance, worker=world.worker_a, amount=amount, currency="USD", reason="Fix"
        )
    elif kind == "team":
        team = getattr(world, args[0]) if args[0] else None
        worker_update(actor=world.admin, worker=world.worker_a, changes={"team": team})
    elif kind == "sign":
        period, action = args
        timesheet = Timesheet.objects.filter(worker=world.worker_a, period=period).first()
        actor = world.contractor_a if action == "submit" else world.admin
        if timesheet:
            timesheet_transition(actor=actor, timesheet=timesheet, action=action, note="Checked.")
    elif kind == "terms":
        floor, overtime = args
        changes = {"minimum_hourly": floor, "overtime_after_hours": overtime}
        worker_update(actor=world.admin, worker=world.worker_a, changes=changes)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.lists(Write, min_size=1, max_size=12))
def test_after_any_writes_every_stored_week_equals_a_fresh_pricing_and_its_sums(priced, writes):
    with transaction.atomic():
        # given any interleaving of writes (a refused one changes nothing, as in production)
        for write in writes:
            try:
                with transaction.atomic():
                    _apply(priced, write)
            except DomainError:
                pass
        # when every week is priced from scratch, as the close does
        corrected = timesheets_price_everything()
        # then nothing differed: every week with time existed, with the lines and total it should have
        assert corrected == 0
        # and the pay report's sums are those of the weeks as stored
        assert pay_summaries_differences() == []
        transaction.set_rollback(True)
