"""Concurrent requests on real PostgreSQL transactions: pairs the other concurrency tests leave out.

Each test releases two (or three) threads together with a barrier (`race`), for several
rounds, each round on a fresh worker so the rounds do not share rows. After both, the
stored state must be one the rules allow whatever the order: a session in a submitted week
is counted by its frozen lines, an adjustment lands on a week whose total includes it,
one invoice per timesheet with contiguous numbers, and no request fails with a database
error (a deadlock is acceptable only as a clean refusal).
"""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from core.errors import Conflict, InvalidInput
from core.periods import iso_week_key, period_bounds
from payroll.models import Adjustment, Invoice, InvoiceCounter, Rate, Timesheet, TimesheetEvent
from payroll.selectors.pricing import price_worker_period
from payroll.services import close as close_services
from payroll.services.adjustments import adjustment_create
from payroll.services.close import timesheets_refresh
from payroll.services.invoice_payments import invoice_pay, invoice_void
from payroll.services.invoices import invoices_issue_batch
from payroll.services.rates import rate_create, rate_delete
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import (
    ProjectFactory,
    RateFactory,
    SessionFactory,
    TeamFactory,
    UserFactory,
    WorkerFactory,
)
from tests.trainers.test_concurrency import race
from trainers.models import LabellingSession, Role, User, Worker
from trainers.services.people import worker_update
from trainers.services.sessions import session_create, session_delete, session_update

ROUNDS = 8
# Mon 2026-11-02 15:00 UTC = 09:00 in Chicago (2026-W45); "now" is Fri 2026-11-20 12:00 UTC (W47).
MONDAY = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
THIS_MONDAY = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
W45, W47, W48 = "2026-W45", "2026-W47", "2026-W48"


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC (threads see the same clock)."""


@pytest.fixture
def people(transactional_db) -> dict[str, User]:
    """Two managers of one team, finance and an admin."""
    managers = [UserFactory(role=Role.MANAGER) for _ in range(2)]
    return {
        "manager": managers[0],
        "manager2": managers[1],
        "team": TeamFactory(managers=managers),
        "finance": UserFactory(role=Role.FINANCE),
        "admin": UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True),
    }


def new_worker(people: dict[str, Any], *, rate: bool = True, **fields: Any) -> Worker:
    """A fresh contractor in the team, on a project of their own, with a 15.00 default rate."""
    worker = WorkerFactory(team=people["team"], **fields)
    ProjectFactory(workers=[worker])
    if rate:
        RateFactory(worker=worker)
    return worker


def work(worker: Worker, start: datetime, hours: int = 2) -> LabellingSession:
    return SessionFactory(
        worker=worker,
        project=worker.projects.get(),
        started_at=start,
        ended_at=start + timedelta(hours=hours),
    )


def db_errors(outcomes: list[object]) -> list[object]:
    """Outcomes that are database errors (a deadlock, a serialization failure): a 500 in the API."""
    return [o for o in outcomes if isinstance(o, DatabaseError)]


def only(outcomes: list[object], *allowed: type) -> None:
    """Every outcome is a result or one of the clean refusals; never a database error."""
    assert not db_errors(outcomes), outcomes
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, allowed), outcomes


def stored_figures_match_sessions(timesheet: Timesheet) -> Timesheet:
    """Total = stored lines + adjustments, and the stored lines are the sessions' as they are."""
    timesheet = Timesheet.objects.select_related("worker").get(pk=timesheet.pk)
    stored = sorted(timesheet.lines.values_list("project_id", "kind", "hourly_rate", "seconds", "amount"))
    adjustments = Adjustment.objects.filter(worker=timesheet.worker, applies_to_period=timesheet.period)
    assert timesheet.total == sum((amount for *_, amount in stored), Decimal(0)) + sum(
        (a.amount for a in adjustments), Decimal(0)
    )
    fresh = price_worker_period(timesheet.worker, timesheet.period)
    assert stored == sorted((ln.project_id, ln.kind, ln.rate, ln.seconds, ln.amount) for ln in fresh.lines)
    return timesheet


def events_follow_status(timesheet: Timesheet) -> None:
    """The event chain, numbered 1..n, is unbroken and ends at the stored status."""
    status = "open"
    events = TimesheetEvent.objects.filter(timesheet=timesheet).order_by("sequence")
    for expected, (sequence, from_status, to_status) in enumerate(
        events.values_list("sequence", "from_status", "to_status"), start=1
    ):
        assert (sequence, from_status) == (expected, status)
        status = to_status
    assert Timesheet.objects.get(pk=timesheet.pk).status == status


def submit(worker: Worker, timesheet: Timesheet) -> Callable[[], object]:
    """The contractor's submit; confirmed, as a week not over yet needs (the races are of locks)."""
    return lambda: timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit", confirm=True)


def close_chunk(worker_ids: list[int], period: str) -> Callable[[], object]:
    """A close chunk as the task runs it: workers read by id, one transaction, keys checked."""

    def run() -> object:
        with transaction.atomic():
            changed = timesheets_refresh(workers=Worker.objects.filter(pk__any_of=worker_ids), period=period)
            connection.check_constraints()
            return changed

    return run


def submitted_and_approved(people: dict[str, Any], worker: Worker, period_start: datetime) -> Timesheet:
    work(worker, period_start)
    timesheet, _ = timesheet_get_or_create(worker=worker, period=iso_week_key(period_start, worker.zone))
    timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
    return timesheet_transition(actor=people["manager"], timesheet=timesheet, action="approve")


# Sessions racing the submit of their week ---------------------------------------------------


@pytest.mark.parametrize("write", ["create", "delete", "move in", "move out"])
def test_a_session_write_racing_the_submit_of_its_week_is_counted_or_refused(people, write):
    """Invariant: after both, the session is in the frozen lines or the write was refused (409).

    `move in` drags a session of the next (open) week into the week being submitted;
    `move out` drags one out of it: both touch the submitted week.
    """
    seen = {"landed": 0, "refused": 0}
    for _ in range(ROUNDS):
        worker = new_worker(people)
        kept = work(worker, MONDAY)
        other = work(worker, MONDAY + timedelta(days=1))
        later = work(worker, MONDAY + timedelta(days=9))
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
        write_it = {
            "create": lambda w=worker: session_create(
                actor=w.user,
                worker=w,
                project=w.projects.get(),
                started_at=MONDAY + timedelta(days=2),
                ended_at=MONDAY + timedelta(days=2, hours=1),
            ),
            "delete": lambda s=other, w=worker: session_delete(actor=w.user, session=s),
            "move in": lambda s=later, w=worker: session_update(
                actor=w.user,
                session=s,
                changes={
                    "started_at": s.started_at - timedelta(days=7),
                    "ended_at": s.ended_at - timedelta(days=7),
                },
            ),
            "move out": lambda s=other, w=worker: session_update(
                actor=w.user,
                session=s,
                changes={
                    "started_at": s.started_at + timedelta(days=14),
                    "ended_at": s.ended_at + timedelta(days=14),
                },
            ),
        }[write]
        submitted, written = race(submit(worker, timesheet), write_it)
        only([submitted, written], Conflict)
        assert isinstance(submitted, Timesheet), submitted
        seen["refused" if isinstance(written, Conflict) else "landed"] += 1
        stored = stored_figures_match_sessions(timesheet)
        assert stored.status == "submitted"
        assert LabellingSession.objects.filter(pk=kept.pk).exists()
    assert sum(seen.values()) == ROUNDS, seen


# Decisions racing each other and the invoicing ----------------------------------------------


def test_approve_racing_reject_or_a_second_manager_one_decision_stands(people):
    """Invariant: exactly one decision lands, the other is a 409; one event per transition."""
    for round_number in range(ROUNDS):
        worker = new_worker(people)
        work(worker, MONDAY)
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
        timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
        action, note = ("approve", "") if round_number % 2 else ("reject", "Fix Tuesday.")
        outcomes = race(
            lambda t=timesheet: timesheet_transition(actor=people["manager"], timesheet=t, action="approve"),
            lambda t=timesheet, a=action, n=note: timesheet_transition(
                actor=people["manager2"], timesheet=t, action=a, note=n
            ),
        )
        only(outcomes, Conflict)
        assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
        events_follow_status(timesheet)
        stored_figures_match_sessions(timesheet)


def test_approve_racing_reopen_never_leaves_a_broken_event_chain(people):
    """Invariant: reopen lands only after the approval (then the week is open again), else 409."""
    for _ in range(ROUNDS):
        worker = new_worker(people)
        work(worker, MONDAY)
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
        timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
        approved, reopened = race(
            lambda t=timesheet: timesheet_transition(actor=people["manager"], timesheet=t, action="approve"),
            lambda t=timesheet: timesheet_transition(
                actor=people["finance"], timesheet=t, action="reopen", note="Wrong project."
            ),
        )
        only([approved, reopened], Conflict)
        assert isinstance(approved, Timesheet)
        expected = "approved" if isinstance(reopened, Conflict) else "open"
        assert Timesheet.objects.get(pk=timesheet.pk).status == expected
        events_follow_status(timesheet)


def test_approve_or_reopen_racing_an_invoicing_chunk_invoices_only_what_is_approved(people):
    """Invariant: an invoice exists iff the timesheet ended `invoiced`, and it copies the total.

    The chunk also holds another worker's approved timesheet, so it locks several workers.
    """
    for round_number in range(ROUNDS):
        worker, neighbour = new_worker(people), new_worker(people)
        done = submitted_and_approved(people, neighbour, MONDAY)
        if round_number % 2:
            timesheet = submitted_and_approved(people, worker, MONDAY)
            decide = lambda t=timesheet: timesheet_transition(  # noqa: E731
                actor=people["finance"], timesheet=t, action="reopen", note="Wrong project."
            )
        else:
            work(worker, MONDAY)
            timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
            timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
            decide = lambda t=timesheet: timesheet_transition(  # noqa: E731
                actor=people["manager"], timesheet=t, action="approve"
            )
        ids = sorted([timesheet.pk, done.pk])
        decided, issued = race(
            decide, lambda ids=ids: invoices_issue_batch(timesheet_ids=ids, actor=people["finance"])
        )
        only([decided, issued], Conflict)
        for each in (timesheet, done):
            stored = Timesheet.objects.get(pk=each.pk)
            invoices = list(Invoice.objects.filter(timesheet=stored))
            assert (stored.status == "invoiced") == (len(invoices) == 1), (decided, issued)
            if invoices:
                assert invoices[0].subtotal == stored.total
            events_follow_status(each)
    numbers = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))


# Adjustments, rates and contract terms racing the submit ----------------------------------


def test_an_adjustment_racing_the_submit_of_its_week_lands_where_a_total_counts_it(people):
    """Invariant: before the submit it lands on W47 (in the frozen total), after it on W48."""
    seen = {W47: 0, W48: 0}
    for _ in range(ROUNDS):
        worker = new_worker(people)
        work(worker, THIS_MONDAY)
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W47)
        submitted, adjusted = race(
            submit(worker, timesheet),
            lambda w=worker: adjustment_create(
                actor=people["finance"], worker=w, amount=Decimal("7.50"), currency="USD", reason="Bonus."
            ),
        )
        only([submitted, adjusted])
        seen[adjusted.applies_to_period] += 1
        stored = stored_figures_match_sessions(timesheet)
        assert stored.total == Decimal("30.00") + (
            Decimal("7.50") if adjusted.applies_to_period == W47 else 0
        )
    assert sum(seen.values()) == ROUNDS, seen


@pytest.mark.parametrize("change", ["create", "delete"])
def test_a_rate_change_racing_a_submit_freezes_one_consistent_set_of_rates(people, change):
    """Invariant: every frozen line uses the rates before the change, or every one after it.

    The week has sessions on two projects: a project rate of 20.00 for one of them is added
    (or deleted) as the contractor submits.
    """
    for _ in range(ROUNDS):
        worker = new_worker(people)
        second = ProjectFactory(workers=[worker])
        first = worker.projects.exclude(pk=second.pk).get()
        SessionFactory(worker=worker, project=first, started_at=MONDAY, ended_at=MONDAY + timedelta(hours=2))
        late = MONDAY + timedelta(days=1)
        SessionFactory(worker=worker, project=second, started_at=late, ended_at=late + timedelta(hours=2))
        scoped = None
        if change == "delete":
            scoped = RateFactory(worker=worker, project=second, hourly_rate=Decimal("20.00"))
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
        changing = (
            (
                lambda w=worker, p=second: rate_create(
                    actor=people["finance"],
                    fields={
                        "worker": w,
                        "project": p,
                        "hourly_rate": Decimal("20.00"),
                        "currency": "USD",
                        "effective_from": date(2026, 1, 1),
                    },
                )
            )
            if change == "create"
            else (lambda r=scoped: rate_delete(actor=people["finance"], rate=r))
        )
        submitted, changed = race(submit(worker, timesheet), changing)
        only([submitted, changed])
        stored = Timesheet.objects.get(pk=timesheet.pk)
        rates = dict(stored.lines.values_list("project_id", "hourly_rate"))
        assert rates[first.pk] == Decimal("15.00")
        assert rates[second.pk] in (Decimal("15.00"), Decimal("20.00"))
        assert stored.total == sum(stored.lines.values_list("amount", flat=True))


# No "submit" rival: a week is never submitted empty, and a week with something to pay
# holds money in the old currency (a rate, an adjustment), which refuses the change alone.
@pytest.mark.parametrize("rival", ["adjustment", "rate"])
def test_a_currency_change_racing_money_in_the_old_currency_never_mixes_currencies(people, rival):
    """Invariant: the change lands and the money is in the new currency, or it is refused (409).

    The worker has no rates (so the change is allowed) and an empty week; the rival is a
    USD adjustment, or a USD rate.
    """
    for _ in range(ROUNDS):
        worker = new_worker(people, rate=False)
        timesheet_get_or_create(worker=worker, period=W45)
        rivals = {
            "adjustment": lambda w=worker: adjustment_create(
                actor=people["finance"], worker=w, amount=Decimal("5.00"), currency="USD", reason="Bonus."
            ),
            "rate": lambda w=worker: rate_create(
                actor=people["finance"],
                fields={
                    "worker": w,
                    "hourly_rate": Decimal("15.00"),
                    "currency": "USD",
                    "effective_from": date(2026, 1, 1),
                },
            ),
        }
        changed, other = race(
            lambda w=worker: worker_update(actor=people["finance"], worker=w, changes={"currency": "EUR"}),
            rivals[rival],
        )
        only([changed, other], Conflict, InvalidInput)
        worker.refresh_from_db()
        if rival == "submit":  # a submit after the change is in the new currency
            assert not isinstance(other, Exception), other
        else:  # money in USD after the change is refused, and the change after it
            assert isinstance(changed, Conflict) != isinstance(other, Exception), (changed, other)
        if isinstance(changed, Conflict):
            assert worker.currency == "USD"
        currencies = {
            *Adjustment.objects.filter(worker=worker).values_list("currency", flat=True),
            *Rate.objects.filter(worker=worker).values_list("currency", flat=True),
            *Timesheet.objects.filter(worker=worker).values_list("currency", flat=True),
        }
        assert currencies == {worker.currency}, (changed, other)


@pytest.mark.parametrize("rival", ["submit", "adjustment", "rate"])
def test_a_zone_change_racing_a_submit_adjustment_or_rate_keeps_weeks_in_one_zone(people, rival):
    """Invariant: the change is refused once a week is signed; otherwise every unsigned week has the
    new zone's bounds, and a submitted week's lines are priced in the zone it ended with."""
    for _ in range(ROUNDS):
        worker = new_worker(people)
        project = work(worker, MONDAY).project
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
        rivals = {
            "submit": submit(worker, timesheet),
            "adjustment": lambda w=worker: adjustment_create(
                actor=people["finance"], worker=w, amount=Decimal("5.00"), currency="USD", reason="Bonus."
            ),
            "rate": lambda w=worker, p=project: rate_create(
                actor=people["finance"],
                fields={
                    "worker": w,
                    "project": p,
                    "hourly_rate": Decimal("20.00"),
                    "currency": "USD",
                    "effective_from": date(2026, 11, 3),
                },
            ),
        }
        changed, other = race(
            lambda w=worker: worker_update(
                actor=people["finance"], worker=w, changes={"time_zone": "Asia/Kolkata"}
            ),
            rivals[rival],
        )
        only([changed, other], Conflict)
        assert not isinstance(other, Exception), other
        worker.refresh_from_db()
        for each in Timesheet.objects.filter(worker=worker):
            if each.status == "open":
                assert (each.period_start, each.period_end) == period_bounds(each.period, worker.zone)
            else:
                stored_figures_match_sessions(each)
        if rival == "submit":
            assert isinstance(changed, Conflict) == (worker.time_zone == "America/Chicago")


# The close racing submits and contract changes ----------------------------------------------


def test_a_close_chunk_racing_the_submit_of_one_of_its_timesheets(people):
    """Invariant: the submitted figures stand, the chunk builds the others, no deadlock."""
    for _ in range(ROUNDS):
        workers = [new_worker(people) for _ in range(4)]
        for worker in workers:
            work(worker, MONDAY)
        target = workers[2]
        timesheet, _ = timesheet_get_or_create(worker=target, period=W45)
        timesheet_get_or_create(worker=workers[3], period=W45)
        closed, submitted = race(close_chunk([w.pk for w in workers], W45), submit(target, timesheet))
        only([closed, submitted])
        assert stored_figures_match_sessions(timesheet).status == "submitted"
        for worker in workers:
            stored_figures_match_sessions(Timesheet.objects.get(worker=worker, period=W45))


@pytest.mark.parametrize("change", ["time_zone", "currency"])
def test_a_close_chunk_racing_a_contract_change_leaves_open_weeks_on_the_new_terms(people, change):
    """Invariant (pay-rules §3, §7): open weeks follow a currency or zone change.

    The chunk reads the workers, prices them and inserts the missing timesheets with the
    zone's bounds and the currency it read, without the workers' row locks; a change that
    commits in between updates the unsigned timesheets it can see, not the one the chunk is
    inserting. The new open timesheet keeps the old zone's bounds (or currency).
    """
    broken = 0
    for _ in range(ROUNDS * 2):
        worker = new_worker(people, rate=False)
        work(worker, MONDAY)
        new_value = {"time_zone": "Asia/Kolkata", "currency": "EUR"}[change]
        closed, changed = race(
            close_chunk([worker.pk], W45),
            lambda w=worker, v=new_value: worker_update(
                actor=people["finance"], worker=w, changes={change: v}
            ),
        )
        only([closed, changed])
        worker.refresh_from_db()
        timesheet = Timesheet.objects.get(worker=worker, period=W45)
        terms = (timesheet.period_start, timesheet.period_end, timesheet.currency)
        broken += terms != (*period_bounds(W45, worker.zone), worker.currency)
    assert broken == 0, f"{broken} of {ROUNDS * 2} rounds left an open week on the old terms"


# Invoices ----------------------------------------------------------------------------------


def test_pay_racing_void_of_the_same_invoice_one_wins(people):
    """Invariant: an invoice ends paid (with its reference) or void (with its reason), never both."""
    for _ in range(ROUNDS):
        worker = new_worker(people)
        timesheet = submitted_and_approved(people, worker, MONDAY)
        invoices_issue_batch(timesheet_ids=[timesheet.pk], actor=people["finance"])
        invoice = Invoice.objects.get(timesheet=timesheet)
        paid, voided = race(
            lambda i=invoice: invoice_pay(
                actor=people["finance"], invoice=i, paid_on=date(2026, 11, 20), payment_reference="TX-1"
            ),
            lambda i=invoice: invoice_void(actor=people["admin"], invoice=i, reason="Duplicate."),
        )
        only([paid, voided], Conflict)
        assert sum(isinstance(o, Conflict) for o in (paid, voided)) == 1
        invoice.refresh_from_db()
        if invoice.status == "paid":
            assert (invoice.payment_reference, invoice.void_reason) == ("TX-1", "")
        else:
            assert (invoice.status, invoice.paid_on, invoice.payment_reference) == ("void", None, "")


def test_invoicing_batches_over_overlapping_timesheets_issue_one_invoice_each(people):
    """Invariant: one invoice per timesheet, numbers contiguous, events one per invoice."""
    for _ in range(ROUNDS // 2):
        timesheets = [submitted_and_approved(people, new_worker(people), MONDAY) for _ in range(6)]
        ids = [t.pk for t in timesheets]
        outcomes = race(
            lambda ids=ids: invoices_issue_batch(timesheet_ids=ids[:4], actor=people["finance"]),
            lambda ids=ids: invoices_issue_batch(timesheet_ids=ids[2:], actor=None),
            lambda ids=ids: invoices_issue_batch(timesheet_ids=ids[::-1], actor=people["admin"]),
        )
        only(outcomes)
        assert sum(outcomes) == 6, outcomes
        for timesheet in timesheets:
            assert Invoice.objects.filter(timesheet=timesheet).count() == 1
            assert TimesheetEvent.objects.filter(timesheet=timesheet, to_status="invoiced").count() == 1
    numbers = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    assert InvoiceCounter.objects.get(year=2026).last_sequence == len(numbers)


# Three at once: a close chunk, a submit and an invoicing chunk --------------------------------


@pytest.fixture
def slow_close(monkeypatch) -> Iterator[threading.Event]:
    """Hold a close chunk between locking its open timesheets and writing them (a big chunk's COPY)."""
    locked = threading.Event()
    store = close_services._store_changed

    def held(*args: Any, **kwargs: Any) -> int:
        locked.set()
        time.sleep(0.3)
        return store(*args, **kwargs)

    monkeypatch.setattr(close_services, "_store_changed", held)
    yield locked


def staggered(*steps: tuple[Callable[[], object], threading.Event | None, float]) -> list[object]:
    """Run each action in its own thread, once its event is set (if any) and its delay passed."""
    outcomes: list[object] = [None] * len(steps)

    def run(index: int, action: Callable[[], object], after: threading.Event | None, delay: float) -> None:
        try:
            if after is not None:
                after.wait(5)
            time.sleep(delay)
            outcomes[index] = action()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *step)) for i, step in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_a_close_a_submit_and_an_invoicing_chunk_at_once_end_without_a_database_error(people, slow_close):
    """Invariant: no request ends in an unhandled deadlock (a 500 from the API).

    A (lower id) and B each have an approved W44 to invoice; A has no W45 timesheet, B an open
    one. The close chunk of W45 inserts A's timesheet (its key to A is checked at commit, with
    FOR KEY SHARE on A's row) and locks B's open W45. B's contractor submits W45: it locks B's
    row and waits for the chunk. The invoicing chunk of W44 locks A's row, then waits for B's.
    The chunk's key check then waits for A's row: a cycle PostgreSQL breaks by killing one
    of the three, whichever's deadlock_timeout fires first. Here that was the invoicing
    chunk (Celery retries it); when it is the submit, nothing maps the OperationalError
    and the API answers 500. The hold between locking and writing stands for a big chunk.
    """
    failures = []
    for _ in range(3):
        slow_close.clear()
        a, b = new_worker(people), new_worker(people)
        assert a.pk < b.pk
        earlier = MONDAY - timedelta(weeks=1)
        approved = [submitted_and_approved(people, worker, earlier) for worker in (a, b)]
        work(a, MONDAY)
        work(b, MONDAY)
        open_b, _ = timesheet_get_or_create(worker=b, period=W45)
        ids = [t.pk for t in approved]
        outcomes = staggered(
            (close_chunk([a.pk, b.pk], W45), None, 0),
            (submit(b, open_b), slow_close, 0.02),
            (lambda ids=ids: invoices_issue_batch(timesheet_ids=ids, actor=None), slow_close, 0.2),
        )
        names = ("close chunk", "submit", "invoicing chunk")
        failures += [
            (name, o) for name, o in zip(names, outcomes, strict=True) if isinstance(o, DatabaseError)
        ]
    assert not failures, failures
