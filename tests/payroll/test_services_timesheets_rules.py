"""Rules added after review: no submitting a week before it starts, no adjusting one's own pay."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.errors import Conflict, Forbidden, InvalidInput
from payroll.services.adjustments import adjustment_create
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import WorkerFactory, give_time
from trainers.models import Role

pytestmark = pytest.mark.django_db


def test_a_week_cannot_be_submitted_before_it_starts(world, frozen_now):
    # given next week's timesheet (frozen now is Fri 2026-11-20, W47)
    future, _ = timesheet_get_or_create(worker=world.worker_a, period="2026-W48")
    # when / then
    with pytest.raises(Conflict, match="has not started"):
        timesheet_transition(actor=world.contractor_a, timesheet=future, action="submit")
    # and once it has started, with time in it and the lock confirmed, it can
    give_time(future)
    started = timesheet_transition(
        actor=world.contractor_a,
        timesheet=future,
        action="submit",
        now=future.period_start + timedelta(hours=3),
        confirm=True,
    )
    assert started.status == "submitted"


def test_nobody_adjusts_their_own_pay(world):
    # given a finance user who also has a worker profile
    world.finance.role = Role.CONTRACTOR
    own = WorkerFactory(user=world.finance)
    world.finance.role = Role.FINANCE
    world.finance.save()
    # when / then
    with pytest.raises(Forbidden, match="own pay"):
        adjustment_create(actor=world.finance, worker=own, amount=Decimal("5.00"), currency="USD", reason="x")


def test_an_unknown_action_is_bad_input_not_a_crash(world):
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period="2026-W45")
    with pytest.raises(InvalidInput):
        timesheet_transition(actor=world.admin, timesheet=timesheet, action="approve-all")


def test_the_note_rule_comes_after_the_state_rule(world):
    # rejecting an open timesheet without a note is a state conflict first
    timesheet, _ = timesheet_get_or_create(worker=world.worker_a, period="2026-W45")
    with pytest.raises(Conflict):
        timesheet_transition(actor=world.manager_a, timesheet=timesheet, action="reject", note="")
