"""Logging a session through the API, the busiest write: what it answers and what it costs."""

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from trainers import api, api_session_entry
from trainers.models import LabellingSession, Project, User

pytestmark = pytest.mark.django_db

URL = "/api/v1/sessions/"
BODY = {"started_at": "2026-11-16T09:00:00-06:00", "ended_at": "2026-11-16T10:30:00-06:00", "task_count": 4}


def test_the_answer_is_the_stored_session(world, frozen_now, client_for):
    # when
    response = client_for(world.contractor_a).post(
        URL, {**BODY, "project": world.project_a.pk}, format="json"
    )
    # then
    assert response.status_code == 201, response.data
    stored = LabellingSession.objects.get(pk=response.data["id"])
    assert response.json() == {
        "id": stored.pk,
        "worker": world.worker_a.pk,
        "project": world.project_a.pk,
        "started_at": "2026-11-16T15:00:00Z",
        "ended_at": "2026-11-16T16:30:00Z",
        "task_count": 4,
        "notes": "",
        "source": "manual",
        "needs_review": False,
        "period": "2026-W47",
        "duration_seconds": 5400,
        "created_at": stored.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": stored.updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_a_logged_session_costs_a_fixed_number_of_queries(world, frozen_now, client_for):
    # given
    client = client_for(world.contractor_a)
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, {**BODY, "project": world.project_a.pk}, format="json")
    # then: the token with its user, worker and the project if assigned to them; the transaction
    # (a savepoint inside the test's own): the worker lock with the assignment, the period lock,
    # the session and its history row
    assert response.status_code == 201, response.data
    statements = [
        query["sql"].split()[0].upper()
        for query in queries.captured_queries
        if not query["sql"].startswith("PREPARE")  # once per connection and statement
    ]
    if connection.vendor == "postgresql":
        # prepared statements; the exclusion constraint refuses overlaps, so no overlap query
        assert " ".join(statements) == "EXECUTE SAVEPOINT EXECUTE EXECUTE EXECUTE RELEASE"
    else:
        # the overlap query, then the session and its history row
        assert " ".join(statements) == "SELECT SAVEPOINT SELECT SELECT SELECT INSERT INSERT RELEASE"


def test_a_deleted_token_or_a_deactivated_user_stops_logging_at_once(world, frozen_now, client_for):
    # given a contractor who has just logged a session
    client = client_for(world.contractor_a)
    assert client.post(URL, {**BODY, "project": world.project_a.pk}, format="json").status_code == 201
    later = {"started_at": "2026-11-16T11:00:00-06:00", "ended_at": "2026-11-16T12:00:00-06:00"}
    # when the token is deleted / the user deactivated (with a new token)
    Token.objects.filter(user=world.contractor_a).delete()
    after_delete = client.post(URL, {**later, "project": world.project_a.pk}, format="json")
    client = client_for(world.contractor_a)
    User.objects.filter(pk=world.contractor_a.pk).update(is_active=False)
    after_deactivation = client.post(URL, {**later, "project": world.project_a.pk}, format="json")
    # then both are refused with DRF's words, and nothing more is written
    assert (after_delete.status_code, after_delete.json()) == (401, {"detail": "Invalid token."})
    assert (after_deactivation.status_code, after_deactivation.json()) == (
        401,
        {"detail": "User inactive or deleted."},
    )
    assert LabellingSession.objects.filter(worker=world.worker_a).count() == 2  # the world's and the first


# --- the quick path (trainers.api_session_entry) answers as DRF's view does --------------------

SOON = {"started_at": "2026-11-16T09:00:00-06:00", "ended_at": "2026-11-16T10:30:00-06:00"}


def case(name: str, body: dict[str, Any], *, quick: bool, who: str = "contractor_a", **setup: Any) -> Any:
    """One request: whether the quick path should serve it, who sends it, and what to set up first."""
    return pytest.param(body, who, setup, quick, id=name)


LATER = {"started_at": "2026-11-21T09:00:00-06:00", "ended_at": "2026-11-21T10:00:00-06:00"}
OVER_THE_WORLDS_SESSION = {"started_at": "2026-11-02T08:30:00-06:00", "ended_at": "2026-11-02T10:00:00-06:00"}
CASES = [
    case("logged", {**SOON, "task_count": 4, "notes": "línea \u2028 two"}, quick=True),
    case("overlap", OVER_THE_WORLDS_SESSION, quick=True),
    case("locked-period", SOON, lock="2026-W47", quick=True),
    case("inactive-project", SOON, inactive_project=True, quick=True),
    case("too-long", {**SOON, "ended_at": "2026-11-17T09:00:00-06:00"}, quick=True),
    case("in-the-future", LATER, quick=True),
    case("project-of-another-team", SOON, project="b", quick=False),
    case("bad-field", {**SOON, "task_count": "1_0"}, quick=False),
    case("naive-instant", {**SOON, "started_at": "2026-11-16T09:00:00"}, quick=False),
    case("no-project", {**SOON, "project": None}, quick=False),
    case("project-as-text", SOON, project="text", quick=False),
    case("manager", SOON, who="manager_a", quick=False),
    case("inactive-user", SOON, who="inactive", quick=False),
    case("unknown-token", SOON, who="unknown", quick=False),
]


@pytest.mark.parametrize(("body", "who", "setup", "quick"), CASES)
def test_the_quick_path_answers_as_drf_does(
    world, frozen_now, client_for, lock_period, monkeypatch, body, who, setup, quick
):
    # given
    client = _client(world, client_for, who)
    body = {"project": _project(world, setup.get("project", "a")), **body}
    if "lock" in setup:
        lock_period(world.worker_a, setup["lock"])
    if setup.get("inactive_project"):
        Project.objects.filter(pk=world.project_a.pk).update(is_active=False)
    served = []

    def spy(request: Any, headers: dict[str, str]) -> Any:
        served.append(api_session_entry.quick_session_create(request, headers))
        return served[-1]

    monkeypatch.setattr(api, "quick_session_create", spy)
    # when the same request is answered on the quick path (then undone), and by DRF's view alone
    with transaction.atomic():
        quick_answer = _answer(client.post(URL, body, format="json"))
        transaction.set_rollback(True)
    monkeypatch.setattr(api, "quick_session_create", lambda request, headers: None)
    drf_answer = _answer(client.post(URL, body, format="json"))
    # then
    assert (served[0] is not None) == quick
    assert quick_answer == drf_answer


def _client(world: Any, client_for: Any, who: str) -> Any:
    if who == "unknown":
        client = client_for(None)
        client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
        return client
    if who == "inactive":
        client = client_for(world.contractor_a)
        User.objects.filter(pk=world.contractor_a.pk).update(is_active=False)
        return client
    return client_for(getattr(world, who))


def _project(world: Any, which: str) -> Any:
    return {"a": world.project_a.pk, "b": world.project_b.pk, "text": str(world.project_a.pk)}[which]


def _answer(response: Any) -> tuple[int, Any, dict[str, str | None]]:
    """Status, body (a new session's id aside: the sequence moves on) and DRF's headers."""
    body = response.json()
    if response.status_code == 201:
        body = {**body, "id": "new"}
    headers = {
        name: response.headers.get(name) for name in ("Content-Type", "Allow", "Vary", "WWW-Authenticate")
    }
    return response.status_code, body, headers
