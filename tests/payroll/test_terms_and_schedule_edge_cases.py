"""Contract terms and the clockwork around them: edge cases the rate, people, schedule,
reminder and forgotten-timer tests leave out.

The far zones are Pacific/Kiritimati (UTC+14, the first to finish a week) and Etc/GMT+12
(UTC-12, the last). 2026 has 53 ISO weeks: 2026-W53 runs from Mon 28 Dec 2026 to Mon 4 Jan
2027, local time; it ends at Sun 3 Jan 10:00 UTC in Kiritimati and at Mon 4 Jan 12:00 UTC
at UTC-12, 26 hours later.
"""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from core.errors import Conflict, InvalidInput
from payroll.models import Adjustment, Invoice, Job, JobStatus, Rate, Timesheet, TimesheetStatus
from payroll.selectors.close import last_ended_period, periods_to_close, workers_to_close
from payroll.selectors.invoices import periods_to_invoice
from payroll.selectors.timesheets import next_open_period, timesheet_figures
from payroll.services.adjustments import adjustment_create
from payroll.services.close import timesheets_refresh
from payroll.services.invoice_schedule import invoice_ended_periods
from payroll.services.invoices import invoice_issue
from payroll.services.rates import rate_create
from payroll.services.reminders import STAGE_SUBMIT, reminders_send
from payroll.services.schedule import close_ended_periods
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import (
    ProjectFactory,
    RateFactory,
    SessionFactory,
    UserFactory,
    WorkerFactory,
    give_time,
)
from trainers.models import LabellingSession, Role, SessionSource, User, Worker
from trainers.services.forgotten_timers import forgotten_timers_stop
from trainers.services.people import worker_update
from trainers.services.sessions import session_update

pytestmark = pytest.mark.django_db

API = "/api/v1"
KIRITIMATI = "Pacific/Kiritimati"  # UTC+14 all year
UTC_MINUS_12 = "Etc/GMT+12"  # UTC-12 all year (POSIX signs: Etc/GMT+12 is twelve hours behind)
CHICAGO = "America/Chicago"
W52, W53, NEXT_W01 = "2026-W52", "2026-W53", "2027-W01"
W53_ENDS = {
    KIRITIMATI: datetime(2027, 1, 3, 10, 0, tzinfo=UTC),
    UTC_MINUS_12: datetime(2027, 1, 4, 12, 0, tzinfo=UTC),
}
W52_ENDS = {
    KIRITIMATI: datetime(2026, 12, 27, 10, 0, tzinfo=UTC),
    UTC_MINUS_12: datetime(2026, 12, 28, 12, 0, tzinfo=UTC),
}
SECOND = timedelta(seconds=1)


def at(zone: str, *parts: int) -> datetime:
    """A wall-clock time in `zone`, as a UTC instant."""
    return datetime(*parts, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.fixture
def beat(monkeypatch):
    """Run the hourly close at `now`, with the clock at `now` too (jobs record when they start)."""

    def run(now: datetime) -> list[tuple[str, bool, int]]:
        monkeypatch.setattr("django.utils.timezone.now", lambda: now)
        return [(start.period, start.created, start.job.pk) for start in close_ended_periods(now=now)]

    return run


def started(runs: list[tuple[str, bool, int]]) -> list[tuple[str, bool]]:
    return [(period, created) for period, created, _ in runs]


@pytest.fixture
def finance(db) -> User:
    return UserFactory(username="finance_far", role=Role.FINANCE)


@pytest.fixture
def far_workers(db) -> dict[str, Worker]:
    """A worker at each end of the world's zones, each on one project with 15.00/h."""
    workers = {zone: WorkerFactory(time_zone=zone) for zone in (KIRITIMATI, UTC_MINUS_12)}
    project = ProjectFactory(workers=list(workers.values()))
    for worker in workers.values():
        RateFactory(worker=worker)
        # Tue 29 Dec 2026 09:00-11:00 local: 2 h in 2026-W53 in both zones
        zone = worker.time_zone
        SessionFactory(
            worker=worker,
            project=project,
            started_at=at(zone, 2026, 12, 29, 9),
            ended_at=at(zone, 2026, 12, 29, 11),
        )
    return workers


# The hourly close (schedule.close_ended_periods): a period ends in some zone ------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # one second before Kiritimati's Monday: W52 is the last week over anywhere
        (W53_ENDS[KIRITIMATI] - SECOND, {W52: W52_ENDS[UTC_MINUS_12]}),
        # Kiritimati has finished W53; UTC-12 is still in it (Sat 3 Jan 22:00 there)
        (W53_ENDS[KIRITIMATI], {W52: W52_ENDS[UTC_MINUS_12], W53: W53_ENDS[KIRITIMATI]}),
        (W53_ENDS[UTC_MINUS_12] - SECOND, {W52: W52_ENDS[UTC_MINUS_12], W53: W53_ENDS[KIRITIMATI]}),
        # the last zone of the world finishes W53, 26 hours after the first
        (W53_ENDS[UTC_MINUS_12], {W53: W53_ENDS[UTC_MINUS_12]}),
    ],
    ids=["before-kiritimati", "kiritimati-done", "last-second-at-utc-12", "everywhere-done"],
)
def test_week_53_ends_first_at_utc_plus_14_and_last_at_utc_minus_12(far_workers, now, expected):
    """§2 (weeks end at local Monday 00:00) at the world's two extreme offsets, to the second,
    over an ISO year of 53 weeks."""
    assert periods_to_close(now) == expected


@pytest.mark.parametrize(
    ("zone", "end", "period"),
    [
        # Chicago's spring-forward week: Mon 9 Mar 2026 00:00 is CDT (UTC-5)
        (CHICAGO, datetime(2026, 3, 9, 5, 0, tzinfo=UTC), "2026-W10"),
        # Chicago's fall-back week: Mon 2 Nov 2026 00:00 is CST (UTC-6); the week is 169 h long
        (CHICAGO, datetime(2026, 11, 2, 6, 0, tzinfo=UTC), "2026-W44"),
        # London springs forward on Sun 29 Mar 2026: its Monday starts at Sun 23:00 UTC
        ("Europe/London", datetime(2026, 3, 29, 23, 0, tzinfo=UTC), "2026-W13"),
        # Tehran skipped Mon 22 Mar 2021 00:00-01:00: the Monday began at 01:00 +0430 (20:30 UTC)
        ("Asia/Tehran", datetime(2021, 3, 21, 20, 30, tzinfo=UTC), "2021-W11"),
        # Mon 1 Jan 2029: the first hour of a new year is the first hour of 2029-W01
        (KIRITIMATI, datetime(2028, 12, 31, 10, 0, tzinfo=UTC), "2028-W52"),
        (UTC_MINUS_12, datetime(2029, 1, 1, 12, 0, tzinfo=UTC), "2028-W52"),
    ],
    ids=[
        "chicago-spring",
        "chicago-fall",
        "london-spring",
        "tehran-missing-monday",
        "new-year-+14",
        "new-year-12",
    ],
)
def test_a_week_has_ended_from_its_local_monday_across_dst_and_new_year(zone, end, period):
    """§2 in the zone's clock: the week is over from the instant its Monday begins, not an hour
    either side of it on DST weeks, nor on a Monday 1 January."""
    assert last_ended_period(end, ZoneInfo(zone)) == (period, end)
    assert last_ended_period(end - SECOND, ZoneInfo(zone))[0] != period


def test_the_beat_twice_an_hour_and_late_starts_one_close_per_zone_end(far_workers, beat):
    """docs/architecture.md ("Beat's schedule") and schedule.py: a close is started once while unfinished,
    is not started again once done after the period's end, and is started again when a later
    zone finishes the week; across the 26 hours between UTC+14 and UTC-12."""
    # when the beat fires at 10:05 UTC on Sunday, and again a minute later (a duplicate)
    first = beat(W53_ENDS[KIRITIMATI] + timedelta(minutes=5))
    again = beat(W53_ENDS[KIRITIMATI] + timedelta(minutes=6))
    # then W52 (never closed) and W53 are started once each
    assert started(first) == [(W52, True), (W53, True)]
    assert again == [(W52, False, first[0][2]), (W53, False, first[1][2])]
    Job.objects.filter(pk__in=[pk for _, _, pk in first]).update(status=JobStatus.DONE)
    # when the beat is hours late: still nothing new while UTC-12 is in W53
    assert beat(W53_ENDS[UTC_MINUS_12] - timedelta(minutes=1)) == []
    # when UTC-12 finishes the week, and the beat is 55 minutes late
    late = beat(W53_ENDS[UTC_MINUS_12] + timedelta(minutes=55))
    # then W53 is closed once more, for the zones that had not finished it
    assert started(late) == [(W53, True)]
    Job.objects.filter(pk=late[0][2]).update(status=JobStatus.DONE)
    assert beat(W53_ENDS[UTC_MINUS_12] + timedelta(hours=5)) == []
    assert Job.objects.filter(kind="close_period", params__period=W53).count() == 2
    # and the close builds both workers' W53 timesheets
    assert sorted(workers_to_close(W53)) == sorted(worker.pk for worker in far_workers.values())


# The daily invoicing: a period over everywhere for a day ---------------------------------------


def test_week_53_is_invoiced_a_day_after_it_ends_at_utc_minus_12(far_workers, monkeypatch):
    """docs/pay-rules.md (invoices after approvals close): Kiritimati's approved W53 waits for
    the last zone's Monday + 24 h, then the 06:00 UTC beat starts its invoicing once."""
    # given Kiritimati's W53 approved on Sun 3 Jan 2027, once the week is over there
    worker = far_workers[KIRITIMATI]
    monkeypatch.setattr("django.utils.timezone.now", lambda: W53_ENDS[KIRITIMATI] + timedelta(hours=1))
    timesheet, _ = timesheet_get_or_create(worker=worker, period=W53)
    timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
    Timesheet.objects.filter(pk=timesheet.pk).update(status=TimesheetStatus.APPROVED)
    due = W53_ENDS[UTC_MINUS_12] + timedelta(days=1)
    # then
    assert periods_to_invoice(due - SECOND) == []
    assert periods_to_invoice(due) == [W53]
    # the beat of Tue 5 Jan 06:00 UTC is early; Wed 6 Jan's starts it, a duplicate finds it
    assert invoice_ended_periods(now=datetime(2027, 1, 5, 6, 0, tzinfo=UTC)) == []
    first = invoice_ended_periods(now=datetime(2027, 1, 6, 6, 0, tzinfo=UTC))
    second = invoice_ended_periods(now=datetime(2027, 1, 6, 6, 1, tzinfo=UTC))
    assert [(s.period, s.created) for s in first] == [(W53, True)]
    assert [(s.period, s.created, s.job.pk) for s in second] == [(W53, False, first[0].job.pk)]


# Reminders at the edges of the world -------------------------------------------------------------


def test_submit_reminders_follow_each_workers_week_end_over_the_year_end(far_workers):
    """Reminders (once per timesheet, stage and recipient) go out when the week is over in the
    worker's zone: Kiritimati's on Sunday, UTC-12's 26 hours later; the dates are local."""
    # given both W53 timesheets open
    timesheets_refresh(workers=far_workers.values(), period=W53)
    kiritimati, minus_12 = far_workers[KIRITIMATI], far_workers[UTC_MINUS_12]
    # when the daily run comes one second after Kiritimati's Monday
    first = reminders_send(now=W53_ENDS[KIRITIMATI] + SECOND)
    # then only Kiritimati's contractor is asked, with the local dates of the week
    assert first[STAGE_SUBMIT] == 1
    assert [m.to for m in mail.outbox] == [[kiritimati.email]]
    assert "Mon 28 Dec to Sun 03 Jan 2027" in mail.outbox[0].body
    assert "30.00 USD" in mail.outbox[0].body
    # when the run comes once UTC-12 has finished the week too
    second = reminders_send(now=W53_ENDS[UTC_MINUS_12] + SECOND)
    # then UTC-12's contractor is asked, and Kiritimati's not again
    assert second[STAGE_SUBMIT] == 1
    assert [m.to for m in mail.outbox[1:]] == [[minus_12.email]]


# Adjustments' next open period over 2026-W53 -----------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "now", "current"),
    [
        # Sun 3 Jan 23:59:59 in Kiritimati: still W53 there
        (KIRITIMATI, W53_ENDS[KIRITIMATI] - SECOND, W53),
        # Sun 3 Jan 23:59:59 at UTC-12, a day later in UTC: still W53 there
        (UTC_MINUS_12, W53_ENDS[UTC_MINUS_12] - SECOND, W53),
        # the instant Kiritimati starts 2027-W01, UTC-12 is on Saturday evening of W53
        (UTC_MINUS_12, W53_ENDS[KIRITIMATI], W53),
        (KIRITIMATI, W53_ENDS[KIRITIMATI], NEXT_W01),
    ],
    ids=["kiritimati-last-second", "utc-12-last-second", "utc-12-when-kiritimati-moves-on", "kiritimati-w01"],
)
def test_an_adjustment_lands_on_week_53_or_past_it_in_the_workers_zone(
    far_workers, finance, zone, now, current
):
    """§6 (an adjustment goes to the worker's next open period) and docs/pay-rules.md (the
    current period in the worker's zone if open, else the first later one not locked), across
    the ISO year's 53rd week at both extreme offsets."""
    worker = far_workers[zone]
    # the current week, open
    assert next_open_period(worker, now) == current
    # once the current week is submitted, the next one; and the close of that week builds its timesheet
    timesheet, _ = timesheet_get_or_create(worker=worker, period=current)
    give_time(timesheet)  # an hour from its start: never empty; submitted before its end, confirmed
    timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit", now=now, confirm=True)
    following = NEXT_W01 if current == W53 else "2027-W02"
    adjustment = adjustment_create(
        actor=finance, worker=worker, amount=Decimal("5.00"), currency="USD", reason="Bonus.", now=now
    )
    assert adjustment.applies_to_period == following
    assert worker.pk in workers_to_close(following)


# Rates: one currency per worker, signed weeks never move ---------------------------------------


def test_a_rate_in_a_currency_changed_meanwhile_is_refused(world):
    """§3: all rates of one worker share one currency, the contract currency. The currency
    change is allowed while the worker has no rates; a rate request that read the worker
    before that change committed must not then add a rate in the old currency (adjustments
    re-check under the worker's lock for the same reason: docs/pay-rules.md)."""
    # given the caller's copy of the worker, read before finance changed the currency
    stale = Worker.objects.get(pk=world.worker_a.pk)
    worker_update(actor=world.finance, worker=world.worker_a, changes={"currency": "EUR"})
    # when a rate is added in the currency the caller saw
    with pytest.raises(InvalidInput, match="contract currency, EUR"):
        rate_create(
            actor=world.finance,
            fields={
                "worker": stale,
                "hourly_rate": Decimal("15.00"),
                "currency": stale.currency,
                "effective_from": date(2026, 1, 1),
            },
        )
    # then the worker has no rate in a currency other than the contract's
    assert not Rate.objects.filter(worker=world.worker_a).exclude(currency="EUR").exists()


def test_deleting_the_rate_under_a_submitted_week_leaves_it_approvable_and_invoiced_as_signed(
    world, frozen_now, client_for
):
    """§6 and docs/pay-rules.md: submit copies the lines; a rate deleted afterwards (rates/
    DELETE) neither blocks the approval as unpriced time nor changes the invoice."""
    # given W45 submitted: the world's session, 2 h at 15.00 = 30.00
    rate = RateFactory(worker=world.worker_a)
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period="2026-W45")
    timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    # when finance deletes the rate
    response = client_for(world.finance).delete(f"{API}/rates/{rate.pk}/")
    assert response.status_code == 204
    # then the manager still approves, and the invoice bills what was signed
    approved = client_for(world.manager_a).post(
        f"{API}/timesheets/{timesheet.pk}/approve/", {}, format="json"
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["total"] == "30.00"
    invoice, _ = invoice_issue(timesheet=timesheet, actor=world.finance)
    assert invoice.subtotal == Decimal("30.00")
    assert Invoice.objects.get(pk=invoice.pk).lines.get().amount == Decimal("30.00")


def test_a_rate_from_mid_week_reprices_the_open_week_but_not_the_signed_one(far_workers, finance):
    """§3 (a rate applies from local midnight of its day) and §6 (signed lines are frozen): a
    rate from Thu 31 Dec in Kiritimati splits its open W53; UTC-12's submitted W53 stays."""
    kiritimati, minus_12 = far_workers[KIRITIMATI], far_workers[UTC_MINUS_12]
    project = kiritimati.projects.get()
    # given a session from Wed 30 Dec 23:00 to Thu 31 Dec 01:00 local, besides Tuesday's 2 h
    SessionFactory(
        worker=kiritimati,
        project=project,
        started_at=at(KIRITIMATI, 2026, 12, 30, 23),
        ended_at=at(KIRITIMATI, 2026, 12, 31, 1),
    )
    timesheets_refresh(workers=far_workers.values(), period=W53)
    signed, _ = timesheet_get_or_create(worker=minus_12, period=W53)
    timesheet_transition(
        actor=minus_12.user, timesheet=signed, action="submit", now=W53_ENDS[UTC_MINUS_12] + SECOND
    )
    # when finance adds 20.00 from Thu 31 Dec for both
    for worker in far_workers.values():
        rate_create(
            actor=finance,
            fields={
                "worker": worker,
                "hourly_rate": Decimal("20.00"),
                "currency": "USD",
                "effective_from": date(2026, 12, 31),
            },
        )
    timesheets_refresh(workers=far_workers.values(), period=W53)
    # then Kiritimati's open week: Tue 2 h + Wed 23:00-24:00 at 15.00, Thu 00:00-01:00 at 20.00
    lines = [
        (line.hourly_rate, line.seconds, line.amount)
        for line in timesheet_figures(Timesheet.objects.get(worker=kiritimati, period=W53)).lines
    ]
    assert lines == [
        (Decimal("15.0000"), 3 * 3600, Decimal("45.00")),
        (Decimal("20.0000"), 3600, Decimal("20.00")),
    ]
    assert Timesheet.objects.get(worker=kiritimati, period=W53).total == Decimal("65.00")
    # and UTC-12's signed week keeps 2 h at 15.00
    assert Timesheet.objects.get(pk=signed.pk).total == Decimal("30.00")


# Forgotten timers, closed projects and locked weeks -----------------------------------------------


@pytest.mark.parametrize("change", ["project_inactive", "worker_unassigned", "worker_inactive"])
def test_a_forgotten_timer_cut_at_16_h_can_be_corrected_after_its_project_closed(world, change):
    """docs/pay-rules.md: a timer stopped after MAX_SESSION_HOURS ends at exactly that length,
    "marked needs_review: hours are never silently inflated", and a running timer "can always
    be stopped" if its project was closed or its worker taken off it or made inactive. The
    forgotten-timer mail says "If you worked a different time, correct it" with the edit link;
    shortening the session to the real time logs no new time, so it must be allowed as the
    stop is."""
    # given a timer started Mon 16 Nov 09:00 Chicago, then the project closed while it ran
    started_at = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    timer = SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=started_at,
        ended_at=None,
        source=SessionSource.TIMER,
    )
    if change == "project_inactive":
        world.project_a.is_active = False
        world.project_a.save()
    elif change == "worker_unassigned":
        world.project_a.workers.remove(world.worker_a)
    else:
        world.worker_a.is_active = False
        world.worker_a.save()
    now = started_at + timedelta(hours=20)
    forgotten_timers_stop(now=now)
    assert "correct it" in mail.outbox[0].body
    # when the contractor corrects it to the 3 hours really worked
    session_update(
        actor=world.contractor_a,
        session=LabellingSession.objects.get(pk=timer.pk),
        changes={"ended_at": started_at + timedelta(hours=3)},
        now=now,
    )
    # then the week pays 3 h, not 16
    assert LabellingSession.objects.get(pk=timer.pk).duration_seconds == 3 * 3600


def test_a_timer_running_over_the_week_end_blocks_the_next_week_until_the_job_cuts_it(world):
    """§6 with §1: the forgotten-timer job never ends a timer inside a signed week, because a
    running timer is a blocking problem of every week it reaches; once cut at 16 h the next
    week is submitted with the piece after its Monday (§2: split at the boundary)."""
    # given 15.00/h and a timer from Sun 15 Nov 20:00 Chicago (W46), forgotten
    RateFactory(worker=world.worker_a)
    started_at = at(CHICAGO, 2026, 11, 15, 20)
    SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=started_at,
        ended_at=None,
        source=SessionSource.TIMER,
    )
    w47, _ = timesheet_get_or_create(worker=world.worker_a, period="2026-W47")
    # when the contractor submits W47 on Monday 11:00 while the timer runs
    with pytest.raises(Conflict, match="still running"):
        timesheet_transition(
            actor=world.contractor_a, timesheet=w47, action="submit", now=at(CHICAGO, 2026, 11, 16, 11)
        )
    # when the job cuts it at Mon 12:00 (16 h) and the contractor submits again
    forgotten_timers_stop(now=at(CHICAGO, 2026, 11, 16, 12, 5))
    submitted = timesheet_transition(
        actor=world.contractor_a,
        timesheet=w47,
        action="submit",
        now=at(CHICAGO, 2026, 11, 16, 12, 10),
        confirm=True,  # on its Monday: the rest of the week locks
    )
    # then W47 holds Mon 00:00-12:00: 12 h x 15.00 = 180.00, flagged for review; W46 the 4 h before
    assert submitted.total == Decimal("180.00")
    problems = timesheet_figures(submitted).problems
    assert "needs_review" in {p.code for p in problems}
    assert not [p for p in problems if p.blocking]
    w46 = timesheet_figures(timesheet_get_or_create(worker=world.worker_a, period="2026-W46")[0])
    assert w46.total_seconds == 4 * 3600


# People: contract changes at the edges ------------------------------------------------------------


def test_the_api_refuses_a_zone_change_under_a_signed_week_and_allows_it_for_another_worker(
    world, frozen_now, client_for
):
    """docs/pay-rules.md (a worker's time zone is fixed once a week is signed), through workers/:
    409 naming the week, nothing changes; a worker with only open weeks moves, and their open
    week takes the new zone's bounds."""
    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_a2)
    signed, _ = timesheet_get_or_create(worker=world.worker_a, period="2026-W45")
    timesheet_transition(actor=world.contractor_a, timesheet=signed, action="submit")
    open_week, _ = timesheet_get_or_create(worker=world.worker_a2, period="2026-W45")
    client = client_for(world.finance)
    # when
    refused = client.patch(f"{API}/workers/{world.worker_a.pk}/", {"time_zone": KIRITIMATI}, format="json")
    moved = client.patch(f"{API}/workers/{world.worker_a2.pk}/", {"time_zone": KIRITIMATI}, format="json")
    # then
    assert refused.status_code == 409, refused.content
    assert "2026-W45 is already submitted" in json.dumps(refused.json())
    assert Worker.objects.get(pk=world.worker_a.pk).time_zone == CHICAGO
    assert moved.status_code == 200, moved.content
    open_week.refresh_from_db()
    assert open_week.period_start == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)  # Mon 2 Nov 00:00 +14


def test_an_adjustment_for_a_deactivated_worker_reaches_a_timesheet(world, frozen_now):
    """docs/pay-rules.md (the close builds a timesheet for every worker with time or an
    adjustment): back pay for a worker made inactive lands on the current week, which the
    close builds though the worker logs nothing."""
    # given contractor A made inactive
    worker_update(actor=world.finance, worker=world.worker_a, changes={"is_active": False})
    # when finance adds back pay
    adjustment = adjustment_create(
        actor=world.finance,
        worker=world.worker_a,
        amount=Decimal("40.00"),
        currency="USD",
        reason="Back pay.",
    )
    # then it is on this week (W47 at NOW), the close builds that week, and the total carries it
    assert adjustment.applies_to_period == "2026-W47"
    assert world.worker_a.pk in workers_to_close("2026-W47")
    timesheets_refresh(workers=[world.worker_a], period="2026-W47")
    assert Timesheet.objects.get(worker=world.worker_a, period="2026-W47").total == Decimal("40.00")
    assert Adjustment.objects.filter(worker=world.worker_a).count() == 1
