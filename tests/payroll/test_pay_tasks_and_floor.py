"""The pay engine with activities, task rates and the fair-pay floor (PAY_RULES §8-10).

Worked examples 6-8 through the engine, and properties that must hold for any input:
tasks are conserved across splits and periods, a top-up is never negative, a period
with a floor never pays less than it, and without floors or task rates the engine gives
exactly the answers it gave before activities existed.
"""

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.periods import epoch_seconds, period_window
from payroll.money import line_amount, tasks_amount
from payroll.pay import (
    LABELLING,
    OVERTIME,
    REGULAR,
    TASKS,
    TOP_UP,
    OvertimePolicy,
    RateStep,
    WorkSpan,
    price_period,
    rate_steps_in_zone,
)

CHICAGO = ZoneInfo("America/Chicago")
A, B = 1, 2
ACTIVITIES = [LABELLING, "review", "training", "guidelines", "calibration", "meeting"]


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CHICAGO)


def span(
    start: datetime, end: datetime, project: int = A, activity: str = LABELLING, tasks: int = 0
) -> WorkSpan:
    return WorkSpan(epoch_seconds(start), epoch_seconds(end), project, activity, tasks)


def rates(*rows) -> list[RateStep]:
    """(project, hourly, effective_from, activity, task_rate) rows, read in Chicago."""
    return rate_steps_in_zone(rows, CHICAGO)


def price(spans, period, steps, policy=None, floor=None):
    return price_period(spans, steps, period_window(period, CHICAGO), policy, floor)


def figures(pay):
    return [
        (line.project_id, line.activity, line.kind, line.rate, line.seconds, line.units, line.amount)
        for line in pay.lines
    ]


# The worked examples of PAY_RULES ----------------------------------------------------

PIECE_RATE = rates((None, Decimal("0.00"), date(2026, 1, 1), None, Decimal("0.35")))


def test_example_6_piece_work_with_a_floor():
    monday = local(2026, 11, 2, 9)
    pay = price(
        [span(monday, monday + timedelta(hours=2), tasks=37)], "2026-W45", PIECE_RATE, floor=Decimal("15.00")
    )
    assert figures(pay) == [
        (A, LABELLING, REGULAR, Decimal("0.00"), 7200, 0, Decimal("0.00")),
        (A, LABELLING, TASKS, Decimal("0.35"), 0, 37, Decimal("12.95")),
        (None, None, TOP_UP, Decimal("15.00"), 7200, 0, Decimal("17.05")),
    ]
    assert pay.amount == Decimal("30.00")
    assert pay.top_up == Decimal("17.05")


def test_example_7_activity_rate_beats_the_project_rate_and_has_no_task_rate():
    steps = rates(
        (None, Decimal("15.00"), date(2026, 1, 1), None, None),
        (A, Decimal("18.00"), date(2026, 1, 1), None, Decimal("0.10")),
        (None, Decimal("12.00"), date(2026, 1, 1), "training", None),
    )
    monday = local(2026, 11, 2, 9)
    spans = [
        span(monday, monday + timedelta(hours=1, minutes=30), activity="training", tasks=5),
        span(monday + timedelta(hours=2), monday + timedelta(hours=3), tasks=40),
    ]
    pay = price(spans, "2026-W45", steps)
    assert figures(pay) == [
        (A, LABELLING, REGULAR, Decimal("18.00"), 3600, 0, Decimal("18.00")),
        (A, LABELLING, TASKS, Decimal("0.10"), 0, 40, Decimal("4.00")),
        (A, "training", REGULAR, Decimal("12.00"), 5400, 0, Decimal("18.00")),
    ]
    assert pay.amount == Decimal("40.00")


def test_example_8_tasks_come_with_the_last_second_and_each_week_meets_the_floor():
    steps = rates((None, Decimal("0.00"), date(2026, 1, 1), None, Decimal("0.35")))
    night = span(local(2026, 11, 15, 23), local(2026, 11, 16, 1), tasks=10)
    first = price([night], "2026-W46", steps, floor=Decimal("10.00"))
    second = price([night], "2026-W47", steps, floor=Decimal("10.00"))
    assert [(line.kind, line.units, line.amount) for line in first.lines] == [
        (REGULAR, 0, Decimal("0.00")),
        (TOP_UP, 0, Decimal("10.00")),
    ]
    assert [(line.kind, line.units, line.amount) for line in second.lines] == [
        (REGULAR, 0, Decimal("0.00")),
        (TASKS, 10, Decimal("3.50")),
        (TOP_UP, 0, Decimal("6.50")),
    ]
    assert first.amount == second.amount == Decimal("10.00")


# The rules around the examples ---------------------------------------------------------


def test_a_session_ending_at_monday_midnight_delivers_its_tasks_in_the_week_that_ends_there():
    steps = rates((None, Decimal("0.00"), date(2026, 1, 1), None, Decimal("1.00")))
    session = span(local(2026, 11, 15, 22), local(2026, 11, 16, 0), tasks=3)
    assert [line.units for line in price([session], "2026-W46", steps).lines if line.kind == TASKS] == [3]
    assert price([session], "2026-W47", steps).lines == ()


def test_tasks_follow_the_rate_in_force_at_the_last_second():
    # The task rate changes at local midnight; the session's tasks are paid at the new one.
    steps = rates(
        (None, Decimal("10.00"), date(2026, 1, 1), None, Decimal("0.20")),
        (None, Decimal("10.00"), date(2026, 11, 4), None, Decimal("0.30")),
    )
    pay = price([span(local(2026, 11, 3, 23), local(2026, 11, 4, 1), tasks=10)], "2026-W45", steps)
    assert [(line.kind, line.rate, line.units, line.amount) for line in pay.lines] == [
        (REGULAR, Decimal("10.00"), 0, Decimal("20.00")),
        (TASKS, Decimal("0.30"), 10, Decimal("3.00")),
    ]


def test_an_activity_rate_applies_only_while_in_force_then_the_project_rate_resumes():
    steps = rates(
        (A, Decimal("18.00"), date(2026, 1, 1), None, None),
        (None, Decimal("12.00"), date(2026, 11, 4), "review", None),
    )
    pay = price([span(local(2026, 11, 3, 23), local(2026, 11, 4, 1), activity="review")], "2026-W45", steps)
    assert [(line.rate, line.seconds) for line in pay.lines] == [
        (Decimal("12.00"), 3600),
        (Decimal("18.00"), 3600),
    ]


def test_overtime_counts_every_activity_and_multiplies_hourly_pay_only():
    steps = rates((None, Decimal("10.00"), date(2026, 1, 1), None, Decimal("1.00")))
    monday = local(2026, 11, 2, 9)
    spans = [
        span(monday, monday + timedelta(hours=1), activity="training"),
        span(monday + timedelta(hours=2), monday + timedelta(hours=4), tasks=10),
    ]
    pay = price(spans, "2026-W45", steps, OvertimePolicy(after_seconds=2 * 3600, multiplier=Decimal("1.5")))
    assert [(line.activity, line.kind, line.seconds, line.units, line.amount) for line in pay.lines] == [
        (LABELLING, REGULAR, 3600, 0, Decimal("10.00")),
        (LABELLING, OVERTIME, 3600, 0, Decimal("15.00")),
        (LABELLING, TASKS, 0, 10, Decimal("10.00")),
        ("training", REGULAR, 3600, 0, Decimal("10.00")),
    ]


def test_a_zero_hourly_rate_is_priced_not_unpriced():
    pay = price([span(local(2026, 11, 2, 9), local(2026, 11, 2, 10))], "2026-W45", PIECE_RATE)
    assert pay.unpriced == ()
    assert [(line.rate, line.amount) for line in pay.lines] == [(Decimal("0.00"), Decimal("0.00"))]


def test_no_top_up_when_the_period_earned_the_floor():
    steps = rates((None, Decimal("15.00"), date(2026, 1, 1), None, None))
    pay = price(
        [span(local(2026, 11, 2, 9), local(2026, 11, 2, 10))], "2026-W45", steps, floor=Decimal("15.00")
    )
    assert [line.kind for line in pay.lines] == [REGULAR]


def test_unpriced_time_counts_as_worked_time_for_the_floor():
    # A rule of §10: every second of the period's sessions; the week stays blocked by §3 anyway.
    steps = rates((A, Decimal("20.00"), date(2026, 1, 1), None, None))
    monday = local(2026, 11, 2, 9)
    spans = [
        span(monday, monday + timedelta(hours=1)),
        span(monday + timedelta(hours=2), monday + timedelta(hours=3), B),
    ]
    pay = price(spans, "2026-W45", steps, floor=Decimal("15.00"))
    assert [gap.seconds for gap in pay.unpriced] == [3600]
    assert pay.top_up == Decimal("10.00")  # floor 30.00 for 2 h, earned 20.00


# Properties ------------------------------------------------------------------------------

WEEK = period_window("2026-W45", ZoneInfo("UTC"))
NEXT_WEEK = period_window("2026-W46", ZoneInfo("UTC"))
MONEY = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99.99"), places=2)
TASK_RATES = st.one_of(
    st.none(), st.decimals(min_value=Decimal("0.00"), max_value=Decimal("9.9999"), places=4)
)
RATE_SETS = st.lists(
    st.tuples(
        st.sampled_from([(None, None), (A, None), (B, None), (None, "training"), (None, "review")]),
        st.integers(WEEK[0] - 86_400, NEXT_WEEK[1]),
        MONEY,
        TASK_RATES,
    ),
    max_size=5,
).map(lambda rows: [RateStep(scope[0], start, hourly, scope[1], task) for scope, start, hourly, task in rows])
POLICIES = st.one_of(
    st.just(OvertimePolicy()),
    st.builds(
        OvertimePolicy,
        after_seconds=st.integers(0, 60 * 3600),
        multiplier=st.sampled_from([Decimal("1.5"), Decimal(2)]),
    ),
)
FLOORS = st.one_of(st.none(), MONEY)


@st.composite
def sessions(draw, low=WEEK[0] - 86_400, high=NEXT_WEEK[1] + 86_400):
    """Non-overlapping sessions over two weeks, of any activity, with tasks."""
    cuts = sorted(draw(st.lists(st.integers(low, high), min_size=2, max_size=16, unique=True)))
    return [
        WorkSpan(
            start,
            min(end, start + 16 * 3600),
            draw(st.sampled_from([A, B])),
            draw(st.sampled_from(ACTIVITIES)),
            draw(st.integers(0, 500)),
        )
        for start, end in zip(cuts[::2], cuts[1::2], strict=False)
    ]


@settings(max_examples=300, deadline=None)
@given(spans=sessions(), steps=RATE_SETS, policy=POLICIES, floor=FLOORS, data=st.data())
def test_splitting_a_session_with_its_tasks_at_the_end_never_changes_the_pay(
    spans, steps, policy, floor, data
):
    if not spans:
        return
    index = data.draw(st.integers(0, len(spans) - 1))
    chosen = spans[index]
    if chosen.end - chosen.start < 2:
        return
    cut = data.draw(st.integers(chosen.start + 1, chosen.end - 1))
    halves = [replace_span(chosen, end=cut, tasks=0), replace_span(chosen, start=cut)]
    split = [*spans[:index], *halves, *spans[index + 1 :]]
    assert price_period(split, steps, WEEK, policy, floor) == price_period(spans, steps, WEEK, policy, floor)


def replace_span(span: WorkSpan, **changes) -> WorkSpan:
    return span._replace(**changes)


@settings(max_examples=300, deadline=None)
@given(spans=sessions(), task_rate=st.decimals(min_value=Decimal("0.00"), max_value=Decimal("5"), places=2))
def test_every_task_is_paid_once_in_the_period_holding_its_session_end(spans, task_rate):
    steps = [RateStep(None, WEEK[0] - 10 * 86_400, Decimal("10.00"), None, task_rate)]
    weeks = [period_window(f"2026-W{week}", ZoneInfo("UTC")) for week in range(44, 49)]
    paid = sum(
        line.units
        for window in weeks
        for line in price_period(spans, steps, window).lines
        if line.kind == TASKS
    )
    assert paid == sum(span.tasks for span in spans)


@settings(max_examples=400, deadline=None)
@given(spans=sessions(), steps=RATE_SETS, policy=POLICIES, floor=MONEY)
def test_a_floor_is_always_met_and_a_top_up_never_negative(spans, steps, policy, floor):
    pay = price_period(spans, steps, WEEK, policy, floor)
    assert pay.top_up >= 0
    assert pay.amount >= line_amount(pay.total_seconds, floor)
    top_ups = [line for line in pay.lines if line.kind == TOP_UP]
    assert len(top_ups) <= 1
    if top_ups:  # exactly the floor, and the line says how it was found
        assert pay.amount == line_amount(pay.total_seconds, floor)
        assert (top_ups[0].rate, top_ups[0].seconds) == (floor, pay.total_seconds)


@settings(max_examples=300, deadline=None)
@given(spans=sessions(), steps=RATE_SETS, policy=POLICIES)
def test_each_task_line_is_its_units_times_its_rate_rounded_once(spans, steps, policy):
    for line in price_period(spans, steps, WEEK, policy).lines:
        if line.kind == TASKS:
            assert line.seconds == 0 and line.units > 0
            assert line.amount == tasks_amount(line.units, line.rate)
        else:
            assert line.units == 0


@settings(max_examples=300, deadline=None)
@given(spans=sessions(), steps=RATE_SETS, policy=POLICIES)
def test_without_floors_or_task_rates_the_answers_are_those_of_hourly_pay_alone(spans, steps, policy):
    hourly_only = [replace(step, task_rate=None) for step in steps if step.activity is None]
    as_before = [WorkSpan(span.start, span.end, span.project_id) for span in spans]  # labelling, no tasks
    labelled = [span._replace(activity=LABELLING) for span in spans]
    assert price_period(labelled, hourly_only, WEEK, policy) == price_period(
        as_before, hourly_only, WEEK, policy
    )
    assert all(
        line.kind in (REGULAR, OVERTIME) for line in price_period(spans, hourly_only, WEEK, policy).lines
    )
