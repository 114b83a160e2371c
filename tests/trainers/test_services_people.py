"""Writes to users, teams, workers and projects."""

from decimal import Decimal

import pytest

from core.errors import Conflict, Forbidden, InvalidInput
from tests.factories import RateFactory, UserFactory, WorkerFactory
from trainers.models import Role, Worker
from trainers.services.people import project_save, team_save, user_create, worker_create, worker_update

pytestmark = pytest.mark.django_db


def test_admin_creates_a_user_with_a_role_and_a_hashed_password(world):
    user = user_create(
        actor=world.admin,
        username="newbie",
        password="a-long-pass-phrase",
        email="n@e.com",
        role=Role.FINANCE,
    )
    assert user.role == Role.FINANCE
    assert user.check_password("a-long-pass-phrase")
    assert not user.is_staff


def test_weak_passwords_and_duplicate_names_are_refused(world):
    with pytest.raises(InvalidInput) as weak:
        user_create(actor=world.admin, username="newbie", password="123", email="", role=Role.CONTRACTOR)
    assert "password" in weak.value.errors
    with pytest.raises(InvalidInput) as taken:
        user_create(
            actor=world.admin, username="ADMIN", password="a-long-pass-phrase", email="", role=Role.CONTRACTOR
        )
    assert "username" in taken.value.errors


@pytest.mark.parametrize("role", ["finance", "manager", "contractor"])
def test_only_admins_create_users_and_teams(world, role):
    actor = UserFactory(role=role)
    with pytest.raises(Forbidden):
        user_create(actor=actor, username="x", password="a-long-pass-phrase", email="", role=Role.ADMIN)
    with pytest.raises(Forbidden):
        team_save(actor=actor, team=None, name="T", managers=[])


def test_team_managers_must_be_managers(world):
    with pytest.raises(InvalidInput) as refused:
        team_save(actor=world.admin, team=None, name="New", managers=[world.contractor_a])
    assert "managers" in refused.value.errors
    team = team_save(actor=world.admin, team=None, name="New", managers=[world.manager_a])
    assert list(team.managers.all()) == [world.manager_a]


def test_worker_needs_a_contractor_user_without_profile(world):
    base = {"full_name": "X", "email": "x@e.com", "time_zone": "UTC", "currency": "EUR"}
    with pytest.raises(InvalidInput):
        worker_create(actor=world.finance, fields={**base, "user": world.manager_a})
    with pytest.raises(InvalidInput):
        worker_create(actor=world.finance, fields={**base, "user": world.contractor_a})
    user = UserFactory(role=Role.CONTRACTOR)
    worker = worker_create(actor=world.finance, fields={**base, "user": user})
    assert worker.history.first().history_user == world.finance


def test_worker_history_records_who_changed_contract_terms(world):
    worker_update(actor=world.finance, worker=world.worker_a, changes={"tax_rate": Decimal("0.19")})
    latest = world.worker_a.history.first()
    assert latest.tax_rate == Decimal("0.1900")
    assert latest.history_user == world.finance


def test_currency_cannot_change_once_rates_exist(world):
    # given a USD rate
    RateFactory(worker=world.worker_a)
    # when / then
    with pytest.raises(Conflict, match="one currency"):
        worker_update(actor=world.admin, worker=world.worker_a, changes={"currency": "EUR"})
    assert Worker.objects.get(pk=world.worker_a.pk).currency == "USD"
    # a worker without rates may still switch
    worker_update(actor=world.admin, worker=world.worker_b, changes={"currency": "INR"})


def test_managers_and_contractors_cannot_change_workers(world):
    for actor in (world.manager_a, world.contractor_a):
        with pytest.raises(Forbidden):
            worker_update(actor=actor, worker=world.worker_a, changes={"full_name": "Z"})


def test_project_save_assigns_workers_and_refuses_duplicate_names(world):
    project = project_save(
        actor=world.finance, project=None, fields={"name": "New", "client": "C"}, workers=[world.worker_a]
    )
    assert list(project.workers.all()) == [world.worker_a]
    with pytest.raises(InvalidInput):
        project_save(actor=world.finance, project=None, fields={"name": "New", "client": "C"})
    other = WorkerFactory()
    project_save(actor=world.admin, project=project, fields={}, workers=[other])
    assert list(project.workers.all()) == [other]
