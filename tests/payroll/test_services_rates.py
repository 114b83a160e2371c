"""Writes to rates: effective-dated, optional project scope, one currency per worker."""

from datetime import date
from decimal import Decimal

import pytest

from core.errors import Forbidden, InvalidInput
from payroll.models import Rate
from payroll.services.rates import rate_create, rate_delete, rate_update
from tests.factories import ProjectFactory, RateFactory

pytestmark = pytest.mark.django_db


def fields(world, **extra):
    return {
        "worker": world.worker_a,
        "hourly_rate": Decimal("15.00"),
        "currency": "USD",
        "effective_from": date(2026, 1, 1),
        **extra,
    }


def test_finance_creates_default_and_project_rates(world):
    default = rate_create(actor=world.finance, fields=fields(world))
    scoped = rate_create(
        actor=world.finance, fields=fields(world, project=world.project_a, hourly_rate=Decimal("16.5"))
    )
    assert (default.project, scoped.project) == (None, world.project_a)
    assert default.history.first().history_user == world.finance


def test_rates_keep_four_decimals_unrounded(world):
    rate = rate_create(actor=world.admin, fields=fields(world, hourly_rate=Decimal("20.8620")))
    rate.refresh_from_db()
    assert rate.hourly_rate == Decimal("20.8620")


def test_one_rate_per_scope_and_day(world):
    rate_create(actor=world.finance, fields=fields(world))
    with pytest.raises(InvalidInput) as refused:
        rate_create(actor=world.finance, fields=fields(world, hourly_rate=Decimal("17")))
    assert "effective_from" in refused.value.errors
    # the project scope on the same day is a different scope
    rate_create(actor=world.finance, fields=fields(world, project=world.project_a))
    assert Rate.objects.count() == 2


def test_currency_must_be_the_workers(world):
    with pytest.raises(InvalidInput) as refused:
        rate_create(actor=world.finance, fields=fields(world, currency="EUR"))
    assert "USD" in refused.value.errors["currency"][0]


def test_project_scope_needs_an_assigned_worker(world):
    with pytest.raises(InvalidInput) as refused:
        rate_create(actor=world.finance, fields=fields(world, project=ProjectFactory()))
    assert "project" in refused.value.errors


@pytest.mark.parametrize("who", ["manager_a", "contractor_a"])
def test_only_finance_and_admin_manage_rates(world, who):
    rate = RateFactory(worker=world.worker_a)
    actor = getattr(world, who)
    with pytest.raises(Forbidden):
        rate_create(actor=actor, fields=fields(world, effective_from=date(2026, 2, 1)))
    with pytest.raises(Forbidden):
        rate_update(actor=actor, rate=rate, changes={"hourly_rate": Decimal("99")})
    with pytest.raises(Forbidden):
        rate_delete(actor=actor, rate=rate)


def test_update_and_delete_leave_history(world):
    rate = rate_create(actor=world.finance, fields=fields(world))
    rate_update(actor=world.admin, rate=rate, changes={"hourly_rate": Decimal("16")})
    rate_id = rate.pk
    rate_delete(actor=world.finance, rate=rate)
    history = list(Rate.history.filter(id=rate_id).order_by("history_date"))
    assert [(h.history_type, h.history_user) for h in history] == [
        ("+", world.finance),
        ("~", world.admin),
        ("-", world.finance),
    ]


def test_the_worker_of_a_rate_cannot_change(world):
    rate = RateFactory(worker=world.worker_a)
    with pytest.raises(InvalidInput):
        rate_update(actor=world.admin, rate=rate, changes={"worker": world.worker_a2})
