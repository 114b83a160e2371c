"""PAY_RULES and LESSONS: edge cases the other pay tests leave out, worked by hand.

Every expected figure is computed from the rules in a comment beside it, so a reader can
redo the arithmetic: amount = round_half_up(seconds x rate x multiplier / 3600), once per
line; tax = round_half_up(subtotal x tax_rate), once per invoice. Instants are written in
the worker's zone with the UTC instant they stand for beside them where DST makes it
matter.
"""

import contextlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from core.errors import Conflict, InvalidInput
from core.periods import epoch_seconds, period_window
from payroll.models import Adjustment, Invoice, Timesheet
from payroll.pay import OVERTIME, REGULAR, OvertimePolicy, WorkSpan, price_period, rate_steps_in_zone
from payroll.selectors.pricing import price_worker_period
from payroll.services.adjustments import adjustment_create
from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.conftest import NOW
from tests.factories import (
    ProjectFactory,
    RateFactory,
    SessionFactory,
    TeamFactory,
    UserFactory,
    WorkerFactory,
    give_time,
)
from trainers.models import LabellingSession, Role, Worker
from trainers.services.people import worker_update
from trainers.services.sessions import session_create

A, B = 1, 2
W45 = "2026-W45"
RATE_CHANGE = [(None, Decimal("15.00"), date(2026, 1, 1)), (None, Decimal("16.50"), date(2026, 11, 4))]


def at(zone: str, *parts: int, fold: int = 0) -> datetime:
    """A wall-clock time in `zone` (fold=1: the second of a repeated time)."""
    return datetime(*parts, tzinfo=ZoneInfo(zone), fold=fold)


def span(start: datetime, end: datetime, project: int = A) -> WorkSpan:
    return WorkSpan(epoch_seconds(start), epoch_seconds(end), project)


def priced(zone: str, period: str, spans, rates, policy=None):
    """(project, kind, rate, seconds, amount) of each line of the period, and the total."""
    pay = price_period(
        spans, rate_steps_in_zone(rates, ZoneInfo(zone)), period_window(period, ZoneInfo(zone)), policy
    )
    lines = [(line.project_id, line.kind, line.rate, line.seconds, line.amount) for line in pay.lines]
    return lines, pay.amount


# §1 and §3: real elapsed time across DST, in zones beyond Chicago ----------------------------


@pytest.mark.parametrize(
    ("zone", "start", "end", "period", "seconds", "amount"),
    [
        # New York spring forward, Sun 2026-03-08 02:00 EST -> 03:00 EDT.
        # 01:30 EST (06:30Z) -> 03:30 EDT (07:30Z): the wall shows 2 h, 1 h passed: 1 x 15 = 15.00.
        (
            "America/New_York",
            at("America/New_York", 2026, 3, 8, 1, 30),
            at("America/New_York", 2026, 3, 8, 3, 30),
            "2026-W10",
            3600,
            "15.00",
        ),
        # New York fall back, Sun 2026-11-01 02:00 EDT -> 01:00 EST.
        # 00:30 EDT (04:30Z) -> second 01:30, EST (06:30Z): wall 1 h, real 2 h: 2 x 15 = 30.00.
        (
            "America/New_York",
            at("America/New_York", 2026, 11, 1, 0, 30),
            at("America/New_York", 2026, 11, 1, 1, 30, fold=1),
            "2026-W44",
            7200,
            "30.00",
        ),
        # London fall back, Sun 2026-10-25 02:00 BST -> 01:00 GMT.
        # 00:30 BST (23:30Z Sat) -> second 01:30, GMT (01:30Z): real 2 h: 30.00.
        (
            "Europe/London",
            at("Europe/London", 2026, 10, 25, 0, 30),
            at("Europe/London", 2026, 10, 25, 1, 30, fold=1),
            "2026-W43",
            7200,
            "30.00",
        ),
        # Lord Howe falls back 30 minutes, Sun 2026-04-05 02:00 +11 -> 01:30 +10:30.
        # 01:00 +11 (14:00Z) -> 02:00 +10:30 (15:30Z): wall 1 h, real 1.5 h: 1.5 x 15 = 22.50.
        (
            "Australia/Lord_Howe",
            at("Australia/Lord_Howe", 2026, 4, 5, 1, 0),
            at("Australia/Lord_Howe", 2026, 4, 5, 2, 0),
            "2026-W14",
            5400,
            "22.50",
        ),
        # Lord Howe springs forward 30 minutes, Sun 2026-10-04 02:00 +10:30 -> 02:30 +11.
        # 01:45 +10:30 (15:15Z) -> 02:45 +11 (15:45Z): wall 1 h, real 0.5 h: 0.5 x 15 = 7.50.
        (
            "Australia/Lord_Howe",
            at("Australia/Lord_Howe", 2026, 10, 4, 1, 45),
            at("Australia/Lord_Howe", 2026, 10, 4, 2, 45),
            "2026-W40",
            1800,
            "7.50",
        ),
        # Santiago skips midnight, Sun 2026-09-06 00:00 -04 -> 01:00 -03.
        # Sat 23:30 -04 (03:30Z) -> Sun 01:30 -03 (04:30Z): wall 2 h, real 1 h: 15.00.
        (
            "America/Santiago",
            at("America/Santiago", 2026, 9, 5, 23, 30),
            at("America/Santiago", 2026, 9, 6, 1, 30),
            "2026-W36",
            3600,
            "15.00",
        ),
        # Havana repeats midnight, Sun 2026-11-01 01:00 CDT -> 00:00 CST.
        # Sat 23:30 CDT (03:30Z) -> second 00:30, CST (05:30Z): wall 1 h, real 2 h: 30.00.
        (
            "America/Havana",
            at("America/Havana", 2026, 10, 31, 23, 30),
            at("America/Havana", 2026, 11, 1, 0, 30, fold=1),
            "2026-W44",
            7200,
            "30.00",
        ),
    ],
    ids=["ny-spring", "ny-fall", "london-fall", "lord-howe-fall", "lord-howe-spring", "santiago", "havana"],
)
def test_a_dst_night_pays_real_elapsed_time_in_other_zones(zone, start, end, period, seconds, amount):
    """§1 (length is real elapsed time), LESSONS einsatzverwaltung #200, Lord Howe 30 min shift."""
    lines, total = priced(zone, period, [span(start, end)], [(None, Decimal("15.00"), date(2026, 1, 1))])
    assert lines == [(A, REGULAR, Decimal("15.00"), seconds, Decimal(amount))]
    assert total == Decimal(amount)


@pytest.mark.parametrize(
    ("zone", "start", "end", "rates", "expected"),
    [
        # PAY_RULES example 4 in Kathmandu (+5:45): 16.50 from Wed 2026-11-04 00:00 NPT = Tue 18:15Z.
        # Tue 23:30 -> Wed 00:45 NPT: 1800 s x 15.00 = 7.50; 2700 s x 16.50 = 12.375 -> 12.38.
        (
            "Asia/Kathmandu",
            at("Asia/Kathmandu", 2026, 11, 3, 23, 30),
            at("Asia/Kathmandu", 2026, 11, 4, 0, 45),
            RATE_CHANGE,
            [("15.00", 1800, "7.50"), ("16.50", 2700, "12.38")],
        ),
        # A rate from Sun 2026-10-25 in London, the fall-back day: from 00:00 BST = Sat 23:00Z.
        # Sat 23:00 BST (22:00Z) -> Sun 03:00 GMT (03:00Z) is 5 h: 1 h before midnight at 15.00
        # = 15.00; 00:00 BST -> 03:00 GMT is 4 real hours at 16.50 = 66.00.
        (
            "Europe/London",
            at("Europe/London", 2026, 10, 24, 23, 0),
            at("Europe/London", 2026, 10, 25, 3, 0),
            [(None, Decimal("15.00"), date(2026, 1, 1)), (None, Decimal("16.50"), date(2026, 10, 25))],
            [("15.00", 3600, "15.00"), ("16.50", 14400, "66.00")],
        ),
        # A rate from Sun 2026-09-06 in Santiago, whose midnight does not exist: the day begins
        # at 01:00 -03 = 04:00Z. Sat 23:30 -04 (03:30Z) -> Sun 01:30 -03 (04:30Z):
        # 1800 s x 15.00 = 7.50; 1800 s x 16.50 = 8.25.
        (
            "America/Santiago",
            at("America/Santiago", 2026, 9, 5, 23, 30),
            at("America/Santiago", 2026, 9, 6, 1, 30),
            [(None, Decimal("15.00"), date(2026, 1, 1)), (None, Decimal("16.50"), date(2026, 9, 6))],
            [("15.00", 1800, "7.50"), ("16.50", 1800, "8.25")],
        ),
        # A rate from Sun 2026-11-01 in Havana, whose midnight happens twice: the day begins at
        # the first 00:00 (CDT, 04:00Z). Sat 23:30 CDT (03:30Z) -> 00:30 CST (05:30Z):
        # 1800 s x 15.00 = 7.50; 5400 s x 16.50 = 24.75.
        (
            "America/Havana",
            at("America/Havana", 2026, 10, 31, 23, 30),
            at("America/Havana", 2026, 11, 1, 0, 30, fold=1),
            [(None, Decimal("15.00"), date(2026, 1, 1)), (None, Decimal("16.50"), date(2026, 11, 1))],
            [("15.00", 1800, "7.50"), ("16.50", 5400, "24.75")],
        ),
    ],
    ids=["kathmandu", "london-fall-back-day", "santiago-missing-midnight", "havana-repeated-midnight"],
)
def test_a_rate_change_splits_a_session_at_local_midnight_in_odd_zones(zone, start, end, rates, expected):
    """§3 (a rate applies from local midnight; a piece over the change is split), §1 DST."""
    year, week, _ = start.isocalendar()
    lines, total = priced(zone, f"{year}-W{week:02d}", [span(start, end)], rates)
    assert lines == [(A, REGULAR, Decimal(rate), secs, Decimal(amount)) for rate, secs, amount in expected]
    assert total == sum(Decimal(amount) for _, _, amount in expected)


# §3: project rates against the default ---------------------------------------------------------

CHICAGO = "America/Chicago"


def test_a_project_rate_starting_mid_session_splits_it_at_local_midnight():
    """§3: a (worker, P) rate beats the default from its first local midnight, even inside a session."""
    # default 15.00 from 2026-01-01; project B's own 20.00 from Tue 2026-11-03.
    rates = [(None, Decimal("15.00"), date(2026, 1, 1)), (B, Decimal("20.00"), date(2026, 11, 3))]
    # Mon 23:00 -> Tue 01:00 Chicago on B: 3600 s at the default 15.00 = 15.00, then 3600 s at
    # B's 20.00 = 20.00; total 35.00.
    session = span(at(CHICAGO, 2026, 11, 2, 23, 0), at(CHICAGO, 2026, 11, 3, 1, 0), B)
    assert priced(CHICAGO, W45, [session], rates) == (
        [
            (B, REGULAR, Decimal("15.00"), 3600, Decimal("15.00")),
            (B, REGULAR, Decimal("20.00"), 3600, Decimal("20.00")),
        ],
        Decimal("35.00"),
    )


def test_a_later_default_rate_never_overrides_a_project_rate():
    """§3: once a project rate applies, a later change of the default leaves that project alone."""
    rates = [
        (None, Decimal("15.00"), date(2026, 1, 1)),
        (B, Decimal("20.00"), date(2026, 11, 2)),
        (None, Decimal("16.50"), date(2026, 11, 4)),
    ]
    # Wed 2026-11-04, after the default went to 16.50: 1 h on B stays 20.00; 1 h on A is 16.50.
    spans = [
        span(at(CHICAGO, 2026, 11, 4, 9, 0), at(CHICAGO, 2026, 11, 4, 10, 0), B),
        span(at(CHICAGO, 2026, 11, 4, 11, 0), at(CHICAGO, 2026, 11, 4, 12, 0), A),
    ]
    assert priced(CHICAGO, W45, spans, rates) == (
        [
            (A, REGULAR, Decimal("16.50"), 3600, Decimal("16.50")),
            (B, REGULAR, Decimal("20.00"), 3600, Decimal("20.00")),
        ],
        Decimal("36.50"),
    )


# §5: overtime at its edges ----------------------------------------------------------------------


def test_overtime_crossed_inside_a_session_that_also_crosses_a_rate_change():
    """§5 (a straddler is split at the threshold) with §3 (and again at the rate change)."""
    # threshold 2 h, multiplier 1.5; 15.00 until Wed 2026-11-04, then 16.50.
    policy = OvertimePolicy(after_seconds=2 * 3600, multiplier=Decimal("1.5"))
    spans = [
        span(at(CHICAGO, 2026, 11, 2, 9, 0), at(CHICAGO, 2026, 11, 2, 10, 30)),  # 1.5 h, all regular
        span(at(CHICAGO, 2026, 11, 3, 23, 0), at(CHICAGO, 2026, 11, 4, 1, 0)),  # 2 h over the change
    ]
    # Tue 23:00-23:30: regular (reaches 2 h); 23:30-00:00: overtime at 15.00; 00:00-01:00:
    # overtime at 16.50.
    # regular 15.00: 5400 + 1800 = 7200 s -> 7200 x 15 / 3600 = 30.00
    # overtime 15.00: 1800 s -> 1800 x 15 x 1.5 / 3600 = 11.25
    # overtime 16.50: 3600 s -> 3600 x 16.50 x 1.5 / 3600 = 24.75; total 66.00
    assert priced(CHICAGO, W45, spans, RATE_CHANGE, policy) == (
        [
            (A, REGULAR, Decimal("15.00"), 7200, Decimal("30.00")),
            (A, OVERTIME, Decimal("15.00"), 1800, Decimal("11.25")),
            (A, OVERTIME, Decimal("16.50"), 3600, Decimal("24.75")),
        ],
        Decimal("66.00"),
    )


def test_overtime_counts_only_the_periods_own_time():
    """§2 with §5: the part of a session in the previous week does not count towards this week's threshold."""
    policy = OvertimePolicy(after_seconds=2 * 3600, multiplier=Decimal("1.5"))
    rates = [(None, Decimal("15.00"), date(2026, 1, 1))]
    # Sun 2026-11-01 20:00 -> Mon 04:00 Chicago: 4 h in W44, 4 h in W45. Each week counts its own.
    session = span(at(CHICAGO, 2026, 11, 1, 20, 0), at(CHICAGO, 2026, 11, 2, 4, 0))
    # each week: 7200 s regular x 15 = 30.00; 7200 s overtime x 15 x 1.5 = 45.00; total 75.00
    for period in ("2026-W44", W45):
        assert priced(CHICAGO, period, [session], rates, policy) == (
            [
                (A, REGULAR, Decimal("15.00"), 7200, Decimal("30.00")),
                (A, OVERTIME, Decimal("15.00"), 7200, Decimal("45.00")),
            ],
            Decimal("75.00"),
        )


def test_an_overtime_line_is_rounded_half_up_once_with_its_multiplier():
    """§4/§5 and LESSONS (round() ties to even): the overtime amount is rounded once, ties up."""
    policy = OvertimePolicy(after_seconds=3600, multiplier=Decimal("1.5"))
    # 2 h at 16.75: regular 3600 x 16.75 / 3600 = 16.75; overtime 3600 x 16.75 x 1.5 / 3600
    # = 25.125 exactly -> 25.13 (ties to even would give 25.12); total 41.88.
    session = span(at(CHICAGO, 2026, 11, 2, 9, 0), at(CHICAGO, 2026, 11, 2, 11, 0))
    assert priced(CHICAGO, W45, [session], [(None, Decimal("16.75"), date(2026, 1, 1))], policy) == (
        [
            (A, REGULAR, Decimal("16.75"), 3600, Decimal("16.75")),
            (A, OVERTIME, Decimal("16.75"), 3600, Decimal("25.13")),
        ],
        Decimal("41.88"),
    )


# With the database: the pricing selector, the services, the web form -------------------------------


@pytest.fixture
def _now(frozen_now):
    """These tests run at Fri 2026-11-20 12:00 UTC (tests.conftest.NOW)."""


def worker_in(zone: str, **terms) -> Worker:
    """A contractor in `zone` with a team and its manager, and 15.00 from 2026-01-01 unless told."""
    manager = UserFactory(role=Role.MANAGER)
    rate = terms.pop("rate", Decimal("15.00"))
    worker = WorkerFactory(time_zone=zone, team=TeamFactory(managers=[manager]), **terms)
    if rate is not None:
        RateFactory(worker=worker, hourly_rate=rate)
    return worker


def approved(worker: Worker) -> Timesheet:
    """The worker's W45 timesheet, submitted by the worker and approved by their manager."""
    timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
    give_time(timesheet)  # a week is never submitted empty
    timesheet = timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
    return timesheet_transition(actor=worker.team.managers.get(), timesheet=timesheet, action="approve")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "zone",
    ["Pacific/Kiritimati", "Asia/Kathmandu", "Pacific/Pago_Pago", "Australia/Lord_Howe", "America/New_York"],
)
def test_weeks_are_cut_at_local_monday_midnight_in_far_zones(zone):
    """§2 and LESSONS (Odoo PR #192434, Kimai #987): weeks cut in the worker's zone, not UTC, end to end.

    Kiritimati (+14) starts W45 on Sun 10:00 UTC, Pago Pago (-11) on Mon 11:00 UTC: the
    selector's database window must reach both.
    """
    worker = worker_in(zone)
    project = ProjectFactory(workers=[worker])

    def session(start: datetime, end: datetime) -> None:
        SessionFactory(worker=worker, project=project, started_at=start, ended_at=end)

    session(at(zone, 2026, 11, 1, 23, 0), at(zone, 2026, 11, 2, 0, 0))  # ends at W45's start: W44 only
    session(at(zone, 2026, 11, 2, 0, 0), at(zone, 2026, 11, 2, 1, 0))  # starts at W45's start
    session(at(zone, 2026, 11, 8, 23, 0), at(zone, 2026, 11, 9, 1, 0))  # across W45's end
    # W44: 1 h = 15.00; W45: 1 h + 1 h (Sun 23:00-Mon 00:00) = 7200 s = 30.00; W46: 1 h = 15.00
    paid = {
        period: [(line.seconds, line.amount) for line in price_worker_period(worker, period).lines]
        for period in ("2026-W44", W45, "2026-W46")
    }
    assert paid == {
        "2026-W44": [(3600, Decimal("15.00"))],
        W45: [(7200, Decimal("30.00"))],
        "2026-W46": [(3600, Decimal("15.00"))],
    }


@pytest.mark.django_db
def test_the_contracts_overtime_terms_are_read_exactly_and_rounded_once():
    """§5 through the selector: 37.50 h threshold and 1.25 multiplier from the worker's contract."""
    worker = worker_in(CHICAGO, overtime_after_hours=Decimal("37.50"), overtime_multiplier=Decimal("1.25"))
    project = ProjectFactory(workers=[worker])
    for day in range(2, 7):  # Mon-Fri 2026-11-02..06, 09:00-17:00: 5 x 8 h = 40 h
        SessionFactory(
            worker=worker,
            project=project,
            started_at=at(CHICAGO, 2026, 11, day, 9),
            ended_at=at(CHICAGO, 2026, 11, day, 17),
        )
    # regular 37.5 h = 135,000 s x 15 / 3600 = 562.50
    # overtime 2.5 h = 9,000 s x 15 x 1.25 / 3600 = 46.875 -> 46.88; total 609.38
    pay = price_worker_period(worker, W45)
    assert [(line.kind, line.seconds, line.amount) for line in pay.lines] == [
        (REGULAR, 135_000, Decimal("562.50")),
        (OVERTIME, 9_000, Decimal("46.88")),
    ]
    assert pay.amount == Decimal("609.38")


@pytest.mark.django_db
def test_invoice_tax_is_rounded_half_up_once_on_a_subtotal_with_adjustments(_now):
    """§7 (tax on the subtotal, never per line), §6/§4 (signed adjustments are their own lines and count)."""
    worker = worker_in(CHICAGO, rate=Decimal("10.05"), tax_rate=Decimal("0.1000"))
    finance = UserFactory(role=Role.FINANCE)
    project_a, project_b = ProjectFactory(workers=[worker]), ProjectFactory(workers=[worker])
    SessionFactory(
        worker=worker,
        project=project_a,
        started_at=at(CHICAGO, 2026, 11, 2, 9),
        ended_at=at(CHICAGO, 2026, 11, 2, 10),
    )
    SessionFactory(
        worker=worker,
        project=project_b,
        started_at=at(CHICAGO, 2026, 11, 2, 11),
        ended_at=at(CHICAGO, 2026, 11, 2, 12),
    )
    in_w45 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)  # Tue 06:00 Chicago: W45 is the open period
    for amount in ("-5.00", "1.15"):
        adjustment_create(
            actor=finance,
            worker=worker,
            amount=Decimal(amount),
            currency="USD",
            reason=f"Fix {amount}",
            now=in_w45,
        )
    timesheet = approved(worker)
    # when
    invoice, _ = invoice_issue(timesheet=timesheet, actor=finance)
    # then lines: 3600 s x 10.05 = 10.05 on A and on B; adjustments -5.00 and +1.15
    assert [(line.kind, line.amount) for line in invoice.lines.order_by("position")] == [
        ("regular", Decimal("10.05")),
        ("regular", Decimal("10.05")),
        ("adjustment", Decimal("-5.00")),
        ("adjustment", Decimal("1.15")),
    ]
    # subtotal 10.05 + 10.05 - 5.00 + 1.15 = 16.25 (the timesheet total too);
    # tax 16.25 x 0.1 = 1.625 -> 1.63 (ties to even: 1.62; per line 1.01 + 1.01 - 0.50 + 0.12 = 1.64)
    # total 16.25 + 1.63 = 17.88
    assert timesheet.total == Decimal("16.25")
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("16.25"),
        Decimal("1.63"),
        Decimal("17.88"),
    )


@pytest.mark.django_db
def test_money_in_two_currencies_is_never_summed_after_a_currency_change(_now):
    """§3/§7: one contract currency per worker, the invoice in it; currencies are never summed.

    A worker set up in EUR gets a sign-on bonus (an adjustment in EUR) and an open W45
    timesheet before any rate; finance then corrects the contract currency to USD (allowed:
    there are no rates yet) and adds a USD rate. Either the change must be refused while EUR
    money or timesheets are pending, or nothing in EUR may be added to USD figures.
    """
    worker = worker_in(CHICAGO, rate=None, currency="EUR")
    finance = UserFactory(role=Role.FINANCE)
    project = ProjectFactory(workers=[worker])
    in_w45 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
    adjustment_create(
        actor=finance, worker=worker, amount=Decimal("10.00"), currency="EUR", reason="Sign-on", now=in_w45
    )
    timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)  # e.g. made by a close
    with contextlib.suppress(Conflict):  # refusing the change is one correct outcome
        worker = worker_update(actor=finance, worker=worker, changes={"currency": "USD"})
    worker.refresh_from_db()
    RateFactory(worker=worker, hourly_rate=Decimal("15.00"))  # in the contract currency
    SessionFactory(
        worker=worker,
        project=project,
        started_at=at(CHICAGO, 2026, 11, 2, 9),
        ended_at=at(CHICAGO, 2026, 11, 2, 11),
    )
    # 2 h x 15.00 = 30.00 of time, plus the 10.00 bonus
    timesheet = approved(worker)
    invoice, _ = invoice_issue(timesheet=timesheet, actor=finance)
    # then every sum on the invoice is in one currency, the worker's
    summed = {
        adjustment.currency for adjustment in Adjustment.objects.filter(worker=worker, applies_to_period=W45)
    }
    summed |= {timesheet.currency, invoice.currency, worker.currency}
    assert summed == {worker.currency}, (
        f"invoice {invoice.number}: {invoice.total} {invoice.currency} from lines in {worker.currency} "
        f"and adjustments in {sorted(summed - {worker.currency})}"
    )


# §1: a session's length is real time whatever the wall clock shows --------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "allowed"),
    [
        # Fall back: Sat 2026-10-31 11:00 CDT (16:00Z) -> Sun 03:00 CST (09:00Z) is 17 real hours
        # (the wall shows 16): over MAX_SESSION_HOURS = 16, refused.
        (at(CHICAGO, 2026, 10, 31, 11, 0), at(CHICAGO, 2026, 11, 1, 3, 0), False),
        # Spring forward: Sat 2026-03-07 12:00 CST (18:00Z) -> Sun 05:00 CDT (10:00Z) is 16 real
        # hours (the wall shows 17): exactly the maximum, allowed.
        (at(CHICAGO, 2026, 3, 7, 12, 0), at(CHICAGO, 2026, 3, 8, 5, 0), True),
    ],
    ids=["17-real-hours-refused", "16-real-hours-allowed"],
)
def test_the_maximum_length_is_real_hours_for_times_given_in_the_workers_zone(_now, start, end, allowed):
    """§1 (at most MAX_SESSION_HOURS of real time), LESSONS einsatzverwaltung #200.

    The web form hands the services times in the worker's zone (one ZoneInfo object for
    both ends); the API hands them UTC. The rule must not depend on which.
    """
    worker = worker_in(CHICAGO)
    project = ProjectFactory(workers=[worker])
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=17 if not allowed else 16)
    with contextlib.nullcontext() if allowed else pytest.raises(InvalidInput) as refused:
        session_create(
            actor=worker.user, worker=worker, project=project, started_at=start, ended_at=end, now=NOW
        )
    if not allowed:
        assert "ended_at" in refused.value.errors
    assert LabellingSession.objects.filter(worker=worker).exists() == allowed


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("times", "message"),
    [
        # Sun 2026-11-01 in Chicago: start at the second 01:10 (CST, 07:10Z), end at the first
        # 01:50 (CDT, 06:50Z): the end is 20 minutes before the start.
        (
            {
                "started_at": "2026-11-01T01:10",
                "started_at_fold": "1",
                "ended_at": "2026-11-01T01:50",
                "ended_at_fold": "0",
            },
            "Must be after the start",  # the rule in the page's words (the API says started_at)
        ),
        # Sat 2026-10-31 11:00 CDT (16:00Z) -> Sun 2026-11-01 03:00 CST (09:00Z): 17 real hours.
        ({"started_at": "2026-10-31T11:00", "ended_at": "2026-11-01T03:00"}, "at most 16 hours"),
    ],
    ids=["end-before-start-in-the-repeated-hour", "17-real-hours-over-the-fall-back-night"],
)
def test_the_web_form_refuses_invalid_real_intervals_with_the_rule(_now, times, message):
    """§1 (ended_at > started_at; at most MAX_SESSION_HOURS; refused with a message, nothing written).

    The same rules as the API, for times typed on the wall clock of the worker's zone.
    """
    worker = worker_in(CHICAGO)
    project = ProjectFactory(workers=[worker])
    client = Client()
    client.force_login(worker.user)
    response = client.post(reverse("trainers:session-new"), {"project": project.pk, "task_count": 3, **times})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LabellingSession.objects.filter(worker=worker).exists()


# LESSONS: duplicates, stored precision, string comparison, Brazil -------------------------------


@pytest.mark.django_db
def test_an_invoice_line_bills_from_seconds_and_shows_both_hour_formats(_now):
    """LESSONS Kimai #480, Invoice Ninja #2635, Frappe HRMS #840; §4 hours are display only; §7 lines copy.

    3:28 at 15.00: 12,480 s x 15 / 3600 = 52.00 exactly; shown as 3:28:00 and 12480 / 3600 =
    3.4666.. -> 3.47 h (never truncated to 3.46, never billed as 3.47 x 15 = 52.05).
    """
    worker = worker_in(CHICAGO)
    project = ProjectFactory(workers=[worker])
    SessionFactory(
        worker=worker,
        project=project,
        started_at=at(CHICAGO, 2026, 11, 2, 8),
        ended_at=at(CHICAGO, 2026, 11, 2, 11, 28),
    )
    timesheet = approved(worker)
    invoice, _ = invoice_issue(timesheet=timesheet)
    line = invoice.lines.get()
    assert (line.seconds, line.hourly_rate, line.amount) == (12_480, Decimal("15.0000"), Decimal("52.00"))
    assert "3:28:00 = 3.47 h" in line.description
    assert timesheet.lines.get().seconds == 12_480
    assert invoice.total == Decimal("52.00")


@pytest.mark.django_db
def test_the_database_is_the_backstop_against_duplicate_invoices(_now):
    """LESSONS Kimai #1914, Odoo PR #250946, double clicks; §7 unique, gap-free numbers.

    Unique indexes refuse a repeated number, a repeated (year, sequence) and a second invoice
    for one timesheet whatever the application does; numbers come from the counter row.
    """
    worker = worker_in(CHICAGO)
    timesheet = approved(worker)
    invoice, _ = invoice_issue(timesheet=timesheet)
    other, _ = timesheet_get_or_create(worker=worker_in(CHICAGO), period=W45)
    copy = {
        field: getattr(invoice, field)
        for field in (
            "year",
            "sequence",
            "period",
            "issued_on",
            "due_on",
            "currency",
            "subtotal",
            "tax_rate",
            "tax",
            "total",
        )
    }
    # the same number again, the same (year, sequence) again, a second invoice for one timesheet
    for clash in (
        {**copy, "number": invoice.number, "sequence": 99, "timesheet": other},
        {**copy, "number": "FH-2026-999999", "timesheet": other},
        {**copy, "number": "FH-2026-999999", "sequence": 99, "timesheet": timesheet},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Invoice.objects.create(worker=worker, **clash)
    # nor may an issued invoice be deleted behind the API's back (a trigger), so its number stays used:
    # in SQL, past Django's own refusal (its lines PROTECT it)
    with (
        pytest.raises(IntegrityError, match="never deleted"),
        transaction.atomic(),
        connection.cursor() as sql,
    ):
        sql.execute("DELETE FROM payroll_invoice WHERE id = %s", [invoice.pk])
    assert invoice_issue(timesheet=approved(other.worker))[0].number == "FH-2026-000002"


@pytest.mark.django_db
def test_overlap_is_judged_on_instants_not_on_how_they_are_written(_now):
    """§1 (no overlap; touching is fine), LESSONS ERPNext PR #29846 (datetimes compared as strings)."""
    worker = worker_in(CHICAGO)
    project = ProjectFactory(workers=[worker])

    def create(start: str, end: str) -> LabellingSession:
        return session_create(
            actor=worker.user,
            worker=worker,
            project=project,
            started_at=datetime.fromisoformat(start),
            ended_at=datetime.fromisoformat(end),
            now=NOW,
        )

    create("2026-11-02T10:00:00-06:00", "2026-11-02T11:00:00-06:00")  # 16:00Z-17:00Z
    # "16:30+00:00" sorts after "11:00-06:00" as text, but 16:30Z is inside 16:00Z-17:00Z
    with pytest.raises(InvalidInput) as refused:
        create("2026-11-02T16:30:00+00:00", "2026-11-02T17:30:00+00:00")
    assert "Overlaps session" in refused.value.errors["started_at"][0]
    # "17:00+05:30" sorts after "11:00-06:00" as text, but it is 11:30Z, and 11:30Z-16:30Z
    # ends after 16:00Z: it overlaps too
    with pytest.raises(InvalidInput):
        create("2026-11-02T17:00:00+05:30", "2026-11-02T22:00:00+05:30")
    # 17:00Z written in Kathmandu time touches the first session's end: allowed
    create("2026-11-02T22:45:00+05:45", "2026-11-02T23:45:00+05:45")
    assert LabellingSession.objects.filter(worker=worker).count() == 2


def test_brazil_has_no_dst_after_2019():
    """LESSONS Kimai #2157: São Paulo dropped DST in 2019; its weeks are 168 h, its nights real time.

    Under the old rule clocks would have gone forward on Sun 2026-11-01 00:00.
    Sat 2026-10-31 23:00 -03 (Sun 02:00Z) -> Sun 01:00 -03 (04:00Z): 2 h x 15 = 30.00.
    """
    zone = "America/Sao_Paulo"
    low, high = period_window("2026-W44", ZoneInfo(zone))
    assert high - low == 168 * 3600
    assert low == epoch_seconds(datetime(2026, 10, 26, 3, 0, tzinfo=UTC))  # Mon 00:00 -03
    session = span(at(zone, 2026, 10, 31, 23, 0), at(zone, 2026, 11, 1, 1, 0))
    assert priced(zone, "2026-W44", [session], [(None, Decimal("15.00"), date(2026, 1, 1))]) == (
        [(A, REGULAR, Decimal("15.00"), 7200, Decimal("30.00"))],
        Decimal("30.00"),
    )
