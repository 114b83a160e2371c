"""Who may do what to which object: the people, project and session endpoints, cell by cell.

Each row is one (caller, verb, object) cell with its exact status (API.md): 401 for an
anonymous caller, 403 when the role may never use the verb, 404 when the role could but
the object is outside the caller's scope (so a foreign object looks like a missing one).
Objects are the caller's own, one of the same team (worker_a2's) and one of team B.
"""

from datetime import timedelta

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.api_helpers import send
from tests.conftest import NOW
from tests.factories import SessionFactory, UserFactory
from trainers.models import LabellingSession, Project, Role, SessionSource, Team, User, Worker

pytestmark = pytest.mark.django_db

API = "/api/v1"
PASSWORD = "correct-horse-battery"  # UserFactory's password
SESSION_TIMES = {"started_at": "2026-11-16T09:00:00-06:00", "ended_at": "2026-11-16T10:00:00-06:00"}
CONTRACTOR_PROJECT = {"contractor_a": "project_a", "contractor_a2": "project_a", "contractor_b": "project_b"}


def ids(response) -> list[int]:
    """The ids on a page of a list response, sorted."""
    return sorted(row["id"] for row in response.data["results"])


def pks(world, *names: str) -> list[int]:
    """The sorted primary keys of the world's named objects."""
    return sorted(getattr(world, name).pk for name in names)


# --- auth/token/ and me/ ------------------------------------------------------------------


def test_token_is_issued_to_an_anonymous_caller_and_then_authenticates(world):
    # given: no credentials at all, only a username and password
    anonymous = APIClient()
    # when
    response = anonymous.post(
        f"{API}/auth/token/", {"username": "contractor_a", "password": PASSWORD}, format="json"
    )
    # then
    assert response.status_code == 200, response.data
    assert AuthToken.objects.get(user=world.contractor_a).token_key == response.data["token"][:15]
    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Token {response.data['token']}")
    assert signed_in.get(f"{API}/me/").data["username"] == "contractor_a"


def test_token_endpoint_ignores_a_stale_authorization_header(world):
    # given: a client still sending a token that no longer exists
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    # when
    response = client.post(f"{API}/auth/token/", {"username": "finance", "password": PASSWORD}, format="json")
    # then: the endpoint does not authenticate, so the stale header cannot block a new login
    assert response.status_code == 200, response.data
    assert AuthToken.objects.get(user=world.finance).token_key == response.data["token"][:15]


def test_token_with_a_wrong_password_is_401_and_issues_nothing(world):
    # when
    response = APIClient().post(
        f"{API}/auth/token/", {"username": "contractor_a", "password": "not-the-password"}, format="json"
    )
    # then
    assert response.status_code == 401
    assert not AuthToken.objects.filter(user=world.contractor_a).exists()


@pytest.mark.parametrize(
    ("caller", "expected", "worker"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 200, "worker_a"),
        ("contractor_b", 200, "worker_b"),
        ("manager_a", 200, None),
        ("manager_b", 200, None),
        ("finance", 200, None),
        ("admin", 200, None),
    ],
)
def test_me(world, client_for, caller, expected, worker):
    # when
    response = client_for(world.user(caller)).get(f"{API}/me/")
    # then
    assert response.status_code == expected
    if expected == 200:
        user = world.user(caller)
        assert response.data["id"] == user.pk
        assert response.data["role"] == user.role
        assert response.data["worker"] == (getattr(world, worker).pk if worker else None)


# --- users/ (admin only) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 403),
        ("contractor_b", 403),
        ("manager_a", 403),
        ("manager_b", 403),
        ("finance", 403),
        ("admin", 200),
    ],
)
def test_users_list(world, client_for, caller, expected):
    # when
    response = client_for(world.user(caller)).get(f"{API}/users/?page_size=500")
    # then
    assert response.status_code == expected
    if expected == 200:
        assert ids(response) == sorted(User.objects.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("caller", "target", "expected"),
    [
        ("anonymous", "contractor_a", 401),
        ("contractor_a", "contractor_a", 403),
        ("contractor_a", "contractor_b", 403),
        ("contractor_b", "contractor_b", 403),
        ("manager_a", "manager_a", 403),
        ("manager_a", "contractor_a", 403),
        ("manager_b", "contractor_a", 403),
        ("finance", "finance", 403),
        ("finance", "contractor_a", 403),
        ("admin", "admin", 200),
        ("admin", "contractor_b", 200),
    ],
)
def test_users_retrieve(world, client_for, caller, target, expected):
    # when
    response = client_for(world.user(caller)).get(f"{API}/users/{world.user(target).pk}/")
    # then
    assert response.status_code == expected
    if expected == 200:
        assert response.data["username"] == target


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 403),
        ("contractor_b", 403),
        ("manager_a", 403),
        ("manager_b", 403),
        ("finance", 403),
        ("admin", 201),
    ],
)
def test_users_create(world, client_for, caller, expected):
    # given
    body = {
        "username": "newbie",
        "password": "a-Long-unusual-passphrase-91",
        "email": "n@example.com",
        "role": "finance",
    }
    # when
    response = client_for(world.user(caller)).post(f"{API}/users/", body, format="json")
    # then
    assert response.status_code == expected, response.data
    assert User.objects.filter(username="newbie", role=Role.FINANCE).exists() == (expected == 201)


# --- teams/ (admin writes; manager reads own; finance reads all) ----------------------------


@pytest.mark.parametrize(
    ("caller", "expected", "visible"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 403, None),
        ("contractor_b", 403, None),
        ("manager_a", 200, ["team_a"]),
        ("manager_b", 200, ["team_b"]),
        ("finance", 200, ["team_a", "team_b"]),
        ("admin", 200, ["team_a", "team_b"]),
    ],
)
def test_teams_list(world, client_for, caller, expected, visible):
    # when
    response = client_for(world.user(caller)).get(f"{API}/teams/")
    # then
    assert response.status_code == expected
    if visible is not None:
        assert ids(response) == pks(world, *visible)


@pytest.mark.parametrize(
    ("caller", "method", "target", "expected"),
    [
        ("anonymous", "GET", "team_a", 401),
        ("contractor_a", "GET", "team_a", 403),
        ("contractor_a", "GET", "team_b", 403),
        ("contractor_b", "GET", "team_b", 403),
        ("manager_a", "GET", "team_a", 200),
        ("manager_a", "GET", "team_b", 404),
        ("manager_b", "GET", "team_a", 404),
        ("manager_b", "GET", "team_b", 200),
        ("finance", "GET", "team_a", 200),
        ("finance", "GET", "team_b", 200),
        ("admin", "GET", "team_a", 200),
        ("admin", "GET", "team_b", 200),
        ("anonymous", "PATCH", "team_a", 401),
        ("contractor_a", "PATCH", "team_a", 403),
        ("contractor_b", "PATCH", "team_b", 403),
        ("manager_a", "PATCH", "team_a", 403),
        ("manager_a", "PATCH", "team_b", 403),
        ("manager_b", "PATCH", "team_a", 403),
        ("manager_b", "PATCH", "team_b", 403),
        ("finance", "PATCH", "team_a", 403),
        ("admin", "PATCH", "team_a", 200),
        ("admin", "PATCH", "team_b", 200),
    ],
)
def test_team_object_access(world, client_for, caller, method, target, expected):
    # given
    team = getattr(world, target)
    # when
    response = send(client_for(world.user(caller)), method, f"{API}/teams/{team.pk}/", {"name": "Renamed"})
    # then
    assert response.status_code == expected
    renamed = Team.objects.get(pk=team.pk).name == "Renamed"
    assert renamed == (method == "PATCH" and expected == 200)
    if method == "GET" and expected == 200:
        assert response.data["id"] == team.pk


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 403),
        ("contractor_b", 403),
        ("manager_a", 403),
        ("manager_b", 403),
        ("finance", 403),
        ("admin", 201),
    ],
)
def test_teams_create(world, client_for, caller, expected):
    # when
    response = client_for(world.user(caller)).post(
        f"{API}/teams/", {"name": "Team C", "managers": [world.manager_a.pk]}, format="json"
    )
    # then
    assert response.status_code == expected, response.data
    assert Team.objects.filter(name="Team C").exists() == (expected == 201)


# --- workers/ (admin, finance write; manager reads own teams; contractor reads self) --------


@pytest.mark.parametrize(
    ("caller", "expected", "visible"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 200, ["worker_a"]),
        ("contractor_a2", 200, ["worker_a2"]),
        ("contractor_b", 200, ["worker_b"]),
        ("manager_a", 200, ["worker_a", "worker_a2"]),
        ("manager_b", 200, ["worker_b"]),
        ("finance", 200, ["worker_a", "worker_a2", "worker_b"]),
        ("admin", 200, ["worker_a", "worker_a2", "worker_b"]),
    ],
)
def test_workers_list(world, client_for, caller, expected, visible):
    # when
    response = client_for(world.user(caller)).get(f"{API}/workers/")
    # then
    assert response.status_code == expected
    if visible is not None:
        assert ids(response) == pks(world, *visible)


@pytest.mark.parametrize(
    ("caller", "method", "target", "expected"),
    [
        ("anonymous", "GET", "worker_a", 401),
        ("contractor_a", "GET", "worker_a", 200),
        ("contractor_a", "GET", "worker_a2", 404),
        ("contractor_a", "GET", "worker_b", 404),
        ("contractor_b", "GET", "worker_a", 404),
        ("contractor_b", "GET", "worker_a2", 404),
        ("contractor_b", "GET", "worker_b", 200),
        ("manager_a", "GET", "worker_a", 200),
        ("manager_a", "GET", "worker_a2", 200),
        ("manager_a", "GET", "worker_b", 404),
        ("manager_b", "GET", "worker_a", 404),
        ("manager_b", "GET", "worker_a2", 404),
        ("manager_b", "GET", "worker_b", 200),
        ("finance", "GET", "worker_a", 200),
        ("finance", "GET", "worker_a2", 200),
        ("finance", "GET", "worker_b", 200),
        ("admin", "GET", "worker_a", 200),
        ("admin", "GET", "worker_a2", 200),
        ("admin", "GET", "worker_b", 200),
        ("anonymous", "PATCH", "worker_a", 401),
        ("contractor_a", "PATCH", "worker_a", 403),
        ("contractor_a", "PATCH", "worker_a2", 403),
        ("contractor_a", "PATCH", "worker_b", 403),
        ("contractor_b", "PATCH", "worker_b", 403),
        ("manager_a", "PATCH", "worker_a", 403),
        ("manager_a", "PATCH", "worker_a2", 403),
        ("manager_a", "PATCH", "worker_b", 403),
        ("manager_b", "PATCH", "worker_b", 403),
        ("finance", "PATCH", "worker_a", 200),
        ("finance", "PATCH", "worker_a2", 200),
        ("finance", "PATCH", "worker_b", 200),
        ("admin", "PATCH", "worker_a", 200),
        ("admin", "PATCH", "worker_b", 200),
    ],
)
def test_worker_object_access(world, client_for, caller, method, target, expected):
    # given
    worker = getattr(world, target)
    # when
    response = send(
        client_for(world.user(caller)), method, f"{API}/workers/{worker.pk}/", {"full_name": "Renamed"}
    )
    # then
    assert response.status_code == expected
    renamed = Worker.objects.get(pk=worker.pk).full_name == "Renamed"
    assert renamed == (method == "PATCH" and expected == 200)
    if method == "GET" and expected == 200:
        assert (response.data["id"], response.data["user"]) == (worker.pk, worker.user_id)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 403),
        ("contractor_b", 403),
        ("manager_a", 403),
        ("manager_b", 403),
        ("finance", 201),
        ("admin", 201),
    ],
)
def test_workers_create(world, client_for, caller, expected):
    # given: a contractor sign-in without a profile yet
    user = UserFactory(username="newcomer", role=Role.CONTRACTOR)
    body = {
        "user": user.pk,
        "full_name": "New Comer",
        "email": "newcomer@example.com",
        "time_zone": "Europe/Berlin",
        "team": world.team_a.pk,
        "currency": "EUR",
    }
    # when
    response = client_for(world.user(caller)).post(f"{API}/workers/", body, format="json")
    # then
    assert response.status_code == expected, response.data
    assert Worker.objects.filter(user=user).exists() == (expected == 201)


# --- projects/ (admin, finance write; everyone reads those they may log on) -----------------


@pytest.mark.parametrize(
    ("caller", "expected", "visible"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 200, {"project_a": ["worker_a"]}),
        ("contractor_a2", 200, {"project_a": ["worker_a2"]}),
        ("contractor_b", 200, {"project_b": ["worker_b"]}),
        ("manager_a", 200, {"project_a": ["worker_a", "worker_a2"]}),
        ("manager_b", 200, {"project_b": ["worker_b"]}),
        ("finance", 200, {"project_a": ["worker_a", "worker_a2"], "project_b": ["worker_b"]}),
        ("admin", 200, {"project_a": ["worker_a", "worker_a2"], "project_b": ["worker_b"]}),
    ],
)
def test_projects_list_shows_only_visible_projects_and_workers(world, client_for, caller, expected, visible):
    # when
    response = client_for(world.user(caller)).get(f"{API}/projects/")
    # then
    assert response.status_code == expected
    if visible is not None:
        shown = {row["id"]: sorted(row["workers"]) for row in response.data["results"]}
        assert shown == {
            getattr(world, project).pk: pks(world, *workers) for project, workers in visible.items()
        }


@pytest.mark.parametrize(
    ("caller", "visible"),
    [
        ("contractor_a", {"project_a": ["worker_a"], "shared": ["worker_a"]}),
        ("contractor_b", {"project_b": ["worker_b"], "shared": ["worker_b"]}),
        ("manager_a", {"project_a": ["worker_a", "worker_a2"], "shared": ["worker_a"]}),
        ("manager_b", {"project_b": ["worker_b"], "shared": ["worker_b"]}),
        (
            "finance",
            {
                "project_a": ["worker_a", "worker_a2"],
                "project_b": ["worker_b"],
                "shared": ["worker_a", "worker_b"],
            },
        ),
    ],
)
def test_a_project_shared_across_teams_lists_only_the_callers_workers(world, client_for, caller, visible):
    # given: one project with a worker of each team
    shared = Project.objects.create(name="Shared", client="Acme AI")
    shared.workers.set([world.worker_a, world.worker_b])
    named = {"project_a": world.project_a.pk, "project_b": world.project_b.pk, "shared": shared.pk}
    # when
    response = client_for(world.user(caller)).get(f"{API}/projects/")
    # then
    assert response.status_code == 200
    shown = {row["id"]: sorted(row["workers"]) for row in response.data["results"]}
    assert shown == {named[project]: pks(world, *workers) for project, workers in visible.items()}


@pytest.mark.parametrize(
    ("caller", "method", "target", "expected"),
    [
        ("anonymous", "GET", "project_a", 401),
        ("contractor_a", "GET", "project_a", 200),
        ("contractor_a", "GET", "project_b", 404),
        ("contractor_a2", "GET", "project_a", 200),
        ("contractor_b", "GET", "project_a", 404),
        ("contractor_b", "GET", "project_b", 200),
        ("manager_a", "GET", "project_a", 200),
        ("manager_a", "GET", "project_b", 404),
        ("manager_b", "GET", "project_a", 404),
        ("manager_b", "GET", "project_b", 200),
        ("finance", "GET", "project_a", 200),
        ("finance", "GET", "project_b", 200),
        ("admin", "GET", "project_a", 200),
        ("admin", "GET", "project_b", 200),
        ("anonymous", "PATCH", "project_a", 401),
        ("contractor_a", "PATCH", "project_a", 403),
        ("contractor_a", "PATCH", "project_b", 403),
        ("contractor_b", "PATCH", "project_b", 403),
        ("manager_a", "PATCH", "project_a", 403),
        ("manager_a", "PATCH", "project_b", 403),
        ("manager_b", "PATCH", "project_b", 403),
        ("finance", "PATCH", "project_a", 200),
        ("finance", "PATCH", "project_b", 200),
        ("admin", "PATCH", "project_a", 200),
        ("admin", "PATCH", "project_b", 200),
    ],
)
def test_project_object_access(world, client_for, caller, method, target, expected):
    # given
    project = getattr(world, target)
    # when
    response = send(
        client_for(world.user(caller)), method, f"{API}/projects/{project.pk}/", {"name": "Renamed"}
    )
    # then
    assert response.status_code == expected
    renamed = Project.objects.get(pk=project.pk).name == "Renamed"
    assert renamed == (method == "PATCH" and expected == 200)
    if method == "GET" and expected == 200:
        assert response.data["id"] == project.pk


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 403),
        ("contractor_b", 403),
        ("manager_a", 403),
        ("manager_b", 403),
        ("finance", 201),
        ("admin", 201),
    ],
)
def test_projects_create(world, client_for, caller, expected):
    # given
    body = {"name": "Project C", "client": "Acme AI", "workers": [world.worker_a.pk, world.worker_b.pk]}
    # when
    response = client_for(world.user(caller)).post(f"{API}/projects/", body, format="json")
    # then
    assert response.status_code == expected, response.data
    created = Project.objects.filter(name="Project C").first()
    assert (created is not None) == (expected == 201)
    if created:
        assert sorted(created.workers.values_list("pk", flat=True)) == pks(world, "worker_a", "worker_b")


@pytest.mark.parametrize(
    ("caller", "resource", "target", "expected"),
    [
        ("admin", "teams", "team_a", 405),
        ("admin", "workers", "worker_a", 405),
        ("finance", "workers", "worker_a", 405),
        ("admin", "projects", "project_a", 405),
        ("finance", "projects", "project_a", 405),
        ("contractor_a", "projects", "project_a", 403),
        ("manager_a", "workers", "worker_a", 403),
    ],
)
def test_teams_workers_and_projects_cannot_be_deleted(world, client_for, caller, resource, target, expected):
    # given
    row = getattr(world, target)
    # when
    response = client_for(world.user(caller)).delete(f"{API}/{resource}/{row.pk}/")
    # then
    assert response.status_code == expected
    assert type(row).objects.filter(pk=row.pk).exists()


# --- sessions/ (contractor writes own; manager reads teams; finance, admin read all) --------


@pytest.mark.parametrize(
    ("caller", "expected", "visible"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 200, ["session_a"]),
        ("contractor_a2", 200, ["session_a2"]),
        ("contractor_b", 200, ["session_b"]),
        ("manager_a", 200, ["session_a", "session_a2"]),
        ("manager_b", 200, ["session_b"]),
        ("finance", 200, ["session_a", "session_a2", "session_b"]),
        ("admin", 200, ["session_a", "session_a2", "session_b"]),
    ],
)
def test_sessions_list(world, client_for, caller, expected, visible):
    # when
    response = client_for(world.user(caller)).get(f"{API}/sessions/")
    # then
    assert response.status_code == expected
    if visible is not None:
        assert ids(response) == pks(world, *visible)


@pytest.mark.parametrize(
    ("caller", "query"),
    [
        ("contractor_a", "worker={worker_a2}"),
        ("contractor_a", "worker={worker_b}"),
        ("contractor_a", "project={project_b}"),
        ("manager_a", "worker={worker_b}"),
        ("manager_b", "project={project_a}"),
    ],
)
def test_session_filters_never_widen_the_callers_scope(world, client_for, caller, query):
    # given
    query = query.format(
        **{name: getattr(world, name).pk for name in ("worker_a2", "worker_b", "project_a", "project_b")}
    )
    # when
    response = client_for(world.user(caller)).get(f"{API}/sessions/?{query}")
    # then
    assert response.status_code == 200
    assert response.data["count"] == 0


def test_worker_filter_by_foreign_team_is_empty_for_a_manager(world, client_for):
    # when
    response = client_for(world.manager_a).get(f"{API}/workers/?team={world.team_b.pk}")
    # then
    assert response.status_code == 200
    assert response.data["count"] == 0


SESSION_CELLS = [
    # caller, method, target, expected
    ("anonymous", "GET", "session_a", 401),
    ("anonymous", "PATCH", "session_a", 401),
    ("anonymous", "PUT", "session_a", 401),
    ("anonymous", "DELETE", "session_a", 401),
    ("contractor_a", "GET", "session_a", 200),
    ("contractor_a", "GET", "session_a2", 404),
    ("contractor_a", "GET", "session_b", 404),
    ("contractor_a", "PATCH", "session_a", 200),
    ("contractor_a", "PATCH", "session_a2", 404),
    ("contractor_a", "PATCH", "session_b", 404),
    ("contractor_a", "PUT", "session_a", 200),
    ("contractor_a", "PUT", "session_a2", 404),
    ("contractor_a", "PUT", "session_b", 404),
    ("contractor_a", "DELETE", "session_a", 204),
    ("contractor_a", "DELETE", "session_a2", 404),
    ("contractor_a", "DELETE", "session_b", 404),
    ("contractor_b", "GET", "session_a", 404),
    ("contractor_b", "GET", "session_a2", 404),
    ("contractor_b", "GET", "session_b", 200),
    ("contractor_b", "PATCH", "session_a", 404),
    ("contractor_b", "PATCH", "session_a2", 404),
    ("contractor_b", "PATCH", "session_b", 200),
    ("contractor_b", "PUT", "session_a", 404),
    ("contractor_b", "PUT", "session_a2", 404),
    ("contractor_b", "PUT", "session_b", 200),
    ("contractor_b", "DELETE", "session_a", 404),
    ("contractor_b", "DELETE", "session_a2", 404),
    ("contractor_b", "DELETE", "session_b", 204),
    ("manager_a", "GET", "session_a", 200),
    ("manager_a", "GET", "session_a2", 200),
    ("manager_a", "GET", "session_b", 404),
    ("manager_a", "PATCH", "session_a", 403),
    ("manager_a", "PATCH", "session_a2", 403),
    ("manager_a", "PATCH", "session_b", 403),
    ("manager_a", "PUT", "session_a", 403),
    ("manager_a", "PUT", "session_b", 403),
    ("manager_a", "DELETE", "session_a", 403),
    ("manager_a", "DELETE", "session_b", 403),
    ("manager_b", "GET", "session_a", 404),
    ("manager_b", "GET", "session_a2", 404),
    ("manager_b", "GET", "session_b", 200),
    ("manager_b", "PATCH", "session_a", 403),
    ("manager_b", "PATCH", "session_b", 403),
    ("manager_b", "PUT", "session_b", 403),
    ("manager_b", "DELETE", "session_b", 403),
    ("finance", "GET", "session_a", 200),
    ("finance", "GET", "session_a2", 200),
    ("finance", "GET", "session_b", 200),
    ("finance", "PATCH", "session_a", 403),
    ("finance", "PATCH", "session_b", 403),
    ("finance", "PUT", "session_a", 403),
    ("finance", "DELETE", "session_a", 403),
    ("finance", "DELETE", "session_b", 403),
    ("admin", "GET", "session_a", 200),
    ("admin", "GET", "session_a2", 200),
    ("admin", "GET", "session_b", 200),
    ("admin", "PATCH", "session_a", 403),
    ("admin", "PATCH", "session_b", 403),
    ("admin", "PUT", "session_a", 403),
    ("admin", "PUT", "session_b", 403),
    ("admin", "DELETE", "session_a", 403),
    ("admin", "DELETE", "session_b", 403),
]


@pytest.mark.parametrize(("caller", "method", "target", "expected"), SESSION_CELLS)
def test_session_object_access(world, frozen_now, client_for, caller, method, target, expected):
    # given
    session = getattr(world, target)
    bodies = {
        "PATCH": {"notes": "edited"},
        "PUT": {**SESSION_TIMES, "project": session.project_id, "notes": "edited"},
    }
    # when
    response = send(
        client_for(world.user(caller)), method, f"{API}/sessions/{session.pk}/", bodies.get(method)
    )
    # then
    assert response.status_code == expected, response.data
    stored = LabellingSession.objects.filter(pk=session.pk).first()
    assert (stored is None) == (method == "DELETE" and expected == 204)
    if stored is not None:
        assert (stored.notes == "edited") == (method in ("PATCH", "PUT") and expected == 200)
    if method == "GET" and expected == 200:
        assert (response.data["id"], response.data["worker"]) == (session.pk, session.worker_id)


def test_a_foreign_session_looks_exactly_like_a_missing_one(world, client_for):
    # given
    client = client_for(world.contractor_a)
    missing = LabellingSession.objects.order_by("-pk").first().pk + 1000
    # when
    foreign = client.get(f"{API}/sessions/{world.session_b.pk}/")
    absent = client.get(f"{API}/sessions/{missing}/")
    # then
    assert (foreign.status_code, foreign.data) == (absent.status_code, absent.data)
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("caller", "project", "expected"),
    [
        ("anonymous", "project_a", 401),
        ("contractor_a", "project_a", 201),
        ("contractor_a2", "project_a", 201),
        ("contractor_b", "project_b", 201),
        ("manager_a", "project_a", 403),
        ("manager_b", "project_b", 403),
        ("finance", "project_a", 403),
        ("admin", "project_a", 403),
    ],
)
def test_sessions_create(world, frozen_now, client_for, caller, project, expected):
    # given
    body = {**SESSION_TIMES, "project": getattr(world, project).pk, "notes": "entered by hand"}
    # when
    response = client_for(world.user(caller)).post(f"{API}/sessions/", body, format="json")
    # then
    assert response.status_code == expected, response.data
    created = LabellingSession.objects.filter(notes="entered by hand")
    assert created.exists() == (expected == 201)
    if expected == 201:
        assert created.get().worker.user == world.user(caller)


@pytest.mark.parametrize(
    ("caller", "project", "expected"),
    [
        ("anonymous", "project_a", 401),
        ("contractor_a", "project_a", 201),
        ("contractor_b", "project_b", 201),
        ("manager_a", "project_a", 403),
        ("manager_b", "project_b", 403),
        ("finance", "project_a", 403),
        ("admin", "project_a", 403),
    ],
)
def test_sessions_start(world, frozen_now, client_for, caller, project, expected):
    # when
    response = client_for(world.user(caller)).post(
        f"{API}/sessions/start/", {"project": getattr(world, project).pk}, format="json"
    )
    # then
    assert response.status_code == expected, response.data
    running = LabellingSession.objects.filter(ended_at__isnull=True)
    assert running.exists() == (expected == 201)
    if expected == 201:
        assert running.get().worker.user == world.user(caller)
        assert running.get().started_at == NOW


@pytest.fixture
def running(world) -> dict[str, LabellingSession]:
    """A timer running for an hour for each of worker_a, worker_a2 and worker_b."""
    return {
        f"running_{suffix}": SessionFactory(
            worker=worker,
            project=project,
            started_at=NOW - timedelta(hours=1),
            ended_at=None,
            source=SessionSource.TIMER,
        )
        for suffix, worker, project in (
            ("a", world.worker_a, world.project_a),
            ("a2", world.worker_a2, world.project_a),
            ("b", world.worker_b, world.project_b),
        )
    }


@pytest.mark.parametrize(
    ("caller", "target", "expected"),
    [
        ("anonymous", "running_a", 401),
        ("contractor_a", "running_a", 200),
        ("contractor_a", "running_a2", 404),
        ("contractor_a", "running_b", 404),
        ("contractor_b", "running_a", 404),
        ("contractor_b", "running_a2", 404),
        ("contractor_b", "running_b", 200),
        ("manager_a", "running_a", 403),
        ("manager_a", "running_a2", 403),
        ("manager_a", "running_b", 403),
        ("manager_b", "running_b", 403),
        ("finance", "running_a", 403),
        ("finance", "running_b", 403),
        ("admin", "running_a", 403),
        ("admin", "running_b", 403),
    ],
)
def test_sessions_stop(world, frozen_now, running, client_for, caller, target, expected):
    # given
    session = running[target]
    # when
    response = client_for(world.user(caller)).post(
        f"{API}/sessions/{session.pk}/stop/", {"task_count": 7}, format="json"
    )
    # then
    assert response.status_code == expected, response.data
    session.refresh_from_db()
    assert session.ended_at == (NOW if expected == 200 else None)
    assert session.task_count == (7 if expected == 200 else 0)


def import_body(world, caller: str) -> bytes:
    """A one-row CSV the caller may import: admins name the worker, contractors leave it out."""
    row = f"{SESSION_TIMES['started_at']},{SESSION_TIMES['ended_at']},4,csv"
    if caller == "admin":
        header = "worker,project,started_at,ended_at,task_count,notes"
        return f"{header}\n{world.worker_a.pk},{world.project_a.pk},{row}\n".encode()
    project = getattr(world, CONTRACTOR_PROJECT.get(caller, "project_a"))
    return f"project,started_at,ended_at,task_count,notes\n{project.pk},{row}\n".encode()


@pytest.mark.parametrize(
    ("caller", "expected", "owner"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 201, "worker_a"),
        ("contractor_b", 201, "worker_b"),
        ("manager_a", 403, None),
        ("manager_b", 403, None),
        ("finance", 403, None),
        ("admin", 201, "worker_a"),
    ],
)
def test_sessions_import(world, frozen_now, client_for, caller, expected, owner):
    # when
    response = client_for(world.user(caller)).post(
        f"{API}/sessions/import/", import_body(world, caller), content_type="text/csv"
    )
    # then
    assert response.status_code == expected, response.data
    imported = LabellingSession.objects.filter(source=SessionSource.IMPORT)
    assert list(imported.values_list("worker_id", flat=True)) == ([getattr(world, owner).pk] if owner else [])
    if expected == 201:
        assert response.data == {"imported": 1}


# --- foreign keys in request bodies are scoped to what the caller may see ------------------


def test_contractor_cannot_create_a_session_on_another_teams_project(world, frozen_now, client_for):
    # given
    body = {**SESSION_TIMES, "project": world.project_b.pk}
    # when
    response = client_for(world.contractor_a).post(f"{API}/sessions/", body, format="json")
    # then
    assert response.status_code == 400
    assert set(response.data) == {"project"}
    assert not LabellingSession.objects.filter(project=world.project_b, worker=world.worker_a).exists()


def test_the_worker_of_a_new_session_is_the_caller_whatever_the_body_says(world, frozen_now, client_for):
    # given: a body naming another team's worker
    body = {**SESSION_TIMES, "project": world.project_a.pk, "worker": world.worker_b.pk, "notes": "mine"}
    # when
    response = client_for(world.contractor_a).post(f"{API}/sessions/", body, format="json")
    # then
    assert response.status_code == 201, response.data
    assert LabellingSession.objects.get(notes="mine").worker == world.worker_a
    assert not LabellingSession.objects.filter(worker=world.worker_b, notes="mine").exists()


def test_contractor_cannot_move_a_session_to_another_teams_project(world, frozen_now, client_for):
    # when
    response = client_for(world.contractor_a).patch(
        f"{API}/sessions/{world.session_a.pk}/", {"project": world.project_b.pk}, format="json"
    )
    # then
    assert response.status_code == 400
    assert set(response.data) == {"project"}
    world.session_a.refresh_from_db()
    assert world.session_a.project == world.project_a


def test_contractor_cannot_start_a_timer_on_another_teams_project(world, frozen_now, client_for):
    # when
    response = client_for(world.contractor_a).post(
        f"{API}/sessions/start/", {"project": world.project_b.pk}, format="json"
    )
    # then
    assert response.status_code == 400
    assert set(response.data) == {"project"}
    assert not LabellingSession.objects.filter(ended_at__isnull=True).exists()


@pytest.mark.parametrize(
    ("header", "row", "field"),
    [
        ("project,started_at,ended_at", "{project_b},{times}", "project"),
        ("worker,project,started_at,ended_at", "{worker_b},{project_b},{times}", "worker"),
        ("worker,project,started_at,ended_at", "{worker_a2},{project_a},{times}", "worker"),
    ],
)
def test_contractor_cannot_import_onto_foreign_workers_or_projects(
    world, frozen_now, client_for, header, row, field
):
    # given
    names = {name: getattr(world, name).pk for name in ("worker_a2", "worker_b", "project_a", "project_b")}
    times = f"{SESSION_TIMES['started_at']},{SESSION_TIMES['ended_at']}"
    body = f"{header}\n{row.format(times=times, **names)}\n".encode()
    # when
    response = client_for(world.contractor_a).post(f"{API}/sessions/import/", body, content_type="text/csv")
    # then
    assert response.status_code == 400
    assert field in response.data["rows"][0]["errors"]
    assert not LabellingSession.objects.filter(source=SessionSource.IMPORT).exists()


def test_admin_may_not_assign_a_team_manager_who_is_not_a_manager(world, client_for):
    # when
    response = client_for(world.admin).patch(
        f"{API}/teams/{world.team_a.pk}/", {"managers": [world.contractor_a.pk]}, format="json"
    )
    # then
    assert response.status_code == 400
    assert set(response.data) == {"managers"}
    assert list(world.team_a.managers.all()) == [world.manager_a]
