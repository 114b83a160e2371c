"""Logging a session through the API, the busiest write: what it answers and what it costs."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from trainers.models import LabellingSession, Project, User

pytestmark = pytest.mark.django_db

URL = "/api/v1/sessions/"
PREPARE_AFTER = 5  # psycopg's prepare_threshold in settings.DATABASES
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
        "activity": "labelling",
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
    # then: the token with its user and worker; the project among those the caller may see; the
    # transaction (a savepoint inside the test's own): the worker lock with the assignment, the
    # period lock, and one statement for the session and its history row; then its week priced
    # (payroll.services.close.timesheets_refresh) with the worker the write holds: its spans,
    # rates and adjustments, its unsigned timesheet locked with its lines (none yet: the
    # week's first session), the timesheet inserted and its lines copied. No pay-summary
    # rows: this worker has no rate, so the time is unpriced and the sums do not change.
    assert response.status_code == 201, response.data
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    # the exclusion constraint refuses overlaps, so no overlap query
    logging = "SELECT SELECT SAVEPOINT SELECT SELECT WITH"
    pricing = "SELECT SELECT SELECT WITH INSERT COPY"
    assert " ".join(statements) == f"{logging} {pricing} RELEASE"


@pytest.mark.django_db(transaction=True)
def test_the_busiest_statements_are_prepared_on_each_connection(world, frozen_now, client_for):
    """psycopg prepares a statement after PREPARE_AFTER runs on a connection (settings.DATABASES)."""
    # given a new connection
    client = client_for(world.contractor_a)
    connection.close()
    # when a contractor logs one more session than that, one hour apart
    for hour in range(PREPARE_AFTER + 1):
        start = f"2026-11-17T{hour:02d}:00:00Z"
        body = {
            "project": world.project_a.pk,
            "started_at": start,
            "ended_at": start.replace(":00:00", ":30:00"),
        }
        assert client.post(URL, body, format="json").status_code == 201
    # then the token check, the worker lock and the session insert are prepared statements
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = " ".join(statement for (statement,) in cursor.fetchall())
    assert '"knox_authtoken"' in prepared
    assert "FOR UPDATE" in prepared
    assert 'INSERT INTO "trainers_labellingsession"' in prepared


def test_a_deleted_token_or_a_deactivated_user_stops_logging_at_once(world, frozen_now, client_for):
    # given a contractor who has just logged a session
    client = client_for(world.contractor_a)
    assert client.post(URL, {**BODY, "project": world.project_a.pk}, format="json").status_code == 201
    later = {"started_at": "2026-11-16T11:00:00-06:00", "ended_at": "2026-11-16T12:00:00-06:00"}
    # when the token is deleted / the user deactivated (with a new token)
    AuthToken.objects.filter(user=world.contractor_a).delete()
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


# --- what a manual entry answers, for each kind of request ----------------------------------

SOON = {"started_at": "2026-11-16T09:00:00-06:00", "ended_at": "2026-11-16T10:30:00-06:00"}
LATER = {"started_at": "2026-11-21T09:00:00-06:00", "ended_at": "2026-11-21T10:00:00-06:00"}
OVER_THE_WORLDS_SESSION = {"started_at": "2026-11-02T08:30:00-06:00", "ended_at": "2026-11-02T10:00:00-06:00"}
FUTURE = "May not be more than 5 minutes in the future."
Expected = Callable[[Any], Any]  # the world -> the body answered (a refusal's, or a logged session's fields)


def case(name: str, body: dict[str, Any], status: int, expected: Expected, **setup: Any) -> Any:
    """One request, who sends it and what to set up first (`who`, `project`, ...), and its answer."""
    return pytest.param(body, setup, status, expected, id=name)


CASES = [
    case(
        "logged",
        {**SOON, "task_count": 4, "notes": "línea \u2028 two"},
        201,
        lambda w: {"project": w.project_a.pk, "task_count": 4, "notes": "línea \u2028 two"},
    ),
    case(
        "overlap",
        OVER_THE_WORLDS_SESSION,
        400,
        lambda w: {
            "started_at": [
                f"Overlaps session {w.session_a.pk} (2026-11-02T15:00:00+00:00 to 2026-11-02T17:00:00+00:00)."
            ]
        },
    ),
    case(
        "locked-period",
        SOON,
        409,
        lambda w: {"detail": "Period 2026-W47 is locked: its timesheet is submitted"},
        lock="2026-W47",
    ),
    case(
        "inactive-project",
        SOON,
        400,
        lambda w: {"project": ["Project 'Project A' is inactive."]},
        inactive_project=True,
    ),
    case(
        "too-long",
        {**SOON, "ended_at": "2026-11-17T09:00:00-06:00"},
        400,
        lambda w: {"ended_at": ["A session may last at most 16 hours."]},
    ),
    case("in-the-future", LATER, 400, lambda w: {"started_at": [FUTURE], "ended_at": [FUTURE]}),
    case(
        "project-of-another-team",
        SOON,
        400,
        lambda w: {"project": [f'Invalid pk "{w.project_b.pk}" - object does not exist.']},
        project="b",
    ),
    case(
        "bad-field",
        {**SOON, "task_count": "1_0"},
        400,
        lambda w: {"task_count": ["Write the number with the digits 0-9 and a dot, e.g. 12.50."]},
    ),
    case(
        "naive-instant",
        {**SOON, "started_at": "2026-11-16T09:00:00"},
        400,
        lambda w: {"started_at": ["Must include a UTC offset, e.g. 2026-11-02T09:00:00-06:00."]},
    ),
    case(
        "no-project", {**SOON, "project": None}, 400, lambda w: {"project": ["This field may not be null."]}
    ),
    case(
        "project-as-text",
        SOON,
        400,
        lambda w: {"project": ["Must be an id: a JSON whole number such as 12, not a string."]},
        project="text",
    ),
    case(
        "manager",
        SOON,
        403,
        lambda w: {"detail": "You do not have permission to perform this action."},
        who="manager_a",
    ),
    case("inactive-user", SOON, 401, lambda w: {"detail": "User inactive or deleted."}, who="inactive"),
    case("unknown-token", SOON, 401, lambda w: {"detail": "Invalid token."}, who="unknown"),
]


@pytest.mark.parametrize(("body", "setup", "status", "expected"), CASES)
def test_a_manual_entry_answers_with_the_apis_status_words_and_headers(
    world, frozen_now, client_for, lock_period, body, setup, status, expected
):
    # given
    client = _client(world, client_for, setup.get("who", "contractor_a"))
    body = {"project": _project(world, setup.get("project", "a")), **body}
    if "lock" in setup:
        lock_period(world.worker_a, setup["lock"])
    if setup.get("inactive_project"):
        Project.objects.filter(pk=world.project_a.pk).update(is_active=False)
    before = LabellingSession.objects.count()
    # when
    response = client.post(URL, body, format="json")
    # then: a logged session is answered as stored; a refusal writes nothing
    assert response.status_code == status, response.content
    answer = response.json()
    if status == 201:
        assert answer == {**answer, **expected(world), "worker": world.worker_a.pk, "source": "manual"}
        assert LabellingSession.objects.count() == before + 1
    else:
        assert answer == expected(world)
        assert LabellingSession.objects.count() == before
    assert _headers(response) == {
        "Content-Type": "application/json",
        "Allow": "GET, POST, HEAD, OPTIONS",
        "Vary": "Accept",
        "WWW-Authenticate": "Token" if status == 401 else None,
    }


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


def _headers(response: Any) -> dict[str, str | None]:
    """The headers DRF's view sets on every answer of this endpoint."""
    return {
        name: response.headers.get(name) for name in ("Content-Type", "Allow", "Vary", "WWW-Authenticate")
    }
