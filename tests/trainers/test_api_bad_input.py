"""The bad-input catalogue of the people and session API (API.md conventions, PAY_RULES §1).

Every refused request is checked three ways: the HTTP status, the field named in the
JSON error body (`{"field": ["message"]}`, or `detail`), and that no row was written.
Rates and workers live in tests/payroll/test_api_bad_input.py.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api_helpers import assert_refused, row_counts
from tests.conftest import NOW
from tests.factories import ProjectFactory, SessionFactory, api_token
from trainers.models import LabellingSession

pytestmark = pytest.mark.django_db

API = "/api/v1"
SESSIONS = f"{API}/sessions/"
T0 = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)  # Thu 09:00 in Chicago, the day before NOW
ONE_MB = 1024 * 1024
HUGE_ID = 99999999999999999999999
MAX_BIGINT = 2**63 - 1


# --- helpers -------------------------------------------------------------------------------


def iso(instant: datetime) -> str:
    return instant.isoformat()


def session_body(world: Any, **overrides: Any) -> dict[str, Any]:
    """A valid manual entry for worker A on T0..T0+1h, with `overrides` applied.

    An override may be a callable of the world (so a table can name objects it creates).
    """
    body: dict[str, Any] = {
        "project": world.project_a.pk,
        "started_at": iso(T0),
        "ended_at": iso(T0 + timedelta(hours=1)),
        "task_count": 3,
        "notes": "",
    }
    for key, value in overrides.items():
        body[key] = value(world) if callable(value) else value
    return body


def session_state(session: LabellingSession) -> tuple[Any, ...]:
    """Everything an edit could change, to prove a refused PATCH changed nothing."""
    session.refresh_from_db()
    return (
        session.project_id,
        session.started_at,
        session.ended_at,
        session.task_count,
        session.notes,
        session.updated_at,
    )


def inactive_project(world: Any) -> int:
    return ProjectFactory(name="Closed", is_active=False, workers=[world.worker_a]).pk


@pytest.fixture
def contractor(world, client_for) -> APIClient:
    return client_for(world.contractor_a)


@pytest.fixture
def admin(world, client_for) -> APIClient:
    return client_for(world.admin)


# --- POST sessions/: every §1 rule -------------------------------------------------------

REFUSED_ENTRIES = [
    # instants
    pytest.param({"started_at": "2026-11-19T15:00:00"}, "started_at", id="naive-started_at"),
    pytest.param({"ended_at": "2026-11-19T16:00:00"}, "ended_at", id="naive-ended_at"),
    pytest.param({"started_at": "2026-11-19 15:00"}, "started_at", id="naive-started_at-space"),
    pytest.param({"started_at": "not-a-date"}, "started_at", id="started_at-garbage"),
    pytest.param({"ended_at": "2026-02-30T10:00:00Z"}, "ended_at", id="ended_at-impossible-day"),
    pytest.param({"started_at": None}, "started_at", id="started_at-null"),
    pytest.param({"ended_at": None}, "ended_at", id="ended_at-null-is-not-a-manual-entry"),
    pytest.param({"ended_at": iso(T0 - timedelta(hours=1))}, "ended_at", id="end-before-start"),
    pytest.param({"ended_at": iso(T0)}, "ended_at", id="zero-length"),
    pytest.param(
        {"ended_at": iso(T0 + timedelta(microseconds=500_000))},
        "ended_at",
        id="half-a-second-truncates-to-zero-length",
    ),
    pytest.param({"ended_at": iso(T0 + timedelta(hours=16, seconds=1))}, "ended_at", id="16h-and-1s"),
    pytest.param({"ended_at": iso(T0 + timedelta(hours=30))}, "ended_at", id="30h"),
    pytest.param(
        {"started_at": iso(NOW + timedelta(minutes=6)), "ended_at": iso(NOW + timedelta(minutes=7))},
        "started_at",
        id="starts-6-min-in-future",
    ),
    pytest.param(
        {"started_at": iso(NOW - timedelta(hours=1)), "ended_at": iso(NOW + timedelta(minutes=5, seconds=1))},
        "ended_at",
        id="ends-5-min-1-s-in-future",
    ),
    pytest.param(
        {"started_at": iso(NOW - timedelta(hours=1)), "ended_at": iso(NOW + timedelta(days=400))},
        "ended_at",
        id="ends-next-year",
    ),
    # project
    pytest.param({"project": 999_999}, "project", id="project-unknown-id"),
    pytest.param({"project": lambda w: w.project_b.pk}, "project", id="project-not-assigned"),
    pytest.param({"project": inactive_project}, "project", id="project-inactive"),
    pytest.param({"project": HUGE_ID}, "project", id="project-huge-id"),
    pytest.param({"project": str(HUGE_ID)}, "project", id="project-huge-id-string"),
    pytest.param({"project": "1e30"}, "project", id="project-1e30"),
    pytest.param({"project": -1}, "project", id="project-negative"),
    pytest.param({"project": "abc"}, "project", id="project-abc"),
    pytest.param({"project": None}, "project", id="project-null"),
    pytest.param({"project": [1]}, "project", id="project-list"),
    # task_count
    pytest.param({"task_count": "NaN"}, "task_count", id="task_count-NaN-string"),
    pytest.param({"task_count": "1_0"}, "task_count", id="task_count-underscore"),
    pytest.param({"task_count": "\u0662\u0660"}, "task_count", id="task_count-arabic-indic-digits"),
    pytest.param({"task_count": "Infinity"}, "task_count", id="task_count-Infinity-string"),
    pytest.param({"task_count": -1}, "task_count", id="task_count-negative"),
    pytest.param({"task_count": 10**30}, "task_count", id="task_count-10e30"),
    pytest.param({"task_count": 1_000_001}, "task_count", id="task_count-over-max"),
    pytest.param({"task_count": 1.5}, "task_count", id="task_count-fraction"),
    pytest.param({"task_count": "abc"}, "task_count", id="task_count-abc"),
    pytest.param({"task_count": "1e3"}, "task_count", id="task_count-exponent-string"),
    pytest.param({"task_count": True}, "task_count", id="task_count-boolean"),
    pytest.param({"task_count": None}, "task_count", id="task_count-null"),
    # notes
    pytest.param({"notes": "before\x00after"}, "notes", id="notes-NUL-byte"),
    pytest.param({"notes": "x" * 2001}, "notes", id="notes-too-long"),
    pytest.param({"notes": {"a": 1}}, "notes", id="notes-object"),
]


@pytest.mark.parametrize(("overrides", "field"), REFUSED_ENTRIES)
def test_bad_manual_entry_is_refused_with_its_field_and_writes_nothing(
    world, frozen_now, contractor, overrides, field
):
    # given
    body = session_body(world, **overrides)
    before = row_counts()
    # when
    response = contractor.post(SESSIONS, body, format="json")
    # then
    assert_refused(response, 400, field)
    assert row_counts() == before


ACCEPTED_ENTRIES = [
    pytest.param({}, 3600, id="one-hour"),
    pytest.param({"ended_at": iso(T0 + timedelta(seconds=1))}, 1, id="one-second"),
    pytest.param({"ended_at": iso(T0 + timedelta(hours=16))}, 16 * 3600, id="exactly-16h"),
    pytest.param(
        {"started_at": iso(NOW - timedelta(hours=1)), "ended_at": iso(NOW + timedelta(minutes=4))},
        3840,
        id="ends-4-min-in-future",
    ),
    pytest.param(
        {"started_at": iso(NOW - timedelta(hours=1)), "ended_at": iso(NOW + timedelta(minutes=5))},
        3900,
        id="ends-exactly-5-min-in-future",
    ),
    pytest.param(
        {"started_at": iso(NOW + timedelta(minutes=4)), "ended_at": iso(NOW + timedelta(minutes=5))},
        60,
        id="starts-4-min-in-future",
    ),
    pytest.param(
        {"started_at": "2026-11-19T09:00:00-06:00", "ended_at": "2026-11-19T10:30:00-06:00"},
        5400,
        id="local-offset",
    ),
    pytest.param({"task_count": 1_000_000}, 3600, id="task_count-max"),
    pytest.param({"task_count": "7"}, 3600, id="task_count-numeric-string"),
]


@pytest.mark.parametrize(("overrides", "seconds"), ACCEPTED_ENTRIES)
def test_boundary_entries_are_accepted(world, frozen_now, contractor, overrides, seconds):
    # given
    before = LabellingSession.objects.count()
    # when
    response = contractor.post(SESSIONS, session_body(world, **overrides), format="json")
    # then
    assert response.status_code == 201, response.json()
    assert response.json()["duration_seconds"] == seconds
    assert LabellingSession.objects.count() == before + 1


# --- overlaps: stored sessions and running timers -------------------------------------------

# world.session_a is worker A's 2026-11-02 15:00-17:00 UTC.
NOV2 = datetime(2026, 11, 2, tzinfo=UTC)

OVERLAPPING_WITH_SESSION_A = [
    pytest.param(NOV2 + timedelta(hours=16), NOV2 + timedelta(hours=18), id="overlaps-its-end"),
    pytest.param(NOV2 + timedelta(hours=14), NOV2 + timedelta(hours=16), id="overlaps-its-start"),
    pytest.param(NOV2 + timedelta(hours=15, minutes=30), NOV2 + timedelta(hours=16), id="inside-it"),
    pytest.param(NOV2 + timedelta(hours=14), NOV2 + timedelta(hours=18), id="around-it"),
    pytest.param(NOV2 + timedelta(hours=15), NOV2 + timedelta(hours=17), id="same-span"),
    pytest.param(
        NOV2 + timedelta(hours=16, minutes=59, seconds=59),
        NOV2 + timedelta(hours=18),
        id="one-second-overlap",
    ),
]


@pytest.mark.parametrize(("start", "end"), OVERLAPPING_WITH_SESSION_A)
def test_post_overlapping_a_stored_session_is_refused(world, frozen_now, contractor, start, end):
    before = row_counts()
    response = contractor.post(
        SESSIONS, session_body(world, started_at=iso(start), ended_at=iso(end)), format="json"
    )
    assert_refused(response, 400, "started_at")
    assert row_counts() == before


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(NOV2 + timedelta(hours=14), NOV2 + timedelta(hours=15), id="touching-before"),
        pytest.param(NOV2 + timedelta(hours=17), NOV2 + timedelta(hours=18), id="touching-after"),
    ],
)
def test_post_touching_a_stored_session_is_accepted(world, frozen_now, contractor, start, end):
    response = contractor.post(
        SESSIONS, session_body(world, started_at=iso(start), ended_at=iso(end)), format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.fixture
def running_timer(world, frozen_now, contractor) -> dict[str, Any]:
    """Worker A's timer, started through the API at NOW."""
    response = contractor.post(f"{SESSIONS}start/", {"project": world.project_a.pk}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(NOW - timedelta(minutes=30), NOW + timedelta(minutes=1), id="ends-after-timer-start"),
        pytest.param(NOW + timedelta(minutes=1), NOW + timedelta(minutes=3), id="after-timer-start"),
    ],
)
def test_post_overlapping_a_running_timer_is_refused(world, running_timer, contractor, start, end):
    before = row_counts()
    response = contractor.post(
        SESSIONS, session_body(world, started_at=iso(start), ended_at=iso(end)), format="json"
    )
    assert_refused(response, 400, "started_at")
    assert row_counts() == before


def test_post_touching_a_running_timer_is_accepted(world, running_timer, contractor):
    response = contractor.post(
        SESSIONS,
        session_body(world, started_at=iso(NOW - timedelta(hours=1)), ended_at=iso(NOW)),
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_a_second_timer_is_a_409_and_writes_nothing(world, running_timer, contractor):
    before = row_counts()
    response = contractor.post(f"{SESSIONS}start/", {"project": world.project_a.pk}, format="json")
    assert_refused(response, 409, "detail")
    assert row_counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"project": 999_999}, "project", id="unknown-project"),
        pytest.param({"project": HUGE_ID}, "project", id="huge-project-id"),
        pytest.param({"project": "1e30"}, "project", id="project-1e30"),
        pytest.param({"project": lambda w: w.project_b.pk}, "project", id="project-not-assigned"),
        pytest.param({"project": inactive_project}, "project", id="project-inactive"),
        pytest.param({"project": lambda w: w.project_a.pk, "notes": "a\x00b"}, "notes", id="notes-NUL-byte"),
        pytest.param(
            {"project": lambda w: w.project_a.pk, "notes": "x" * 2001}, "notes", id="notes-too-long"
        ),
    ],
)
def test_bad_timer_start_is_refused(world, frozen_now, contractor, body, field):
    body = {key: value(world) if callable(value) else value for key, value in body.items()}
    before = row_counts()
    response = contractor.post(f"{SESSIONS}start/", body, format="json")
    assert_refused(response, 400, field)
    assert row_counts() == before


@pytest.mark.parametrize(
    "task_count",
    [
        pytest.param(-1, id="negative"),
        pytest.param(10**30, id="10e30"),
        pytest.param(1.5, id="fraction"),
        pytest.param("abc", id="abc"),
        pytest.param("NaN", id="NaN-string"),
        pytest.param("Infinity", id="Infinity-string"),
    ],
)
def test_bad_task_count_on_stop_leaves_the_timer_running(world, running_timer, contractor, task_count):
    session = LabellingSession.objects.get(pk=running_timer["id"])
    state = session_state(session)
    response = contractor.post(f"{SESSIONS}{session.pk}/stop/", {"task_count": task_count}, format="json")
    assert_refused(response, 400, "task_count")
    assert session_state(session) == state
    assert session.ended_at is None


# --- PATCH sessions/{id}/: the merged session is validated ----------------------------------


@pytest.fixture
def edited(world, frozen_now) -> LabellingSession:
    """Worker A's T0..T0+1h, with a neighbour at T0+2h..T0+3h and a timer running since T0+5h."""
    SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=T0 + timedelta(hours=2),
        ended_at=T0 + timedelta(hours=3),
    )
    SessionFactory(
        worker=world.worker_a, project=world.project_a, started_at=T0 + timedelta(hours=5), ended_at=None
    )
    return SessionFactory(
        worker=world.worker_a, project=world.project_a, started_at=T0, ended_at=T0 + timedelta(hours=1)
    )


REFUSED_EDITS = [
    pytest.param({"ended_at": iso(T0 - timedelta(hours=1))}, "ended_at", id="only-end-before-start"),
    pytest.param({"ended_at": iso(T0)}, "ended_at", id="only-end-at-start"),
    pytest.param(
        {"ended_at": iso(T0 + timedelta(hours=16, seconds=1))}, "ended_at", id="only-end-making-16h-1s"
    ),
    pytest.param({"ended_at": iso(NOW + timedelta(minutes=6))}, "ended_at", id="only-end-6-min-in-future"),
    pytest.param({"ended_at": "2026-11-19T16:30:00"}, "ended_at", id="only-end-naive"),
    pytest.param({"ended_at": None}, "ended_at", id="only-end-null"),
    pytest.param({"started_at": iso(T0 + timedelta(hours=2))}, "ended_at", id="only-start-after-end"),
    pytest.param({"started_at": iso(T0 - timedelta(hours=16))}, "ended_at", id="only-start-making-17h"),
    pytest.param({"started_at": "2026-11-19T14:00:00"}, "started_at", id="only-start-naive"),
    pytest.param(
        {"ended_at": iso(T0 + timedelta(hours=2, minutes=30))}, "started_at", id="only-end-into-the-neighbour"
    ),
    pytest.param(
        {"started_at": iso(T0 + timedelta(hours=4)), "ended_at": iso(T0 + timedelta(hours=6))},
        "started_at",
        id="moved-over-the-running-timer",
    ),
    pytest.param(
        {"started_at": iso(T0 + timedelta(hours=6)), "ended_at": iso(T0 + timedelta(hours=7))},
        "started_at",
        id="moved-after-the-running-timer-start",
    ),
    pytest.param(
        {"started_at": "2026-11-02T16:00:00Z", "ended_at": "2026-11-02T18:00:00Z"},
        "started_at",
        id="moved-onto-session-a",
    ),
    pytest.param({"project": lambda w: w.project_b.pk}, "project", id="project-not-assigned"),
    pytest.param({"project": inactive_project}, "project", id="project-inactive"),
    pytest.param({"project": HUGE_ID}, "project", id="project-huge-id"),
    pytest.param({"task_count": -1}, "task_count", id="task_count-negative"),
    pytest.param({"task_count": 10**30}, "task_count", id="task_count-10e30"),
    pytest.param({"notes": "a\x00b"}, "notes", id="notes-NUL-byte"),
]


@pytest.mark.parametrize(("changes", "field"), REFUSED_EDITS)
def test_bad_patch_is_refused_and_changes_nothing(world, edited, contractor, changes, field):
    # given
    changes = {key: value(world) if callable(value) else value for key, value in changes.items()}
    state = session_state(edited)
    before = row_counts()
    # when
    response = contractor.patch(f"{SESSIONS}{edited.pk}/", changes, format="json")
    # then
    assert_refused(response, 400, field)
    assert session_state(edited) == state
    assert row_counts() == before


def test_patch_touching_the_neighbour_is_accepted(world, edited, contractor):
    response = contractor.patch(
        f"{SESSIONS}{edited.pk}/", {"ended_at": iso(T0 + timedelta(hours=2))}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["duration_seconds"] == 2 * 3600


# --- raw JSON bodies ----------------------------------------------------------------------


def raw_session_json(task_count_literal: str) -> str:
    return (
        '{"project": %(project)s, "started_at": "2026-11-19T15:00:00Z", '
        '"ended_at": "2026-11-19T16:00:00Z", "task_count": ' + task_count_literal + "}"
    )


RAW_BODIES = [
    pytest.param(raw_session_json("NaN"), "detail", id="task_count-NaN-literal"),
    pytest.param(raw_session_json("Infinity"), "detail", id="task_count-Infinity-literal"),
    pytest.param(raw_session_json("-Infinity"), "detail", id="task_count-minus-Infinity-literal"),
    pytest.param(raw_session_json("1e400"), "detail", id="task_count-1e400-beyond-a-float"),
    pytest.param(raw_session_json("1" + "0" * 30), "task_count", id="task_count-10e30-literal"),
    pytest.param(raw_session_json("1" + "0" * 5000), "detail", id="task_count-5000-digit-literal"),
    pytest.param(raw_session_json("2.5"), "task_count", id="task_count-fraction-literal"),
    pytest.param(
        '{"project": %(project)s, "started_at": NaN, "ended_at": Infinity}',
        "detail",
        id="instants-NaN-Infinity",
    ),
    pytest.param('{"project": ', "detail", id="truncated"),
    pytest.param("[" * 100_000, "detail", id="deeply-nested"),
    pytest.param(b"\xff\xfe{\x00", "detail", id="not-utf8"),
    pytest.param("[]", "non_field_errors", id="array-not-object"),
    pytest.param('"text"', "non_field_errors", id="string-not-object"),
    pytest.param("", "project", id="empty-body"),
]


@pytest.mark.parametrize(("raw", "field"), RAW_BODIES)
def test_malformed_json_body_is_a_400(world, frozen_now, contractor, raw, field):
    # given
    data = raw % {"project": world.project_a.pk} if isinstance(raw, str) and "%(" in raw else raw
    before = row_counts()
    # when
    response = contractor.post(SESSIONS, data, content_type="application/json")
    # then
    assert_refused(response, 400, field)
    assert row_counts() == before


# --- ids: in bodies above, in query filters and URL paths here --------------------------------

BAD_PATHS = [
    pytest.param("contractor", "get", "sessions/99999999999999999999/", id="session-20-digits"),
    pytest.param("contractor", "get", f"sessions/{MAX_BIGINT + 1}/", id="session-2**63"),
    pytest.param("contractor", "get", "sessions/999999999999999999/", id="session-18-digits"),
    pytest.param("contractor", "get", "sessions/0/", id="session-zero"),
    pytest.param("contractor", "get", "sessions/-1/", id="session-negative"),
    pytest.param("contractor", "get", "sessions/1e30/", id="session-1e30"),
    pytest.param("contractor", "patch", "sessions/99999999999999999999/", id="patch-session-20-digits"),
    pytest.param("contractor", "delete", "sessions/99999999999999999999/", id="delete-session-20-digits"),
    pytest.param("contractor", "post", "sessions/99999999999999999999/stop/", id="stop-session-20-digits"),
    pytest.param("contractor", "post", "sessions/999999999999999999/stop/", id="stop-session-18-digits"),
    pytest.param("admin", "get", "workers/99999999999999999999/", id="worker-20-digits"),
    pytest.param("admin", "patch", "workers/99999999999999999999/", id="patch-worker-20-digits"),
    pytest.param("admin", "get", "projects/99999999999999999999/", id="project-20-digits"),
    pytest.param("admin", "get", "teams/99999999999999999999/", id="team-20-digits"),
    pytest.param("admin", "get", "users/99999999999999999999/", id="user-20-digits"),
    pytest.param("admin", "get", "rates/99999999999999999999/", id="rate-20-digits"),
    pytest.param("admin", "get", "rates/999999999999999999/", id="rate-18-digits"),
]


@pytest.mark.parametrize(("who", "method", "path"), BAD_PATHS)
def test_huge_or_odd_ids_in_paths_are_404(world, client_for, who, method, path):
    client = client_for(world.contractor_a if who == "contractor" else world.admin)
    before = row_counts()
    response = getattr(client, method)(f"{API}/{path}", {}, format="json")
    assert response.status_code == 404, (response.status_code, response.content[:500])
    assert row_counts() == before


BAD_SESSION_FILTERS = [
    pytest.param("worker=99999999999999999999999", "worker", id="worker-huge"),
    pytest.param(f"worker={MAX_BIGINT + 1}", "worker", id="worker-2**63"),
    pytest.param("worker=0", "worker", id="worker-zero"),
    pytest.param("worker=-1", "worker", id="worker-negative"),
    pytest.param("worker=1.5", "worker", id="worker-fraction"),
    pytest.param("worker=abc", "worker", id="worker-abc"),
    pytest.param("project=1e30", "project", id="project-1e30"),
    pytest.param("project=99999999999999999999", "project", id="project-huge"),
    pytest.param("project=NaN", "project", id="project-NaN"),
    pytest.param("source=robot", "source", id="source-unknown"),
    pytest.param("period=2026-W54", "period", id="period-W54"),
    pytest.param("period=2025-W53", "period", id="period-W53-of-a-52-week-year"),
    pytest.param("period=2026-W00", "period", id="period-W00"),
    pytest.param("period=0000-W01", "period", id="period-year-0"),
    pytest.param("period=2026-45", "period", id="period-without-W"),
    pytest.param("period=2026-w45", "period", id="period-lowercase-w"),
    pytest.param("period=2026-W45x", "period", id="period-trailing-garbage"),
    pytest.param("period=garbage", "period", id="period-garbage"),
    pytest.param("period=%00", "period", id="period-NUL"),
    pytest.param("started_after=not-a-date", "started_after", id="started_after-garbage"),
    pytest.param("started_after=2026-02-30T00:00:00Z", "started_after", id="started_after-impossible-day"),
    pytest.param("started_after=a%00b", "started_after", id="started_after-NUL"),
    pytest.param("started_before=tomorrow", "started_before", id="started_before-garbage"),
    pytest.param("running=maybe", "running", id="running-not-a-boolean"),
    pytest.param("needs_review=2", "needs_review", id="needs_review-not-a-boolean"),
]


@pytest.mark.parametrize(("query", "field"), BAD_SESSION_FILTERS)
def test_bad_session_filter_is_a_400_naming_it(world, contractor, query, field):
    assert_refused(contractor.get(f"{SESSIONS}?{query}"), 400, field)


@pytest.mark.parametrize(
    ("query", "count"),
    [
        pytest.param(f"worker={MAX_BIGINT}", 0, id="worker-max-bigint"),
        pytest.param("running=false", 1, id="running-false"),
        pytest.param("running=1", 0, id="running-1"),
        pytest.param("needs_review=False", 1, id="needs_review-False"),
        pytest.param("period=2026-W45", 1, id="period-W45"),
        pytest.param("period=2026-W53", 0, id="period-W53-of-a-53-week-year"),
        pytest.param("started_after=2026-11-01T00:00:00Z", 1, id="started_after-aware"),
        pytest.param("started_after=2026-11-03T00:00:00-06:00", 0, id="started_after-offset"),
    ],
)
def test_good_session_filter_is_accepted(world, contractor, query, count):
    response = contractor.get(f"{SESSIONS}?{query}")
    assert response.status_code == 200, response.json()
    assert response.json()["count"] == count


def test_naive_datetime_filter_is_refused(world, contractor):
    """API.md: instants carry an offset and a naive datetime is refused (filters too)."""
    assert_refused(contractor.get(f"{SESSIONS}?started_after=2026-11-01T00:00:00"), 400, "started_after")


@pytest.mark.parametrize("period", ["0001-W01", "9999-W52"], ids=["first-iso-week", "last-iso-week"])
def test_period_filter_at_the_ends_of_the_calendar_is_never_a_500(world, admin, period):
    """Admins span every worker's zone (Chicago, London, Kolkata), so both ends get converted."""
    response = admin.get(f"{SESSIONS}?period={period}")
    assert response.status_code in (200, 400), (response.status_code, response.content[:500])
    if response.status_code == 400:
        assert_refused(response, 400, "period")
    else:
        assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("who", "path", "field"),
    [
        pytest.param("admin", "projects/?client=a%00b", "client", id="projects-client-NUL"),
        pytest.param("admin", "workers/?is_active=x", "is_active", id="workers-is_active-not-a-boolean"),
        pytest.param("admin", "projects/?is_active=yes", "is_active", id="projects-is_active-not-a-boolean"),
        pytest.param("admin", "projects/?client=" + "x" * 201, "client", id="projects-client-too-long"),
        pytest.param("admin", "workers/?team=1e30", "team", id="workers-team-1e30"),
        pytest.param("admin", "workers/?team=99999999999999999999999", "team", id="workers-team-huge"),
        pytest.param("admin", "rates/?worker=99999999999999999999999", "worker", id="rates-worker-huge"),
        pytest.param("admin", "rates/?project=1e30", "project", id="rates-project-1e30"),
        pytest.param(
            "admin", "rates/?effective_from=2026-13-01", "effective_from", id="rates-effective_from-bad"
        ),
    ],
)
def test_bad_filter_on_other_lists_is_a_400(world, client_for, who, path, field):
    client = client_for(getattr(world, who))
    assert_refused(client.get(f"{API}/{path}"), 400, field)


# --- pagination -----------------------------------------------------------------------------

BAD_PAGE_SIZES = [
    pytest.param("501", id="501"),
    pytest.param("0", id="zero"),
    pytest.param("-1", id="negative"),
    pytest.param("abc", id="abc"),
    pytest.param("1.5", id="fraction"),
    pytest.param("1e2", id="exponent"),
    pytest.param("%2B5", id="plus-sign"),
    pytest.param("%00", id="NUL"),
    pytest.param("99999999999999999999999", id="huge"),
    pytest.param("9" * 5000, id="5000-digits"),
    pytest.param("%C2%B2", id="superscript-two"),
]


@pytest.mark.parametrize("size", BAD_PAGE_SIZES)
def test_page_size_past_the_cap_or_not_a_number_is_a_400(world, contractor, size):
    assert_refused(contractor.get(f"{SESSIONS}?page_size={size}"), 400, "page_size")


@pytest.mark.parametrize("endpoint", ["projects/", "workers/", "sessions/", "rates/", "users/", "teams/"])
def test_every_list_refuses_page_size_501(world, admin, endpoint):
    assert_refused(admin.get(f"{API}/{endpoint}?page_size=501"), 400, "page_size")


@pytest.mark.parametrize(
    ("size", "expected"), [("500", 500), ("1", 1), ("", 50)], ids=["500", "1", "empty-is-default"]
)
def test_page_size_within_the_cap_is_accepted(world, frozen_now, contractor, size, expected):
    # given more sessions than the smallest page
    SessionFactory(
        worker=world.worker_a, project=world.project_a, started_at=T0, ended_at=T0 + timedelta(hours=1)
    )
    # when
    response = contractor.get(f"{SESSIONS}?page_size={size}")
    # then
    assert response.status_code == 200, response.json()
    assert len(response.json()["results"]) == min(expected, 2)
    assert (response.json()["next"] is not None) == (expected < 2)


@pytest.mark.parametrize("page", ["99999999999999999999", "9" * 5000])
def test_a_page_past_the_last_is_a_404(world, contractor, page):
    assert_refused(contractor.get(f"{SESSIONS}?page={page}"), 404, "detail")


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1e400", "1.5"])
def test_a_page_that_is_not_a_page_number_is_a_400(world, contractor, page):
    assert_refused(contractor.get(f"{SESSIONS}?page={page}"), 400, "page")


def test_an_empty_page_is_the_first(world, contractor):
    response = contractor.get(f"{SESSIONS}?page=")
    assert response.status_code == 200
    assert response.json()["previous"] is None


# --- NUL bytes and other strings the database cannot store ---------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            {"username": "contractor_a\x00", "password": "correct-horse-battery"},
            "username",
            id="username-NUL",
        ),
        pytest.param(
            {"username": "contractor_a", "password": "correct\x00horse"}, "password", id="password-NUL"
        ),
        pytest.param({"username": "x" * 151, "password": "p"}, "username", id="username-too-long"),
        pytest.param({"username": ["contractor_a"], "password": "p"}, "username", id="username-list"),
        pytest.param({"username": "contractor_a"}, "password", id="password-missing"),
    ],
)
def test_bad_token_request_is_a_400(world, body, field):
    before = row_counts()
    response = APIClient().post(f"{API}/auth/token/", body, format="json")
    assert_refused(response, 400, field)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": "Night\x00shift", "client": "Acme AI"}, "name", id="name-NUL"),
        pytest.param({"name": "Night shift", "client": "Acme\x00AI"}, "client", id="client-NUL"),
        pytest.param({"name": "", "client": "Acme AI"}, "name", id="name-blank"),
        pytest.param({"name": "x" * 201, "client": "Acme AI"}, "name", id="name-too-long"),
        pytest.param({"name": "Project A", "client": "Acme AI"}, "name", id="name-taken-for-client"),
        pytest.param(
            {"name": "Night shift", "client": "Acme AI", "workers": [HUGE_ID]},
            "workers",
            id="workers-huge-id",
        ),
        pytest.param(
            {"name": "Night shift", "client": "Acme AI", "workers": ["1e30"]}, "workers", id="workers-1e30"
        ),
        pytest.param(
            {"name": "Night shift", "client": "Acme AI", "is_active": "maybe"},
            "is_active",
            id="is_active-not-boolean",
        ),
    ],
)
def test_bad_project_is_refused(world, client_for, body, field):
    before = row_counts()
    response = client_for(world.finance).post(f"{API}/projects/", body, format="json")
    assert_refused(response, 400, field)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"username": "new\x00user"}, "username", id="username-NUL"),
        pytest.param({"role": "superuser"}, "role", id="role-unknown"),
        pytest.param({"email": "not-an-email"}, "email", id="email-invalid"),
        pytest.param({"password": "123"}, "password", id="password-weak"),
        pytest.param({"username": "CONTRACTOR_A"}, "username", id="username-taken-other-case"),
    ],
)
def test_bad_user_is_refused(world, admin, body, field):
    data = {
        "username": "newuser",
        "password": "a-long-unusual-passphrase",
        "email": "n@example.com",
        "role": "contractor",
        **body,
    }
    before = row_counts()
    response = admin.post(f"{API}/users/", data, format="json")
    assert_refused(response, 400, field)
    assert row_counts() == before


def test_user_without_email_is_never_a_500(world, admin):
    """The serializer makes `email` optional (the model allows blank): create, or name the field."""
    body = {"username": "newuser", "password": "a-long-unusual-passphrase", "role": "contractor"}
    before = row_counts()
    response = admin.post(f"{API}/users/", body, format="json")
    assert response.status_code in (201, 400), (response.status_code, response.content[:500])
    if response.status_code == 400:
        assert_refused(response, 400, "email")
        assert row_counts() == before
    else:
        assert row_counts()["User"] == before["User"] + 1


# --- body size ------------------------------------------------------------------------------


def padded_json(body: dict[str, Any], size: int) -> bytes:
    """`body` as JSON, padded with trailing whitespace to exactly `size` bytes."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("sessions/", id="sessions"),
        pytest.param("sessions/start/", id="timer-start"),
        pytest.param("projects/", id="projects"),
    ],
)
def test_json_body_over_1_mb_is_a_413(world, frozen_now, client_for, path):
    client = client_for(world.finance if path == "projects/" else world.contractor_a)
    body = padded_json(session_body(world, name="Big", client="Acme AI"), ONE_MB + 1)
    before = row_counts()
    response = client.post(f"{API}/{path}", body, content_type="application/json")
    assert_refused(response, 413, "detail")
    assert row_counts() == before


def test_token_body_over_1_mb_is_a_413(world):
    body = padded_json({"username": "contractor_a", "password": "correct-horse-battery"}, ONE_MB + 1)
    response = APIClient().post(f"{API}/auth/token/", body, content_type="application/json")
    assert_refused(response, 413, "detail")


def test_json_body_of_exactly_1_mb_is_accepted(world, frozen_now, contractor):
    body = padded_json(session_body(world), ONE_MB)
    response = contractor.post(SESSIONS, body, content_type="application/json")
    assert response.status_code == 201, response.content[:500]


def test_invalid_content_length_is_a_400(world, contractor):
    response = contractor.post(SESSIONS, b"{}", content_type="application/json", CONTENT_LENGTH="abc")
    assert_refused(response, 400, "detail")


def test_the_import_endpoint_accepts_a_csv_over_1_mb(world, frozen_now, contractor):
    # given 600 one-minute sessions with long notes: about 1.2 MB
    header = "project,started_at,ended_at,task_count,notes\n"
    notes, minute = "n" * 1990, timedelta(minutes=1)
    rows = [
        f"{world.project_a.pk},{iso(T0 + i * minute)},{iso(T0 + (i + 1) * minute)},1,{notes}\n"
        for i in range(600)
    ]
    content = (header + "".join(rows)).encode()
    assert len(content) > ONE_MB
    before = LabellingSession.objects.count()
    # when
    response = contractor.post(f"{SESSIONS}import/", content, content_type="text/csv")
    # then
    assert response.status_code == 201, response.content[:500]
    assert response.json() == {"imported": 600}
    assert LabellingSession.objects.count() == before + 600


# --- the CSV import: odd digits and far dates --------------------------------------------------


BAD_CSV_ROWS = [
    pytest.param(
        "{project},2026-11-19T15:00:00Z,2026-11-19T16:00:00Z,\u00b2,", id="task_count-superscript-two"
    ),
    pytest.param(
        "{project},2026-11-19T15:00:00Z,2026-11-19T16:00:00Z," + "9" * 5000 + ",", id="task_count-5000-digits"
    ),
    pytest.param("\u00b2,2026-11-19T15:00:00Z,2026-11-19T16:00:00Z,1,", id="project-superscript-two"),
    pytest.param("{project},2026-11-19T15:00:00,2026-11-19T16:00:00Z,1,", id="started_at-naive"),
    pytest.param("{project},0001-01-01T00:00:00Z,0001-01-01T01:00:00Z,1,", id="year-1-in-chicago"),
]


@pytest.mark.parametrize("row", BAD_CSV_ROWS)
def test_bad_csv_row_is_a_400_naming_the_file_and_writes_nothing(world, frozen_now, contractor, row):
    # given
    content = "project,started_at,ended_at,task_count,notes\n" + row.format(project=world.project_a.pk) + "\n"
    before = row_counts()
    # when
    response = contractor.post(f"{SESSIONS}import/", content.encode(), content_type="text/csv")
    # then
    assert_refused(response, 400, "file")
    assert row_counts() == before


def test_admin_csv_with_superscript_worker_id_is_a_400(world, frozen_now, admin):
    row = f"\u00b2,{world.project_a.pk},2026-11-19T15:00:00Z,2026-11-19T16:00:00Z"
    content = f"worker,project,started_at,ended_at\n{row}\n"
    before = row_counts()
    response = admin.post(f"{SESSIONS}import/", content.encode(), content_type="text/csv")
    assert_refused(response, 400, "file")
    assert row_counts() == before


# --- far dates through the JSON API ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param("0001-01-01T00:00:00Z", "0001-01-01T01:00:00Z", id="year-1-before-chicago-midnight"),
        pytest.param("0001-01-01T00:00:00+05:00", "0001-01-01T01:00:00+05:00", id="year-1-offset-before-utc"),
        pytest.param("9999-12-31T22:00:00Z", "9999-12-31T23:00:00Z", id="year-9999"),
    ],
)
def test_instants_at_the_ends_of_the_calendar_are_a_400(world, frozen_now, contractor, start, end):
    before = row_counts()
    response = contractor.post(SESSIONS, session_body(world, started_at=start, ended_at=end), format="json")
    assert_refused(response, 400, "started_at")
    assert row_counts() == before


# --- CSRF: cookie sessions need the token, API tokens do not -------------------------------


@pytest.fixture
def cookie_client(world) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.contractor_a)
    return client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("post", "sessions/", id="create"),
        pytest.param("post", "sessions/start/", id="timer-start"),
        pytest.param("patch", "sessions/{id}/", id="edit"),
        pytest.param("delete", "sessions/{id}/", id="delete"),
    ],
)
def test_cookie_session_write_without_csrf_token_is_refused(world, frozen_now, cookie_client, method, path):
    # given
    before = row_counts()
    state = session_state(world.session_a)
    # when
    response = getattr(cookie_client, method)(
        f"{API}/{path.format(id=world.session_a.pk)}", session_body(world, notes="changed"), format="json"
    )
    # then
    assert_refused(response, 403, "detail")
    assert "CSRF" in response.json()["detail"]
    assert row_counts() == before
    assert session_state(world.session_a) == state


def test_cookie_session_write_with_csrf_token_works(world, frozen_now, cookie_client):
    secret = "a" * 32  # a well-formed CSRF secret: 32 characters from the allowed alphabet
    cookie_client.cookies["csrftoken"] = secret
    response = cookie_client.post(SESSIONS, session_body(world), format="json", HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 201, response.json()


def test_token_auth_write_needs_no_csrf_token(world, frozen_now):
    # given a client that enforces CSRF, authenticated by token only
    key = api_token(world.contractor_a)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    # when
    response = client.post(SESSIONS, session_body(world), format="json")
    # then
    assert response.status_code == 201, response.json()
