"""Shared fixtures: API clients per person, a small world of roles, a period lock."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from tests.factories import ProjectFactory, SessionFactory, TeamFactory, UserFactory, WorkerFactory, api_token
from trainers.hooks import register_period_lock, unregister_period_lock
from trainers.models import LabellingSession, Project, Role, Team, User, Worker

# A fixed "now" after the sessions of the world, so the 5-minute future rule is stable.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    """Build an API client signed in with a real token (or anonymous for None)."""

    def build(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
        return client

    return build


@dataclass
class World:
    """Two teams: A's (contractor A, manager A) and B's; finance and admin see both."""

    team_a: Team
    team_b: Team
    contractor_a: User
    contractor_b: User
    contractor_a2: User
    manager_a: User
    manager_b: User
    finance: User
    admin: User
    worker_a: Worker
    worker_b: Worker
    worker_a2: Worker
    project_a: Project
    project_b: Project
    session_a: LabellingSession
    session_b: LabellingSession
    session_a2: LabellingSession

    def user(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


@pytest.fixture
def world(db) -> World:
    """People in every role, two teams, a project each, and one session per contractor."""
    manager_a = UserFactory(username="manager_a", role=Role.MANAGER)
    manager_b = UserFactory(username="manager_b", role=Role.MANAGER)
    team_a = TeamFactory(name="Team A", managers=[manager_a])
    team_b = TeamFactory(name="Team B", managers=[manager_b])
    worker_a = WorkerFactory(user__username="contractor_a", team=team_a)
    worker_a2 = WorkerFactory(user__username="contractor_a2", team=team_a, time_zone="Europe/London")
    worker_b = WorkerFactory(user__username="contractor_b", team=team_b, time_zone="Asia/Kolkata")
    project_a = ProjectFactory(name="Project A", workers=[worker_a, worker_a2])
    project_b = ProjectFactory(name="Project B", workers=[worker_b])
    return World(
        team_a=team_a,
        team_b=team_b,
        contractor_a=worker_a.user,
        contractor_b=worker_b.user,
        contractor_a2=worker_a2.user,
        manager_a=manager_a,
        manager_b=manager_b,
        finance=UserFactory(username="finance", role=Role.FINANCE),
        admin=UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True),
        worker_a=worker_a,
        worker_b=worker_b,
        worker_a2=worker_a2,
        project_a=project_a,
        project_b=project_b,
        session_a=SessionFactory(worker=worker_a, project=project_a),
        session_b=SessionFactory(worker=worker_b, project=project_b),
        session_a2=SessionFactory(worker=worker_a2, project=project_a),
    )


@pytest.fixture
def frozen_now(monkeypatch) -> datetime:
    """Make timezone.now() return NOW everywhere the services ask for it."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


@pytest.fixture
def lock_period() -> Iterator[Callable[[Worker, str], None]]:
    """Lock chosen (worker, period) pairs, as payroll's timesheets will."""
    locked: set[tuple[int, str]] = set()

    def check(worker: Worker, period: str) -> str | None:
        return "its timesheet is submitted" if (worker.pk, period) in locked else None

    register_period_lock(check)
    yield lambda worker, period: locked.add((worker.pk, period))
    unregister_period_lock(check)
