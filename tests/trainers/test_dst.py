"""Sessions across the 2026 DST nights in America/Chicago report the real elapsed seconds."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.factories import ProjectFactory, WorkerFactory
from trainers.models import LabellingSession

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("started_at", "ended_at", "seconds", "period"),
    [
        # Spring forward, Sun 2026-03-08 02:00 CST -> 03:00 CDT: the wall clock shows
        # 4:30 but 3:30 really passed.
        ("2026-03-07T23:00:00-06:00", "2026-03-08T03:30:00-05:00", 3.5 * 3600, "2026-W10"),
        # Fall back, PAY_RULES example 2: 01:00-02:00 happens twice, 5 h really passed.
        ("2026-10-31T23:00:00-05:00", "2026-11-01T03:00:00-06:00", 5 * 3600, "2026-W44"),
        # The same night given in UTC.
        ("2026-11-01T04:00:00Z", "2026-11-01T09:00:00Z", 5 * 3600, "2026-W44"),
        # Inside the repeated hour: first 01:30 (CDT) to second 01:30 (CST) is one hour.
        ("2026-11-01T01:30:00-05:00", "2026-11-01T01:30:00-06:00", 3600, "2026-W44"),
    ],
    ids=["spring-forward", "fall-back", "fall-back-utc", "repeated-hour"],
)
def test_duration_is_real_elapsed_time(client_for, frozen_now, started_at, ended_at, seconds, period):
    # given a contractor in Chicago
    worker = WorkerFactory(time_zone="America/Chicago")
    project = ProjectFactory(workers=[worker])
    # when the session is logged through the API
    response = client_for(worker.user).post(
        "/api/v1/sessions/",
        {"project": project.pk, "started_at": started_at, "ended_at": ended_at},
        format="json",
    )
    # then the API and the stored row agree on the real elapsed seconds
    assert response.status_code == 201, response.json()
    assert response.json()["duration_seconds"] == seconds
    assert response.json()["period"] == period
    assert LabellingSession.objects.get(pk=response.json()["id"]).duration_seconds == seconds


def test_editing_a_session_across_the_fold_keeps_its_instants(client_for, frozen_now):
    """Editing only the notes must not shift a session in the repeated hour (timetracker #103)."""
    worker = WorkerFactory(time_zone="America/Chicago")
    project = ProjectFactory(workers=[worker])
    client = client_for(worker.user)
    created = client.post(
        "/api/v1/sessions/",
        {
            "project": project.pk,
            "started_at": "2026-11-01T01:30:00-06:00",
            "ended_at": "2026-11-01T02:15:00-06:00",
        },
        format="json",
    ).json()
    edited = client.patch(f"/api/v1/sessions/{created['id']}/", {"notes": "second 01:30"}, format="json")
    assert edited.status_code == 200
    assert edited.json()["started_at"] == created["started_at"] == "2026-11-01T07:30:00Z"
    assert edited.json()["duration_seconds"] == 45 * 60


def test_duration_is_real_time_for_instants_written_in_one_zone():
    # Sat 2026-10-31 11:00 CDT (16:00Z) to Sun 03:00 CST (09:00Z): the wall shows 16 h, 17 passed;
    # and the second 01:10 (CST, 07:10Z) to the first 01:50 (CDT, 06:50Z) ends before it starts.
    chicago = ZoneInfo("America/Chicago")
    overnight = LabellingSession(
        started_at=datetime(2026, 10, 31, 11, tzinfo=chicago),
        ended_at=datetime(2026, 11, 1, 3, tzinfo=chicago),
    )
    folded = LabellingSession(
        started_at=datetime(2026, 11, 1, 1, 10, tzinfo=chicago, fold=1),
        ended_at=datetime(2026, 11, 1, 1, 50, tzinfo=chicago),
    )
    assert (overnight.duration_seconds, folded.duration_seconds) == (17 * 3600, -20 * 60)
