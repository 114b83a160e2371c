"""Logging a session through the API, the busiest write: what it answers and what it costs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trainers.models import LabellingSession

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
    # then: token with user and worker; project scope; the transaction (a savepoint inside the
    # test's own): worker lock with the assignment, period lock, (on SQLite) overlap, session +
    # history row
    assert response.status_code == 201, response.data
    statements = [
        query["sql"].split()[0].upper()
        for query in queries.captured_queries
        if not query["sql"].startswith("PREPARE")  # once per connection and statement
    ]
    if connection.vendor == "postgresql":
        # token, worker lock and write are prepared statements; the write is the session and
        # its history row in one statement; the exclusion constraint refuses overlaps
        assert " ".join(statements) == "EXECUTE SELECT SAVEPOINT EXECUTE SELECT EXECUTE RELEASE"
    else:
        assert " ".join(statements) == "SELECT SELECT SAVEPOINT SELECT SELECT SELECT INSERT INSERT RELEASE"
