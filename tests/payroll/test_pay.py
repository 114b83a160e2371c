"""The pay engine: PAY_RULES' worked examples and properties that must hold for any input."""

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.periods import epoch_seconds, period_window, periods_touched
from payroll.money import line_amount
from payroll.pay import (
    OVERTIME,
    REGULAR,
    OvertimePolicy,
    RateStep,
    WorkSpan,
    price_period,
    rate_steps_in_zone,
)

CHICAGO = ZoneInfo("America/Chicago")
A, B = 1, 2
RATE_15 = rate_steps_in_zone([(None, Decimal("15.00"), date(2026, 1, 1))], CHICAGO)


def span(start: datetime, end: datetime, project: int = A) -> WorkSpan:
    return WorkSpan(epoch_seconds(start), epoch_seconds(end), project)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CHICAGO)


def price(spans, period, rates=RATE_15, policy=None, zone=CHICAGO):
    return price_period(spans, rates, period_window(period, zone), policy)


# The worked examples of PAY_RULES ----------------------------------------------------


def test_example_1_rounding_once_per_line():
    monday = local(2026, 11, 2, 9, 0)
    spans = [
        span(monday, monday + timedelta(hours=1, minutes=20)),
        span(monday + timedelta(hours=2), monday + timedelta(hours=2, minutes=40, seconds=10)),
        span(monday + timedelta(hours=4), monday + timedelta(hours=6, minutes=5)),
    ]
    pay = price(spans, "2026-W45")
    assert [(line.seconds, line.amount) for line in pay.lines] == [(14_710, Decimal("61.29"))]


def test_example_2_daylight_saving_night_pays_real_hours():
    # Sat 2026-10-31 23:00 CDT -> Sun 2026-11-01 03:00 CST: 01:00-02:00 happens twice.
    start = datetime(2026, 10, 31, 23, 0, tzinfo=CHICAGO)
    end = datetime(2026, 11, 1, 3, 0, fold=1, tzinfo=CHICAGO)
    pay = price([span(start, end)], "2026-W44")
    assert [(line.seconds, line.amount) for line in pay.lines] == [(5 * 3600, Decimal("75.00"))]


def test_example_3_period_boundary_splits_the_session():
    session = span(local(2026, 11, 1, 22, 0), local(2026, 11, 2, 2, 0))
    for period in ("2026-W44", "2026-W45"):
        pay = price([session], period)
        assert [(line.seconds, line.amount) for line in pay.lines] == [(2 * 3600, Decimal("30.00"))]


def test_example_4_rate_change_at_local_midnight():
    rates = rate_steps_in_zone(
        [(None, Decimal("15.00"), date(2026, 1, 1)), (None, Decimal("16.50"), date(2026, 11, 4))], CHICAGO
    )
    pay = price([span(local(2026, 11, 3, 23, 30), local(2026, 11, 4, 0, 45))], "2026-W45", rates)
    assert [(line.rate, line.seconds, line.amount) for line in pay.lines] == [
        (Decimal("15.00"), 1800, Decimal("7.50")),
        (Decimal("16.50"), 2700, Decimal("12.38")),
    ]
    assert pay.amount == Decimal("19.88")


def test_example_5_overtime_after_40_hours():
    spans = [span(local(2026, 11, 2 + day, 8, 0), local(2026, 11, 2 + day, 17, 0)) for day in range(5)]
    policy = OvertimePolicy(after_seconds=40 * 3600, multiplier=Decimal("1.5"))
    pay = price(spans, "2026-W45", policy=policy)
    assert [(line.kind, line.seconds, line.amount) for line in pay.lines] == [
        (REGULAR, 40 * 3600, Decimal("600.00")),
        (OVERTIME, 5 * 3600, Decimal("112.50")),
    ]
    assert pay.amount == Decimal("712.50")


# Rules beyond the examples ------------------------------------------------------------


def test_project_rate_beats_the_default_from_its_first_day():
    rates = rate_steps_in_zone(
        [(None, Decimal("15"), date(2026, 1, 1)), (B, Decimal("20"), date(2026, 11, 3))], CHICAGO
    )
    spans = [
        span(local(2026, 11, 2, 9, 0), local(2026, 11, 2, 10, 0), B),  # before B's own rate
        span(local(2026, 11, 3, 9, 0), local(2026, 11, 3, 10, 0), B),
        span(local(2026, 11, 3, 11, 0), local(2026, 11, 3, 12, 0), A),
    ]
    pay = price(spans, "2026-W45", rates)
    assert [(line.project_id, line.rate, line.seconds) for line in pay.lines] == [
        (A, Decimal("15"), 3600),
        (B, Decimal("15"), 3600),
        (B, Decimal("20"), 3600),
    ]


def test_time_before_any_rate_is_unpriced_not_paid_as_zero():
    rates = rate_steps_in_zone([(None, Decimal("15"), date(2026, 11, 4))], CHICAGO)
    pay = price([span(local(2026, 11, 3, 22, 0), local(2026, 11, 4, 1, 0))], "2026-W45", rates)
    assert [(line.seconds, line.amount) for line in pay.lines] == [(3600, Decimal("15.00"))]
    assert [(gap.project_id, gap.seconds) for gap in pay.unpriced] == [(A, 2 * 3600)]
    assert pay.total_seconds == 3 * 3600


def test_no_rates_at_all_means_everything_unpriced():
    pay = price([span(local(2026, 11, 3, 9, 0), local(2026, 11, 3, 10, 0))], "2026-W45", rates=[])
    assert pay.lines == ()
    assert pay.unpriced[0].seconds == 3600


def test_overtime_straddler_is_split_and_unpriced_time_counts_towards_the_threshold():
    policy = OvertimePolicy(after_seconds=3600, multiplier=Decimal("2"))
    rates = rate_steps_in_zone([(A, Decimal("10"), date(2026, 1, 1))], CHICAGO)
    spans = [
        span(local(2026, 11, 2, 9, 0), local(2026, 11, 2, 9, 30), B),  # unpriced, 30 min
        span(local(2026, 11, 2, 10, 0), local(2026, 11, 2, 11, 0), A),  # 30 min regular, 30 overtime
    ]
    pay = price(spans, "2026-W45", rates, policy)
    assert [(line.kind, line.seconds, line.amount) for line in pay.lines] == [
        (REGULAR, 1800, Decimal("5.00")),
        (OVERTIME, 1800, Decimal("10.00")),
    ]


def test_a_rate_is_never_rounded_before_multiplying():
    # LESSONS (Odoo #32192): 0.3477/min is 20.862/h; 10 h must pay 208.62, not 210.00.
    rates = [RateStep(None, 0, Decimal("20.862"))]
    pay = price([span(local(2026, 11, 2, 8, 0), local(2026, 11, 2, 18, 0))], "2026-W45", rates)
    assert pay.lines[0].amount == Decimal("208.62")


def test_kimai_480_bills_from_seconds_not_rounded_hours():
    # 3:28 at 15.00 is 52.00 exactly (3.4666.. h), never 3.47 h x 15 = 52.05.
    pay = price([span(local(2026, 11, 2, 8, 0), local(2026, 11, 2, 11, 28))], "2026-W45")
    assert pay.lines[0].amount == Decimal("52.00")


# Properties ---------------------------------------------------------------------------

WEEK_START = epoch_seconds(local(2026, 11, 2, 0, 0))
WEEK = period_window("2026-W45", CHICAGO)
RATE_SETS = st.lists(
    st.tuples(
        st.sampled_from([None, A, B]),
        st.integers(WEEK_START - 86_400, WEEK_START + 8 * 86_400),
        st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999.9999"), places=4),
    ),
    max_size=5,
).map(lambda rows: [RateStep(project, start, rate) for project, start, rate in rows])
POLICIES = st.one_of(
    st.just(OvertimePolicy()),
    st.builds(
        OvertimePolicy,
        after_seconds=st.integers(0, 60 * 3600),
        multiplier=st.decimals(min_value=Decimal(1), max_value=Decimal(3), places=2),
    ),
)


@st.composite
def disjoint_spans(draw, low=WEEK_START - 86_400, high=WEEK_START + 8 * 86_400):
    """Non-overlapping sessions (touching allowed) over and around one week."""
    cuts = sorted(draw(st.lists(st.integers(low, high), min_size=2, max_size=16, unique=True)))
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        if end - start > 16 * 3600:
            end = start + 16 * 3600
        spans.append(WorkSpan(start, end, draw(st.sampled_from([A, B]))))
    return spans


def summary(pay):
    return (pay.lines, pay.unpriced, pay.total_seconds)


@settings(max_examples=300, deadline=None)
@given(spans=disjoint_spans(), rates=RATE_SETS, policy=POLICIES, data=st.data())
def test_splitting_a_session_in_two_never_changes_the_pay(spans, rates, policy, data):
    if not spans:
        return
    index = data.draw(st.integers(0, len(spans) - 1))
    chosen = spans[index]
    if chosen.end - chosen.start < 2:
        return
    cut = data.draw(st.integers(chosen.start + 1, chosen.end - 1))
    halves = [WorkSpan(chosen.start, cut, chosen.project_id), WorkSpan(cut, chosen.end, chosen.project_id)]
    split = [*spans[:index], *halves, *spans[index + 1 :]]
    assert price_period(split, rates, WEEK, policy) == price_period(spans, rates, WEEK, policy)


@settings(max_examples=200, deadline=None)
@given(spans=disjoint_spans(), rates=RATE_SETS, policy=POLICIES, data=st.data())
def test_session_order_never_matters(spans, rates, policy, data):
    shuffled = data.draw(st.permutations(spans))
    assert summary(price_period(shuffled, rates, WEEK, policy)) == summary(
        price_period(spans, rates, WEEK, policy)
    )


@settings(max_examples=300, deadline=None)
@given(spans=disjoint_spans(), rates=RATE_SETS, policy=POLICIES)
def test_seconds_are_conserved_and_each_amount_is_exact(spans, rates, policy):
    pay = price_period(spans, rates, WEEK, policy)
    inside = sum(max(0, min(s.end, WEEK[1]) - max(s.start, WEEK[0])) for s in spans)
    assert sum(line.seconds for line in pay.lines) + sum(gap.seconds for gap in pay.unpriced) == inside
    assert pay.total_seconds == inside
    for line in pay.lines:
        exact = Fraction(line.seconds) * Fraction(line.rate) * Fraction(line.multiplier) / 3600
        cents = Decimal(exact.numerator) / Decimal(exact.denominator)
        assert line.amount == cents.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert line.amount == line_amount(line.seconds, line.rate, line.multiplier)
        assert line.amount.as_tuple().exponent == -2


def test_exact_half_cents_round_up_not_to_even():
    # 2700 s at 16.50 = 12.375 exactly; 900 s at 0.10 = 0.025 exactly.
    assert line_amount(2700, Decimal("16.50")) == Decimal("12.38")
    assert line_amount(900, Decimal("0.10")) == Decimal("0.03")


ZONES = [
    "America/Chicago",
    "America/Sao_Paulo",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
]
# Local wall-clock moments near each zone's 2026 DST changes, midnights and week starts.
INTERESTING_DAYS = [
    date(2026, 3, 8),
    date(2026, 3, 29),
    date(2026, 4, 5),
    date(2026, 9, 27),
    date(2026, 10, 4),
    date(2026, 10, 25),
    date(2026, 11, 1),
    date(2026, 11, 2),
    date(2026, 11, 9),
    date(2019, 2, 17),
]


@settings(max_examples=400, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    day=st.sampled_from(INTERESTING_DAYS),
    start_minute=st.integers(-6 * 60, 30 * 60),
    length=st.integers(1, 16 * 3600),
    fold=st.integers(0, 1),
)
def test_paid_seconds_equal_real_elapsed_seconds_in_every_zone(zone_name, day, start_minute, length, fold):
    # given a session starting at a local wall-clock time near a DST change or week start
    zone = ZoneInfo(zone_name)
    wall = datetime(day.year, day.month, day.day, tzinfo=zone, fold=fold) + timedelta(minutes=start_minute)
    start = wall.astimezone(UTC)
    end = start + timedelta(seconds=length)
    rates = rate_steps_in_zone([(None, Decimal("15"), date(2000, 1, 1))], zone)
    # when it is priced in every period it touches
    paid = sum(
        line.seconds
        for period in periods_touched(start, end, zone)
        for line in price_period([span(start, end)], rates, period_window(period, zone)).lines
    )
    # then exactly the real elapsed seconds are paid
    assert paid == length


@pytest.mark.parametrize("zone_name", ZONES)
def test_every_week_of_2026_tiles_time_without_gap_or_overlap(zone_name):
    zone = ZoneInfo(zone_name)
    windows = [period_window(f"2026-W{week:02d}", zone) for week in range(1, 54)]
    assert all(a[1] == b[0] for a, b in pairwise(windows))
