"""The daily invoicing: a period is invoiced once it has been over everywhere for a day.

The world's workers are in Chicago (UTC-6 in November), London and Kolkata. Week
2026-W45 ends at local Monday 9 Nov 00:00: last in Chicago, at 06:00 UTC; so it is due
from Tue 10 Nov 06:00 UTC.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payroll.models import Invoice, Job, JobStatus, Timesheet
from payroll.selectors.invoices import period_ended_everywhere
from payroll.services.invoice_schedule import invoice_ended_periods
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory

pytestmark = pytest.mark.django_db
W45 = "2026-W45"
W45_OVER_EVERYWHERE = datetime(2026, 11, 9, 6, 0, tzinfo=UTC)
DUE = W45_OVER_EVERYWHERE + timedelta(days=1)


@pytest.fixture
def timesheets(world, frozen_now) -> dict[str, Timesheet]:
    """W45 of contractor A (approved) and of contractor B (only submitted)."""
    for worker in (world.worker_a, world.worker_b):
        RateFactory(worker=worker, hourly_rate=Decimal("15.00"))
    a, _ = timesheet_get_or_create(worker=world.worker_a, period=W45)
    timesheet_transition(actor=world.contractor_a, timesheet=a, action="submit")
    timesheet_transition(actor=world.manager_a, timesheet=a, action="approve")
    b, _ = timesheet_get_or_create(worker=world.worker_b, period=W45)
    timesheet_transition(actor=world.contractor_b, timesheet=b, action="submit")
    return {"a": a, "b": b}


def started(now: datetime) -> list[tuple[str, bool]]:
    return [(start.period, start.created) for start in invoice_ended_periods(now=now)]


def test_a_period_is_over_everywhere_when_it_ends_in_the_last_zone(world):
    assert period_ended_everywhere(W45) == W45_OVER_EVERYWHERE


def test_a_period_is_not_invoiced_before_it_has_been_over_everywhere_for_a_day(timesheets):
    assert started(DUE - timedelta(seconds=1)) == []
    assert not Job.objects.exists()


def test_the_invoicing_of_a_due_period_starts_once(timesheets):
    # when
    first = started(DUE)
    again = started(DUE + timedelta(hours=1))  # the first job has not run yet
    # then
    assert first == [(W45, True)]
    assert again == [(W45, False)]
    job = Job.objects.get()
    assert (job.kind, job.params, job.created_by) == ("issue_invoices", {"period": W45}, None)


def test_once_the_job_has_run_nothing_is_left_to_invoice(timesheets, django_capture_on_commit_callbacks):
    # given the job ran (Celery is eager in tests)
    with django_capture_on_commit_callbacks(execute=True):
        started(DUE)
    assert Job.objects.get().status == JobStatus.DONE
    assert list(Invoice.objects.values_list("timesheet", flat=True)) == [timesheets["a"].pk]
    # when
    later = started(DUE + timedelta(days=1))
    # then
    assert later == []
    assert Job.objects.count() == 1


def test_periods_without_approved_timesheets_are_not_invoiced(world, frozen_now):
    # given only a submitted timesheet
    RateFactory(worker=world.worker_b, hourly_rate=Decimal("15.00"))
    timesheet, _ = timesheet_get_or_create(worker=world.worker_b, period=W45)
    timesheet_transition(actor=world.contractor_b, timesheet=timesheet, action="submit")
    # when / then
    assert started(DUE + timedelta(days=7)) == []
    assert not Job.objects.exists()


def test_a_timesheet_approved_after_the_invoicing_is_invoiced_the_next_day(
    world, timesheets, django_capture_on_commit_callbacks
):
    # given W45 invoiced, then B's timesheet approved late
    with django_capture_on_commit_callbacks(execute=True):
        started(DUE)
    timesheet_transition(actor=world.manager_b, timesheet=timesheets["b"], action="approve")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        next_day = started(DUE + timedelta(days=1))
    # then
    assert next_day == [(W45, True)]
    assert Invoice.objects.count() == 2
