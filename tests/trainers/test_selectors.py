"""Role-scoped reads of people and sessions."""

from datetime import UTC, datetime

import pytest

from tests.factories import SessionFactory, UserFactory, WorkerFactory
from trainers.models import LabellingSession, Role, User
from trainers.selectors import (
    projects_visible_to,
    sessions_starting_in_period,
    sessions_visible_to,
    teams_visible_to,
    users_visible_to,
    worker_of,
    workers_visible_to,
    zones_in_use,
)

pytestmark = pytest.mark.django_db


def ids(queryset):
    return sorted(queryset.values_list("pk", flat=True))


def test_sessions_by_role(world):
    a, a2, b = world.session_a.pk, world.session_a2.pk, world.session_b.pk
    assert ids(sessions_visible_to(world.contractor_a)) == [a]
    assert ids(sessions_visible_to(world.manager_a)) == sorted([a, a2])
    assert ids(sessions_visible_to(world.manager_b)) == [b]
    assert ids(sessions_visible_to(world.finance)) == sorted([a, a2, b])
    assert ids(sessions_visible_to(world.admin)) == sorted([a, a2, b])


def test_a_manager_of_no_team_sees_nothing(world):
    lonely = UserFactory(role=Role.MANAGER)
    assert ids(sessions_visible_to(lonely)) == []
    assert ids(workers_visible_to(lonely)) == []
    assert ids(teams_visible_to(lonely)) == []


def test_workers_projects_teams_users_by_role(world):
    assert ids(workers_visible_to(world.contractor_b)) == [world.worker_b.pk]
    assert ids(workers_visible_to(world.manager_a)) == sorted([world.worker_a.pk, world.worker_a2.pk])
    assert ids(projects_visible_to(world.contractor_b)) == [world.project_b.pk]
    assert ids(projects_visible_to(world.manager_a)) == [world.project_a.pk]
    assert ids(teams_visible_to(world.manager_b)) == [world.team_b.pk]
    assert ids(teams_visible_to(world.contractor_a)) == []
    assert ids(users_visible_to(world.contractor_a)) == [world.contractor_a.pk]


def test_a_manager_of_two_teams_sees_each_session_once(world):
    world.team_b.managers.add(world.manager_a)
    visible = sessions_visible_to(world.manager_a)
    assert visible.count() == 3 == len(set(ids(visible)))


def test_period_filter_reads_each_workers_zone(world):
    # given two sessions at the same UTC instant, Sun 2026-11-01 20:00 UTC:
    # Chicago (Sun 14:00, W44) and Kolkata (Mon 01:30, W45)
    instant = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)
    end = datetime(2026, 11, 1, 21, 0, tzinfo=UTC)
    chicago = SessionFactory(worker=world.worker_a, project=world.project_a, started_at=instant, ended_at=end)
    kolkata = SessionFactory(worker=world.worker_b, project=world.project_b, started_at=instant, ended_at=end)
    everything = LabellingSession.objects.filter(pk__in=[chicago.pk, kolkata.pk])
    # when / then
    assert ids(sessions_starting_in_period(everything, "2026-W44")) == [chicago.pk]
    assert ids(sessions_starting_in_period(everything, "2026-W45")) == [kolkata.pk]


def test_the_zones_in_use_are_the_workers_zones_each_once(world):
    # given a second worker in Chicago, beside the world's Chicago, London and Kolkata ones
    WorkerFactory(time_zone="America/Chicago")
    # when / then
    assert sorted(zones_in_use()) == ["America/Chicago", "Asia/Kolkata", "Europe/London"]


def test_period_filter_through_the_api(world, client_for):
    response = client_for(world.finance).get("/api/v1/sessions/?period=2026-W45")
    assert response.status_code == 200
    # the world's sessions start Mon 2026-11-02 15:00 UTC: W45 in all three zones
    assert {row["id"] for row in response.json()["results"]} == {
        world.session_a.pk,
        world.session_a2.pk,
        world.session_b.pk,
    }
    assert client_for(world.finance).get("/api/v1/sessions/?period=2026-W46").json()["count"] == 0


def test_worker_of_reads_the_profile_once_and_not_when_it_was_joined_in(world, django_assert_num_queries):
    # given: a user as token authentication loads it, and one read plainly
    joined = User.objects.select_related("worker").get(pk=world.contractor_a.pk)
    plain = User.objects.get(pk=world.contractor_a.pk)
    finance = User.objects.select_related("worker").get(pk=world.finance.pk)
    # when / then
    with django_assert_num_queries(0):
        assert worker_of(joined) == world.worker_a
        assert worker_of(finance) is None
    with django_assert_num_queries(1):
        assert worker_of(plain) == world.worker_a
