"""Timesheet reads without HTTP: who sees which, live and stored figures, and the problems list.

The world's contractor A (America/Chicago, team A) has one 2 h session on Mon 2026-11-02
09:00-11:00 local (period 2026-W45, which ends Mon 2026-11-09 06:00 UTC) on project A.
`now` is frozen at Fri 2026-11-20 12:00 UTC, so every session the tests create is "late"
unless `timely()` dates its creation inside the period.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payroll.models import Adjustment, Timesheet
from payroll.selectors.timesheets import (
    Problem,
    adjustments_visible_to,
    timesheet_figures,
    timesheets_figures,
    timesheets_visible_to,
)
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.conftest import World
from tests.factories import ProjectFactory, RateFactory, SessionFactory, WorkerFactory
from trainers.models import LabellingSession, Worker
from trainers.services.sessions import session_create

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
W45 = "2026-W45"
W45_END = datetime(2026, 11, 9, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC."""


@pytest.fixture
def rate_a(world):
    """Contractor A's default rate: 15.00 USD from 2026-01-01."""
    return RateFactory(worker=world.worker_a)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CHICAGO)


def add_session(world: World, start: datetime, end: datetime | None, **fields) -> LabellingSession:
    return SessionFactory(
        worker=world.worker_a, project=world.project_a, started_at=start, ended_at=end, **fields
    )


def timely(*sessions: LabellingSession) -> None:
    """Date the sessions' creation and last edit inside their period (no late-entry warning)."""
    for session in sessions:
        stamp = session.ended_at or session.started_at
        LabellingSession.objects.filter(pk=session.pk).update(created_at=stamp, updated_at=stamp)


def set_contract(worker: Worker, **terms: object) -> None:
    for name, value in terms.items():
        setattr(worker, name, value)
    worker.save()


def problems_of(world: World, period: str = W45) -> list[Problem]:
    return timesheet_figures(timesheet_get_or_create(worker=world.worker_a, period=period)[0]).problems


def codes(problems: list[Problem]) -> list[tuple[str, bool, tuple[int, ...]]]:
    return [(problem.code, problem.blocking, problem.session_ids) for problem in problems]


# Who sees which -----------------------------------------------------------------------------------


@pytest.fixture
def sheets(world) -> dict[str, Timesheet]:
    """A W45 timesheet for each contractor."""
    return {
        name: timesheet_get_or_create(worker=worker, period=W45)[0]
        for name, worker in (("a", world.worker_a), ("a2", world.worker_a2), ("b", world.worker_b))
    }


@pytest.fixture
def adjustments(world) -> dict[str, Adjustment]:
    """One adjustment per contractor, made by finance."""
    return {
        name: Adjustment.objects.create(
            worker=worker,
            amount=Decimal("1.00"),
            currency="USD",
            reason="Fix.",
            applies_to_period="2026-W47",
            created_by=world.finance,
        )
        for name, worker in (("a", world.worker_a), ("a2", world.worker_a2), ("b", world.worker_b))
    }


SCOPES = [
    ("contractor_a", {"a"}),
    ("contractor_a2", {"a2"}),
    ("contractor_b", {"b"}),
    ("manager_a", {"a", "a2"}),
    ("manager_b", {"b"}),
    ("finance", {"a", "a2", "b"}),
    ("admin", {"a", "a2", "b"}),
]


@pytest.mark.parametrize(("who", "visible"), SCOPES)
def test_timesheets_visible_to(world, sheets, who, visible):
    # when
    seen = set(timesheets_visible_to(world.user(who)).values_list("pk", flat=True))
    # then
    assert seen == {sheets[name].pk for name in visible}


@pytest.mark.parametrize(("who", "visible"), SCOPES)
def test_adjustments_visible_to(world, adjustments, who, visible):
    # when
    seen = set(adjustments_visible_to(world.user(who)).values_list("pk", flat=True))
    # then
    assert seen == {adjustments[name].pk for name in visible}


def test_anonymous_sees_nothing(world, sheets, adjustments):
    # when / then
    assert not timesheets_visible_to(AnonymousUser()).exists()
    assert not adjustments_visible_to(AnonymousUser()).exists()


def test_a_manager_of_two_teams_sees_each_timesheet_once(world, sheets):
    # given manager A also manages team B
    world.team_b.managers.add(world.manager_a)
    # when
    seen = list(timesheets_visible_to(world.manager_a).values_list("pk", flat=True))
    # then
    assert sorted(seen) == sorted(sheet.pk for sheet in sheets.values())


# Figures -----------------------------------------------------------------------------------------------


def test_open_figures_are_current_as_time_is_logged_with_names_and_both_hour_formats(world, rate_a):
    # given a second project at 18.00 and 1:20 logged on it beside Monday's 2 h on project A
    other = ProjectFactory(name="Project C", workers=[world.worker_a])
    RateFactory(worker=world.worker_a, project=other, hourly_rate=Decimal("18.00"))
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    session_create(
        actor=world.contractor_a,
        worker=world.worker_a,
        project=other,
        started_at=local(2026, 11, 3, 9),
        ended_at=local(2026, 11, 3, 10, 20),
        now=local(2026, 11, 3, 10, 20),
    )
    # when read (no close has run)
    figures = timesheet_figures(timesheet)
    # then each line shows name, rate, h:mm:ss, decimal hours and amount
    shown = [
        (line.project_name, line.kind, line.hourly_rate, line.duration, line.hours, line.amount)
        for line in figures.lines
    ]
    assert shown == [
        ("Project A", "regular", Decimal("15.00"), "2:00:00", Decimal("2.00"), Decimal("30.00")),
        ("Project C", "regular", Decimal("18.00"), "1:20:00", Decimal("1.33"), Decimal("24.00")),
    ]
    assert (figures.total_seconds, figures.total) == (12_000, Decimal("54.00"))


def test_figures_total_is_lines_plus_adjustments(world, rate_a, adjustments):
    # given A's adjustment (1.00) lands on W47, and A has 1 h there
    add_session(world, local(2026, 11, 17, 9), local(2026, 11, 17, 10))
    Adjustment.objects.create(
        worker=world.worker_a,
        amount=Decimal("-0.25"),
        currency="USD",
        reason="Rounding.",
        applies_to_period="2026-W47",
        created_by=world.finance,
    )
    # when
    figures = timesheet_figures(timesheet_get_or_create(worker=world.worker_a, period="2026-W47")[0])
    # then
    assert [adjustment.amount for adjustment in figures.adjustments] == [Decimal("1.00"), Decimal("-0.25")]
    assert figures.total == Decimal("15.75")
    assert figures.total_seconds == 3600  # adjustments carry no time


def test_submitted_figures_come_from_the_stored_lines(world, rate_a):
    # given a submitted timesheet
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    timesheet = timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    # when the session is changed behind the services' back (e.g. a manual database fix)
    LabellingSession.objects.filter(pk=world.session_a.pk).update(
        ended_at=world.session_a.ended_at + timedelta(hours=1)
    )
    figures = timesheet_figures(timesheet)
    # then the timesheet still shows what was submitted
    assert [(line.project_name, line.seconds, line.amount) for line in figures.lines] == [
        ("Project A", 7200, Decimal("30.00"))
    ]
    assert figures.total == Decimal("30.00")


# Problems ------------------------------------------------------------------------------------------------


def test_a_clean_week_has_no_problems(world, rate_a):
    # given
    timely(world.session_a)
    # when / then
    assert problems_of(world) == []


def test_unpriced_time_is_a_blocking_problem_naming_project_and_time(world):
    # given A's 2 h on project A and no rate
    timely(world.session_a)
    # when
    problems = problems_of(world)
    # then
    assert problems == [
        Problem(
            "unpriced_time",
            True,
            "2:00:00 on 'Project A' has no rate; "
            "finance must add one before this can be submitted or approved.",
        )
    ]


def test_a_running_session_is_a_blocking_problem(world, rate_a):
    # given a timer running since Thursday (put in place directly)
    timely(world.session_a)
    running = add_session(world, local(2026, 11, 5, 9), None)
    timely(running)
    # when
    problems = problems_of(world)
    # then
    assert codes(problems) == [("running_session", True, (running.pk,))]
    assert problems[0].message == "Session of Thu 5 Nov 09:00: still running; stop it before submitting."


@pytest.mark.parametrize(
    ("length", "flagged"),
    [(timedelta(hours=12), False), (timedelta(hours=12, seconds=1), True), (timedelta(hours=15), True)],
)
def test_a_session_over_12_hours_is_a_warning(world, rate_a, length, flagged):
    # given
    timely(world.session_a)
    long = add_session(world, local(2026, 11, 4, 6), local(2026, 11, 4, 6) + length)
    timely(long)
    # when
    problems = problems_of(world)
    # then
    assert codes(problems) == ([("long_session", False, (long.pk,))] if flagged else [])


def test_a_timer_stopped_at_the_maximum_is_a_warning(world, rate_a):
    # given
    capped = add_session(world, local(2026, 11, 4, 6), local(2026, 11, 4, 8), needs_review=True)
    timely(world.session_a, capped)
    # when
    problems = problems_of(world)
    # then
    assert codes(problems) == [("needs_review", False, (capped.pk,))]
    assert "stopped by Fairhour at the maximum length" in problems[0].message


@pytest.mark.parametrize(
    ("created_at", "updated_at", "late"),
    [
        (W45_END - timedelta(seconds=1), W45_END - timedelta(seconds=1), False),
        (W45_END, W45_END, True),
        (W45_END - timedelta(seconds=1), W45_END, True),
        (W45_END - timedelta(days=3), W45_END + timedelta(days=1), True),
        (W45_END + timedelta(days=5), W45_END + timedelta(days=5), True),
    ],
)
def test_an_entry_made_or_edited_after_the_period_ended_is_a_warning(
    world, rate_a, created_at, updated_at, late
):
    # given A's Monday session, made and last edited at the given instants
    LabellingSession.objects.filter(pk=world.session_a.pk).update(
        created_at=created_at, updated_at=updated_at
    )
    # when
    problems = problems_of(world)
    # then
    assert codes(problems) == ([("late_entry", False, (world.session_a.pk,))] if late else [])


def test_many_late_sessions_are_one_problem_listing_them(world, rate_a):
    # given two sessions entered on Nov 20 for W45 (the world's and one more)
    other = add_session(world, local(2026, 11, 6, 9), local(2026, 11, 6, 10))
    # when
    problems = problems_of(world)
    # then
    assert codes(problems) == [("late_entry", False, (world.session_a.pk, other.pk))]  # by start
    assert problems[0].message == (
        "Sessions of Mon 2 Nov 09:00, Fri 6 Nov 09:00: created or edited after the period ended."
    )


@pytest.mark.parametrize(
    ("cap", "flagged"), [(Decimal("1.50"), True), (Decimal("2"), False), (Decimal("3"), False)]
)
def test_time_over_the_weekly_cap_is_a_warning(world, rate_a, cap, flagged):
    # given A's 2 h and a contractual weekly cap
    timely(world.session_a)
    set_contract(world.worker_a, weekly_hours_cap=cap)
    # when
    problems = problems_of(world)
    # then
    expected = [
        Problem("over_weekly_cap", False, "2:00:00 logged, over the contract's weekly cap of 1.50 h."),
    ]
    assert problems == (expected if flagged else [])


def test_unpriced_time_counts_towards_the_weekly_cap(world):
    # given A's 2 h with no rate, and a 1 h cap
    timely(world.session_a)
    set_contract(world.worker_a, weekly_hours_cap=Decimal("1"))
    # when
    problems = problems_of(world)
    # then
    assert [problem.code for problem in problems] == ["unpriced_time", "over_weekly_cap"]


def test_blocking_problems_come_first(world):
    # given unpriced time, a long session, a late one and a running timer
    long = add_session(world, local(2026, 11, 4, 6), local(2026, 11, 4, 19))
    running = add_session(world, local(2026, 11, 5, 9), None)
    timely(long, running)
    # when
    problems = problems_of(world)
    figures = timesheet_figures(timesheet_get_or_create(worker=world.worker_a, period=W45)[0])
    # then
    assert codes(problems) == [
        ("unpriced_time", True, ()),
        ("running_session", True, (running.pk,)),
        ("long_session", False, (long.pk,)),
        ("late_entry", False, (world.session_a.pk,)),
    ]
    assert [problem.code for problem in figures.blocking_problems] == ["unpriced_time", "running_session"]


def test_problems_only_look_at_the_period_in_the_workers_zone(world, rate_a):
    # given a long session on Sunday night in Chicago (W45) and one on the Monday after (W46)
    sunday = add_session(world, local(2026, 11, 8, 10), local(2026, 11, 8, 23))
    monday = add_session(world, local(2026, 11, 9, 0), local(2026, 11, 9, 13))
    timely(world.session_a, sunday, monday)
    # when / then each is flagged in its own week only
    assert codes(problems_of(world, W45)) == [("long_session", False, (sunday.pk,))]
    assert codes(problems_of(world, "2026-W46")) == [("long_session", False, (monday.pk,))]


def _team_timesheets(world: World, count: int) -> list[Timesheet]:
    """`count` workers of team A, each with a rate, a 2 h session in W45 and its timesheet;
    every other one submitted (stored lines), the first with an adjustment."""
    timesheets = []
    for index in range(count):
        worker = WorkerFactory(team=world.team_a)
        RateFactory(worker=worker, hourly_rate=Decimal("15.00") + index)
        SessionFactory(worker=worker, started_at=local(2026, 11, 3, 9), ended_at=local(2026, 11, 3, 11))
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
        if index % 2:
            timesheet = timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
        timesheets.append(timesheet)
    Adjustment.objects.create(
        worker=timesheets[0].worker,
        amount=Decimal("-3.10"),
        currency="USD",
        reason="Bonus clawback",
        applies_to_period=W45,
        created_by=world.finance,
    )
    return timesheets


def test_figures_of_many_timesheets_equal_their_figures_one_by_one(world):
    # given open and submitted timesheets, one with an adjustment
    timesheets = _team_timesheets(world, 4)
    # when their figures are computed together
    together = timesheets_figures(timesheets)
    # then each equals its own, computed alone
    assert together == {timesheet.pk: timesheet_figures(timesheet) for timesheet in timesheets}
    assert [together[t.pk].total for t in timesheets] == [
        Decimal("26.90"),  # 2 h x 15.00 - 3.10
        Decimal("32.00"),
        Decimal("34.00"),
        Decimal("36.00"),
    ]


def test_figures_of_many_timesheets_take_as_many_queries_as_of_a_few(world):
    # given two pages of mixed timesheets, of 2 and of 8
    few, many = _team_timesheets(world, 2), _team_timesheets(world, 8)
    # when each page's figures are computed
    with CaptureQueriesContext(connection) as few_queries:
        timesheets_figures(few)
    with CaptureQueriesContext(connection) as many_queries:
        timesheets_figures(many)
    # then the number of queries does not grow with the page
    assert len(many_queries) == len(few_queries) <= 8
