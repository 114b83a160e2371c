"""POST sessions/import/: a CSV body or a multipart file, all rows or none."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from trainers.models import LabellingSession, SessionSource

pytestmark = pytest.mark.django_db
URL = "/api/v1/sessions/import/"
T0 = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # Mon 09:00 in Chicago, period 2026-W47
HEADER = "worker,project,started_at,ended_at,task_count,notes"


def line(worker, project, start: datetime, end: datetime, notes: str = "ok") -> str:
    return f"{worker.pk if worker else ''},{project.pk},{start.isoformat()},{end.isoformat()},2,{notes}"


def csv_file(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def post_csv(client, content: bytes):
    return client.post(URL, data=content, content_type="text/csv")


def imported_count() -> int:
    return LabellingSession.objects.filter(source=SessionSource.IMPORT).count()


def test_a_contractor_posts_a_csv_body_and_every_row_lands(world, frozen_now, client_for):
    # given
    content = csv_file(
        line(None, world.project_a, T0, T0 + timedelta(hours=1)),
        line(world.worker_a, world.project_a, T0 + timedelta(hours=1), T0 + timedelta(hours=2)),
    )
    # when
    response = post_csv(client_for(world.contractor_a), content)
    # then
    assert response.status_code == 201, response.json()
    assert response.json() == {"imported": 2}
    sessions = LabellingSession.objects.filter(worker=world.worker_a, source=SessionSource.IMPORT)
    assert sessions.count() == 2
    history = LabellingSession.history.filter(id__in=sessions.values("id"))
    assert {h.history_user for h in history} == {world.contractor_a}
    listed = client_for(world.contractor_a).get("/api/v1/sessions/", {"page_size": 10}).json()
    assert {s["source"] for s in listed["results"]} >= {"import"}


def test_a_multipart_file_upload_works(world, frozen_now, client_for):
    # given
    upload = SimpleUploadedFile(
        "sessions.csv",
        b"\xef\xbb\xbf" + csv_file(line(None, world.project_a, T0, T0 + timedelta(hours=1))),
        content_type="text/csv",
    )
    # when
    response = client_for(world.contractor_a).post(URL, {"file": upload}, format="multipart")
    # then
    assert response.status_code == 201, response.json()
    assert response.json() == {"imported": 1}


def test_a_bad_file_returns_every_bad_line_and_writes_nothing(world, frozen_now, client_for):
    # given line 3 spans two lines (a quoted note), so the bad rows are on lines 2, 5 and 6
    content = csv_file(
        line(None, world.project_a, T0, T0 - timedelta(hours=1)),
        line(None, world.project_a, T0 + timedelta(hours=1), T0 + timedelta(hours=2), notes='"two\nlines"'),
        line(world.worker_b, world.project_a, T0 + timedelta(hours=3), T0 + timedelta(hours=4)),
        f",{world.project_a.pk},2026-11-16T09:00:00,2026-11-16T10:00:00Z,x,",
    )
    # when
    response = post_csv(client_for(world.contractor_a), content)
    # then
    assert response.status_code == 400
    body = response.json()
    assert body["file"] == ["3 of 4 rows are invalid; nothing was imported."]
    assert [(row["line"], sorted(row["errors"])) for row in body["rows"]] == [
        (2, ["ended_at"]),
        (5, ["worker"]),
        (6, ["started_at", "task_count"]),
    ]
    assert body["rows"][1]["errors"]["worker"] == ["You may import only your own sessions; leave it empty."]
    assert imported_count() == 0


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"project,started_at\n1,2\n", "missing columns: ended_at"),
        (b"worker,project,started_at,ended_at\n,1,caf\xe9,x\n", "must be UTF-8"),
        (b"worker,project,started_at,ended_at\n,1,\x00,x\n", "NUL byte"),
        (HEADER.encode(), "no rows"),
    ],
    ids=["bad-header", "not-utf8", "nul-byte", "header-only"],
)
def test_a_malformed_file_is_a_400_naming_the_problem(world, frozen_now, client_for, content, words):
    # given / when
    response = post_csv(client_for(world.contractor_a), content)
    # then
    assert response.status_code == 400
    assert words in response.json()["file"][0]
    assert response.json()["rows"] == []


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"data": b"", "content_type": "text/csv"}, "Send the CSV"),
        ({"data": {"rows": []}, "format": "json"}, "Send the CSV"),
        ({"data": {"other": "x"}, "format": "multipart"}, "Send the CSV"),
    ],
    ids=["empty-body", "json-body", "multipart-without-file"],
)
def test_a_request_without_a_csv_is_a_400(world, frozen_now, client_for, kwargs, words):
    response = client_for(world.contractor_a).post(URL, **kwargs)
    assert response.status_code == 400
    assert words in response.json()["file"][0]


def test_an_admin_imports_for_anyone_named_in_the_worker_column(world, frozen_now, client_for):
    # given
    content = csv_file(
        line(world.worker_a, world.project_a, T0, T0 + timedelta(hours=1)),
        line(world.worker_b, world.project_b, T0, T0 + timedelta(hours=1)),
    )
    # when
    response = post_csv(client_for(world.admin), content)
    # then
    assert response.status_code == 201, response.json()
    assert set(
        LabellingSession.objects.filter(source=SessionSource.IMPORT).values_list("worker_id", flat=True)
    ) == {world.worker_a.pk, world.worker_b.pk}
    assert {h.history_user for h in LabellingSession.history.filter(source=SessionSource.IMPORT)} == {
        world.admin
    }


def test_an_admin_row_without_a_worker_is_refused(world, frozen_now, client_for):
    # given / when
    response = post_csv(
        client_for(world.admin), csv_file(line(None, world.project_a, T0, T0 + timedelta(hours=1)))
    )
    # then
    assert response.status_code == 400
    assert response.json()["rows"] == [
        {"line": 2, "errors": {"worker": ["Required: the id of the worker the session belongs to."]}}
    ]


def test_a_locked_period_is_refused_per_row(world, frozen_now, client_for, lock_period):
    # given
    lock_period(world.worker_a, "2026-W47")
    content = csv_file(line(None, world.project_a, T0, T0 + timedelta(hours=1)))
    # when
    response = post_csv(client_for(world.contractor_a), content)
    # then
    assert response.status_code == 400
    assert response.json()["rows"][0]["errors"]["started_at"] == [
        "Period 2026-W47 is locked: its timesheet is submitted"
    ]


@pytest.mark.parametrize(
    ("name", "status"),
    [("anonymous", 401), ("manager_a", 403), ("finance", 403), ("contractor_a", 201), ("admin", 201)],
)
def test_who_may_import(world, frozen_now, client_for, name, status):
    # given a row naming worker_a, which both the contractor and an admin may import
    content = csv_file(line(world.worker_a, world.project_a, T0, T0 + timedelta(hours=1)))
    # when
    response = post_csv(client_for(world.user(name)), content)
    # then
    assert response.status_code == status
    assert imported_count() == (1 if status == 201 else 0)


def test_a_body_over_the_import_limit_is_refused_before_parsing(world, frozen_now, client_for, settings):
    # given
    settings.MAX_IMPORT_BODY_BYTES = 100
    content = csv_file(*[line(None, world.project_a, T0, T0 + timedelta(hours=1))] * 5)
    # when
    response = post_csv(client_for(world.contractor_a), content)
    # then
    assert response.status_code == 413
    assert imported_count() == 0
