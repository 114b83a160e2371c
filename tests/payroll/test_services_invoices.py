"""Issuing invoices: numbers without gaps or duplicates, lines copied, tax once, idempotent."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.errors import Conflict
from payroll.models import Invoice, InvoiceCounter, Timesheet, TimesheetEvent
from payroll.selectors.timesheets import timesheet_figures
from payroll.services.invoices import invoice_issue, invoices_issue_batch
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import ProjectFactory, RateFactory, SessionFactory, UserFactory, WorkerFactory
from trainers.models import Role, Worker

W45 = "2026-W45"


def approved_timesheet(world, worker=None, manager=None):
    """A's W45 (2 h at 15.00 = 30.00 unless told otherwise), submitted and approved."""
    worker = worker or world.worker_a
    timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
    timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
    return timesheet_transition(actor=manager or world.manager_a, timesheet=timesheet, action="approve")


@pytest.mark.django_db
def test_an_approved_timesheet_becomes_one_numbered_invoice(world, frozen_now):
    # given
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("15.00"))
    timesheet = approved_timesheet(world)
    # when
    invoice, created = invoice_issue(timesheet=timesheet, actor=world.finance)
    # then
    assert created and invoice.number == "FH-2026-000001"
    assert [(line.kind, line.seconds, line.hourly_rate, line.amount) for line in invoice.lines.all()] == [
        ("regular", 7200, Decimal("15.0000"), Decimal("30.00"))
    ]
    assert "2:00:00 = 2.00 h" in invoice.lines.get().description
    assert (invoice.subtotal, invoice.tax, invoice.total, invoice.currency) == (
        Decimal("30.00"),
        Decimal("0.00"),
        Decimal("30.00"),
        "USD",
    )
    timesheet.refresh_from_db()
    assert timesheet.status == "invoiced"
    event = TimesheetEvent.objects.filter(timesheet=timesheet).last()
    assert (event.from_status, event.to_status, event.actor, event.note) == (
        "approved",
        "invoiced",
        world.finance,
        "FH-2026-000001",
    )


@pytest.mark.django_db
def test_issuing_twice_creates_nothing_new(world, frozen_now):
    RateFactory(worker=world.worker_a)
    timesheet = approved_timesheet(world)
    first, _ = invoice_issue(timesheet=timesheet)
    again, created = invoice_issue(timesheet=timesheet)
    assert (again.pk, created) == (first.pk, False)
    assert InvoiceCounter.objects.get(year=2026).last_sequence == 1


@pytest.mark.django_db
def test_tax_is_rounded_once_on_the_subtotal(world, frozen_now):
    # given 2 h at 15.00 plus tax 19 %: 30.00 + 5.70
    world.worker_a.tax_rate = Decimal("0.1900")
    world.worker_a.save()
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("15.3333"))  # 2 h -> 30.6666 -> 30.67
    invoice, _ = invoice_issue(timesheet=approved_timesheet(world))
    assert invoice.subtotal == Decimal("30.67")
    assert invoice.tax == Decimal("5.83")  # 30.67 x 0.19 = 5.8273
    assert invoice.total == Decimal("36.50")


@pytest.mark.django_db
def test_only_approved_timesheets_are_invoiced_and_no_number_is_spent(world, frozen_now):
    RateFactory(worker=world.worker_a)
    open_timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    with pytest.raises(Conflict):
        invoice_issue(timesheet=open_timesheet)
    assert not InvoiceCounter.objects.filter(last_sequence__gt=0).exists()


@pytest.mark.django_db
def test_an_invoiced_timesheet_cannot_be_reopened_and_keeps_its_sessions_locked(world, frozen_now):
    RateFactory(worker=world.worker_a)
    timesheet = approved_timesheet(world)
    invoice_issue(timesheet=timesheet)
    with pytest.raises(Conflict):
        timesheet_transition(actor=world.finance, timesheet=timesheet, action="reopen", note="oops")
    from trainers.hooks import period_lock_reason

    assert "invoiced" in period_lock_reason(world.worker_a, W45)


@pytest.mark.django_db
def test_a_rolled_back_issue_leaves_no_gap(world, frozen_now):
    # given two approved timesheets
    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_b)
    first = approved_timesheet(world)
    second = approved_timesheet(world, world.worker_b, world.manager_b)
    # when the first issue is rolled back
    with pytest.raises(RuntimeError), transaction.atomic():
        invoice_issue(timesheet=first)
        raise RuntimeError("the caller's transaction failed afterwards")
    # then the number was not spent
    invoice, _ = invoice_issue(timesheet=second)
    assert invoice.number == "FH-2026-000001"
    assert Timesheet.objects.get(pk=first.pk).status == "approved"


@pytest.mark.django_db(transaction=True)
def test_many_threads_with_rollbacks_number_without_gaps_or_duplicates(frozen_now):
    # given 12 approved timesheets of 12 workers in one team
    manager = UserFactory(role=Role.MANAGER)
    from tests.factories import TeamFactory

    team = TeamFactory(managers=[manager])
    workers = [WorkerFactory(team=team) for _ in range(12)]
    project = ProjectFactory(workers=workers)
    timesheets = []
    for worker in workers:
        RateFactory(worker=worker)
        SessionFactory(worker=worker, project=project)
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
        timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
        timesheets.append(timesheet_transition(actor=manager, timesheet=timesheet, action="approve"))
    barrier = threading.Barrier(len(timesheets))
    outcomes: list[object] = [None] * len(timesheets)

    def issue(index: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                invoice, _ = invoice_issue(timesheet=timesheets[index])
                if index % 3 == 0:  # every third caller fails after numbering, on purpose
                    raise RuntimeError("rolled back")
            outcomes[index] = invoice.number
        except RuntimeError:
            outcomes[index] = "rolled back"
        finally:
            connection.close()

    # when they all issue at once
    threads = [threading.Thread(target=issue, args=(i,)) for i in range(len(timesheets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then the committed numbers are exactly 1..8, each once
    numbers = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert numbers == list(range(1, 9)), outcomes
    assert outcomes.count("rolled back") == 4
    assert InvoiceCounter.objects.get(year=2026).last_sequence == 8


@pytest.mark.django_db(transaction=True)  # the job is queued on a real commit
def test_the_invoicing_command_issues_each_approved_timesheet_once(world, frozen_now):
    # given two approved timesheets of W45 and one still open
    from io import StringIO

    from django.core.management import call_command

    for worker in (world.worker_a, world.worker_b, world.worker_a2):
        RateFactory(worker=worker)
    approved_timesheet(world)
    approved_timesheet(world, world.worker_b, world.manager_b)
    timesheet_get_or_create(worker=world.worker_a2, period=W45)
    # when the command runs twice
    outputs = []
    for _ in range(2):
        out = StringIO()
        call_command("issue_invoices", W45, stdout=out)
        outputs.append(out.getvalue())
    # then two invoices, numbered 1 and 2, and the second run issued nothing
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["FH-2026-000001", "FH-2026-000002"]
    assert '"issued": 2' in outputs[0]
    assert outputs[1].strip().endswith("{}")  # nothing left to invoice


@pytest.mark.django_db
def test_pay_and_void_follow_the_rules(world, frozen_now):
    from datetime import date

    from core.errors import Forbidden, InvalidInput
    from payroll.services.invoice_payments import invoice_pay, invoice_void

    RateFactory(worker=world.worker_a)
    invoice, _ = invoice_issue(timesheet=approved_timesheet(world))
    # refused: wrong role, no reference, paid before issue, void without reason
    with pytest.raises(Forbidden):
        invoice_pay(
            actor=world.contractor_a, invoice=invoice, paid_on=date(2026, 11, 20), payment_reference="x"
        )
    with pytest.raises(InvalidInput):
        invoice_pay(actor=world.finance, invoice=invoice, paid_on=date(2026, 11, 20), payment_reference=" ")
    with pytest.raises(InvalidInput):
        invoice_pay(actor=world.finance, invoice=invoice, paid_on=date(2026, 1, 1), payment_reference="T-1")
    with pytest.raises(InvalidInput, match="future"):  # now is 2026-11-20 12:00 UTC
        invoice_pay(actor=world.finance, invoice=invoice, paid_on=date(9999, 12, 31), payment_reference="T-1")
    with pytest.raises(InvalidInput, match="future"):
        invoice_pay(actor=world.finance, invoice=invoice, paid_on=date(2026, 11, 22), payment_reference="T-1")
    with pytest.raises(InvalidInput):
        invoice_void(actor=world.finance, invoice=invoice, reason="")
    # paid once; then neither paid again nor voided
    paid = invoice_pay(
        actor=world.finance, invoice=invoice, paid_on=date(2026, 11, 20), payment_reference="T-1"
    )
    assert (paid.status, paid.payment_reference, paid.total) == ("paid", "T-1", invoice.total)
    with pytest.raises(Conflict):
        invoice_pay(actor=world.finance, invoice=invoice, paid_on=date(2026, 11, 20), payment_reference="T-2")
    with pytest.raises(Conflict):
        invoice_void(actor=world.admin, invoice=invoice, reason="duplicate")


@pytest.mark.django_db
def test_a_void_invoice_keeps_its_number(world, frozen_now):
    from payroll.services.invoice_payments import invoice_void

    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_b)
    invoice, _ = invoice_issue(timesheet=approved_timesheet(world))
    invoice_void(actor=world.finance, invoice=invoice, reason="Wrong bank details")
    following, _ = invoice_issue(timesheet=approved_timesheet(world, world.worker_b, world.manager_b))
    assert (Invoice.objects.get(pk=invoice.pk).status, following.number) == ("void", "FH-2026-000002")


# --- many at once: the invoicing job's batch --------------------------------------------------


def invoice_rows(invoice: Invoice) -> list[tuple]:
    return [
        (line.position, line.description, line.kind, line.seconds, line.hourly_rate, line.amount)
        for line in invoice.lines.all()
    ]


@pytest.mark.django_db
def test_a_batch_issues_what_one_by_one_issues_numbered_in_timesheet_order(world, frozen_now):
    # given three approved timesheets, one with an adjustment; C is issued alone for comparison
    from payroll.models import Adjustment

    for worker in (world.worker_a, world.worker_b, world.worker_a2):
        RateFactory(worker=worker, hourly_rate=Decimal("15.00"))
    Adjustment.objects.create(
        worker=world.worker_a,
        amount=Decimal("-1.25"),
        currency="USD",
        reason="Overpaid",
        applies_to_period=W45,
        created_by=world.finance,
    )
    first = approved_timesheet(world)
    second = approved_timesheet(world, world.worker_b, world.manager_b)
    alone = approved_timesheet(world, world.worker_a2)
    # when
    issued = invoices_issue_batch(timesheet_ids=[second.pk, first.pk], actor=world.finance)
    single, _ = invoice_issue(timesheet=alone, actor=world.finance)
    # then numbers follow timesheet ids, then the single issue continues the sequence
    assert issued == 2
    batch = {invoice.timesheet_id: invoice for invoice in Invoice.objects.exclude(pk=single.pk)}
    assert [batch[first.pk].number, batch[second.pk].number, single.number] == [
        "FH-2026-000001",
        "FH-2026-000002",
        "FH-2026-000003",
    ]
    # and each invoice has what invoice_issue gives: lines, adjustments, totals, the transition
    assert invoice_rows(batch[first.pk]) == [
        (1, "Project A (regular) 2:00:00 = 2.00 h", "regular", 7200, Decimal("15.0000"), Decimal("30.00")),
        (2, "Adjustment: Overpaid", "adjustment", 0, None, Decimal("-1.25")),
    ]
    assert [row[1:] for row in invoice_rows(single)] == [
        ("Project A (regular) 2:00:00 = 2.00 h", "regular", 7200, Decimal("15.0000"), Decimal("30.00"))
    ]
    assert (batch[first.pk].subtotal, batch[first.pk].total, batch[first.pk].due_on) == (
        Decimal("28.75"),
        Decimal("28.75"),
        single.due_on,
    )
    assert batch[first.pk].company == single.company
    assert (batch[first.pk].contractor["full_name"], batch[first.pk].contractor["team"]) == (
        world.worker_a.full_name,
        "Team A",
    )
    for timesheet in (first, second):
        event = TimesheetEvent.objects.filter(timesheet=timesheet).last()
        assert (event.from_status, event.to_status, event.actor, event.note) == (
            "approved",
            "invoiced",
            world.finance,
            batch[timesheet.pk].number,
        )
        assert Timesheet.objects.get(pk=timesheet.pk).status == "invoiced"


@pytest.mark.django_db
def test_a_batch_skips_invoiced_and_unapproved_timesheets_and_runs_twice_harmlessly(world, frozen_now):
    # given one invoiced, one approved and one open timesheet
    for worker in (world.worker_a, world.worker_b, world.worker_a2):
        RateFactory(worker=worker)
    invoiced = approved_timesheet(world)
    invoice_issue(timesheet=invoiced)
    approved = approved_timesheet(world, world.worker_b, world.manager_b)
    still_open, _ = timesheet_get_or_create(worker=world.worker_a2, period=W45)
    ids = [invoiced.pk, approved.pk, still_open.pk]
    # when
    first_run = invoices_issue_batch(timesheet_ids=ids)
    second_run = invoices_issue_batch(timesheet_ids=ids)
    # then
    assert (first_run, second_run) == (1, 0)
    assert Invoice.objects.count() == 2
    assert InvoiceCounter.objects.get(year=2026).last_sequence == 2
    assert Timesheet.objects.get(pk=still_open.pk).status == "open"


@pytest.mark.django_db
def test_a_rolled_back_batch_spends_no_numbers(world, frozen_now):
    # given
    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_b)
    first = approved_timesheet(world)
    second = approved_timesheet(world, world.worker_b, world.manager_b)
    # when the caller's transaction fails after the batch
    with pytest.raises(RuntimeError), transaction.atomic():
        invoices_issue_batch(timesheet_ids=[first.pk, second.pk])
        raise RuntimeError("failed afterwards")
    # then nothing was issued and numbering starts at 1
    assert not Invoice.objects.exists()
    invoice, _ = invoice_issue(timesheet=second)
    assert invoice.number == "FH-2026-000001"


@pytest.mark.django_db
def test_a_batch_only_writes_once_it_holds_the_invoice_counter(world, frozen_now):
    # given two approved timesheets (the counter row exists, as it does after the first invoice)
    RateFactory(worker=world.worker_a)
    RateFactory(worker=world.worker_b)
    timesheets = [approved_timesheet(world), approved_timesheet(world, world.worker_b, world.manager_b)]
    InvoiceCounter.objects.create(year=2026)
    # when
    with CaptureQueriesContext(connection) as queries:
        invoices_issue_batch(timesheet_ids=[t.pk for t in timesheets])
    # then: every chunk waits for that one row, so nothing but writes follows its lock
    statements = [query["sql"] for query in queries.captured_queries]
    locked_at = next(at for at, sql in enumerate(statements) if "invoicecounter" in sql.lower())
    after = [sql.split()[0].upper() for sql in statements[locked_at + 1 :]]
    assert set(after) <= {"UPDATE", "INSERT", "COPY", "RELEASE"}, statements[locked_at:]
    assert Invoice.objects.count() == 2


@pytest.mark.django_db
def test_a_batch_refuses_an_actor_who_may_not_invoice(world, frozen_now):
    from core.errors import Forbidden

    RateFactory(worker=world.worker_a)
    timesheet = approved_timesheet(world)
    with pytest.raises(Forbidden):
        invoices_issue_batch(timesheet_ids=[timesheet.pk], actor=world.manager_a)
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_the_invoice_keeps_both_parties_as_they_were_at_issue(world, frozen_now, settings):
    # given
    settings.COMPANY_NAME, settings.COMPANY_ADDRESS = "Acme Payroll Ltd", "1 Example Street\nLondon"
    settings.COMPANY_TAX_ID, settings.COMPANY_EMAIL = "GB123", "billing@acme.example"
    RateFactory(worker=world.worker_a)
    invoice, _ = invoice_issue(timesheet=approved_timesheet(world))
    # when the worker, their team and the company change afterwards
    world.worker_a.full_name, world.worker_a.email = "Renamed Later", "new@example.com"
    world.worker_a.save()
    world.team_a.name = "Team Renamed"
    world.team_a.save()
    settings.COMPANY_NAME = "Someone Else Ltd"
    # then
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.contractor == {
        "worker": world.worker_a.pk,
        "full_name": "Worker contractor_a",
        "email": "contractor_a@example.com",
        "time_zone": "America/Chicago",
        "team": "Team A",
        "currency": "USD",
    }
    assert invoice.company == {
        "name": "Acme Payroll Ltd",
        "address": "1 Example Street\nLondon",
        "tax_id": "GB123",
        "email": "billing@acme.example",
    }


@pytest.mark.django_db
def test_a_worker_without_a_team_is_snapshotted_with_an_empty_team(world, frozen_now):
    world.worker_a.team = None
    world.worker_a.save()
    RateFactory(worker=world.worker_a)
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    timesheet_transition(actor=world.contractor_a, timesheet=timesheet, action="submit")
    timesheet = timesheet_transition(actor=world.admin, timesheet=timesheet, action="approve")
    invoice, _ = invoice_issue(timesheet=timesheet)
    assert invoice.contractor["team"] == ""


@pytest.mark.django_db(transaction=True)
def test_batches_and_single_issues_racing_with_rollbacks_number_without_gaps(frozen_now):
    # given 12 approved timesheets: three batches of three, overlapping, and three single issues
    from tests.factories import TeamFactory

    manager = UserFactory(role=Role.MANAGER)
    team = TeamFactory(managers=[manager])
    workers = [WorkerFactory(team=team) for _ in range(12)]
    project = ProjectFactory(workers=workers)
    timesheets = []
    for worker in workers:
        RateFactory(worker=worker)
        SessionFactory(worker=worker, project=project)
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
        timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
        timesheets.append(timesheet_transition(actor=manager, timesheet=timesheet, action="approve"))
    ids = [timesheet.pk for timesheet in timesheets]
    calls = [
        ("batch", ids[0:4], False),  # ids[3] is also in the next batch: one of the two issues it
        ("batch", ids[3:6], True),  # rolled back after numbering: its numbers must not be spent
        ("batch", ids[6:9], False),
        ("single", ids[9:10], False),
        ("single", ids[10:11], True),
        ("single", ids[11:12], False),
    ]
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(kind: str, chunk: list[int], roll_back: bool) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                if kind == "batch":
                    invoices_issue_batch(timesheet_ids=chunk)
                else:
                    invoice_issue(timesheet=Timesheet.objects.get(pk=chunk[0]))
                if roll_back:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    # when they all run at once
    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then whatever committed is numbered 1..n exactly once, and the counter says n
    assert not errors, errors
    invoiced = set(Invoice.objects.values_list("timesheet_id", flat=True))
    numbers = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert numbers == list(range(1, len(invoiced) + 1))
    assert InvoiceCounter.objects.get(year=2026).last_sequence == len(invoiced)
    assert set(ids[0:4] + ids[6:9] + ids[9:10] + ids[11:12]) <= invoiced
    assert not invoiced & set(ids[4:6] + ids[10:11])


@pytest.mark.django_db
@pytest.mark.parametrize("issue", ["one", "batch"])
def test_invoice_lines_read_regular_before_overtime_as_the_timesheet_does(world, frozen_now, issue):
    # given overtime after 1 h: A's 2 h session is 1 h regular and 1 h overtime at 1.5x
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("15.00"))
    Worker.objects.filter(pk=world.worker_a.pk).update(overtime_after_hours=Decimal("1"))
    world.worker_a.refresh_from_db()
    timesheet = approved_timesheet(world)
    # when it is invoiced, alone or in a batch
    if issue == "one":
        invoice_issue(timesheet=timesheet, actor=world.finance)
    else:
        invoices_issue_batch(timesheet_ids=[timesheet.pk], actor=world.finance)
    # then the stored lines and the invoice's lines both read regular first
    assert [line.kind for line in timesheet_figures(Timesheet.objects.get(pk=timesheet.pk)).lines] == [
        "regular",
        "overtime",
    ]
    lines = Invoice.objects.get(timesheet=timesheet).lines.order_by("position")
    assert [(line.kind, line.amount) for line in lines] == [
        ("regular", Decimal("15.00")),
        ("overtime", Decimal("22.50")),
    ]
