"""The CSV import service: all rows or none, every bad line with its reasons."""

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import Conflict, Forbidden, InvalidInput
from tests.factories import ProjectFactory, SessionFactory, UserFactory, WorkerFactory
from tests.trainers.import_helpers import (
    HEADER,
    csv_file,
    hours,
    imported,
    iso,
    rejection,
    row,
    row_errors,
)
from trainers.models import LabellingSession, Role, SessionSource
from trainers.services import session_import
from trainers.services.session_bulk_write import HISTORY_COLUMNS, SESSION_COLUMNS
from trainers.services.session_import import sessions_import
from trainers.services.sessions import session_create, session_delete, session_start

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # Mon 09:00 in Chicago, period 2026-W47


# A good file --------------------------------------------------------------------------------


def test_projects_are_named_as_the_pages_show_them_in_any_case_or_by_id(world, frozen_now):
    # given rows naming Project A by name, in another case, and by id
    content = csv_file(
        f"Project A,{iso(T0)},{iso(T0 + hours(1))},1,by name",
        f"  project a ,{iso(T0 + hours(1))},{iso(T0 + hours(2))},1,other case",
        row(world.project_a, T0 + hours(2), T0 + hours(3)),
    )
    # when
    sessions_import(actor=world.contractor_a, content=content)
    # then
    assert {session.project_id for session in imported(world.worker_a)} == {world.project_a.pk}


def test_a_name_two_clients_share_is_the_project_the_worker_is_on(world, frozen_now):
    # given another client's "Project A", which contractor A is not on
    ProjectFactory(name="Project A", client="Another client")
    # when
    sessions_import(
        actor=world.contractor_a, content=csv_file(f"Project A,{iso(T0)},{iso(T0 + hours(1))},1,x")
    )
    # then
    assert [session.project_id for session in imported(world.worker_a)] == [world.project_a.pk]


def test_a_contractor_on_two_projects_of_one_name_is_asked_for_the_id(world, frozen_now):
    # given contractor A on two clients' "Project A"
    ProjectFactory(name="Project A", client="Another client", workers=[world.worker_a])
    # when
    refused = rejection(world.contractor_a, csv_file(f"project a,{iso(T0)},{iso(T0 + hours(1))},1,x"))
    # then
    assert row_errors(refused)[2]["project"] == [
        "Several projects are named 'project a' (Acme AI, Another client): give its id."
    ]


def test_a_contractor_never_learns_of_a_project_by_name_they_are_not_on(world, frozen_now):
    # when contractor A names team B's project
    refused = rejection(world.contractor_a, csv_file(f"Project B,{iso(T0)},{iso(T0 + hours(1))},1,x"))
    # then the words are those of a name that does not exist
    assert row_errors(refused)[2]["project"] == ["No project named 'Project B' that you may log on."]


def test_a_good_file_lands_whole_with_whole_seconds_and_history(world, frozen_now):
    # given three rows, one with sub-second instants and a quoted comma in its notes
    content = csv_file(
        row(
            world.project_a, T0.replace(microsecond=750_000), T0 + hours(1) + timedelta(microseconds=999_999)
        ),
        row(world.project_a, T0 + hours(1), T0 + hours(2), task_count="", notes='"a, b"'),
        f"{world.project_a.pk},2026-11-17T09:00:00-06:00,2026-11-17T10:30:00-06:00,0001000000,",
    )
    # when
    count = sessions_import(actor=world.contractor_a, content=content)
    # then
    sessions = imported(world.worker_a)
    assert count == 3 == len(sessions)
    first, second, third = sessions
    assert (first.started_at, first.ended_at, first.duration_seconds) == (T0, T0 + hours(1), 3600)
    assert (first.task_count, first.notes, first.needs_review) == (3, "ok", False)
    assert (second.task_count, second.notes) == (0, "a, b")
    assert (third.started_at, third.task_count) == (datetime(2026, 11, 17, 15, 0, tzinfo=UTC), 1_000_000)
    assert {s.period for s in sessions} == {"2026-W47"}
    assert all(s.created_at == s.updated_at == frozen_now for s in sessions)
    history = LabellingSession.history.filter(id__in=[s.pk for s in sessions])
    assert history.count() == 3
    assert {(h.history_user, h.history_type, h.source) for h in history} == {
        (world.contractor_a, "+", SessionSource.IMPORT)
    }


def test_touching_rows_and_touching_stored_sessions_are_fine(world, frozen_now):
    # given the world's stored session 15:00-17:00 UTC on 2026-11-02
    stored = world.session_a
    content = csv_file(
        row(world.project_a, stored.started_at - hours(1), stored.started_at),
        row(world.project_a, stored.ended_at, stored.ended_at + hours(1)),
        row(world.project_a, stored.ended_at + hours(1), stored.ended_at + hours(2)),
    )
    # when / then
    assert sessions_import(actor=world.contractor_a, content=content) == 3


def test_the_worker_column_may_name_the_contractor_themself(world, frozen_now):
    # given
    content = csv_file(
        f"{world.worker_a.pk},{row(world.project_a, T0, T0 + hours(1))}",
        f",{row(world.project_a, T0 + hours(1), T0 + hours(2))}",
        header=f"worker,{HEADER}",
    )
    # when / then
    assert sessions_import(actor=world.contractor_a, content=content) == 2


def test_imported_ids_are_new_and_later_writes_still_work(world, frozen_now):
    # given the newest session was deleted: its id (and its history) must never be reused
    newest = session_create(
        actor=world.contractor_a,
        worker=world.worker_a,
        project=world.project_a,
        started_at=T0,
        ended_at=T0 + hours(1),
    )
    deleted_id = newest.pk
    session_delete(actor=world.contractor_a, session=newest)
    # when
    sessions_import(actor=world.contractor_a, content=csv_file(row(world.project_a, T0, T0 + hours(1))))
    later = session_create(
        actor=world.contractor_a,
        worker=world.worker_a,
        project=world.project_a,
        started_at=T0 + hours(2),
        ended_at=T0 + hours(3),
    )
    # then
    (session,) = imported(world.worker_a)
    assert deleted_id < session.pk < later.pk


def test_the_fast_insert_writes_every_column_of_the_session_and_its_history():
    # given
    history_model = LabellingSession.history.model
    # when
    session_fields = {field.attname for field in LabellingSession._meta.concrete_fields}
    history_fields = {field.attname for field in history_model._meta.concrete_fields}
    # then
    assert set(SESSION_COLUMNS) == session_fields
    assert {*HISTORY_COLUMNS, "history_id"} == history_fields


# Bad rows -----------------------------------------------------------------------------------

INACTIVE = "inactive"
OTHER_WORKER = "other-worker"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"started_at": "yesterday"}, "started_at", "not an ISO 8601"),
        ({"ended_at": "2026-13-01T00:00:00Z"}, "ended_at", "not an ISO 8601"),
        ({"started_at": "2026-11-16T09:00:00"}, "started_at", "UTC offset"),
        ({"ended_at": "2026-11-16"}, "ended_at", "UTC offset"),
        ({"started_at": ""}, "started_at", "Required"),
        ({"started_at": "0226-11-16T15:00:00+00:00"}, "started_at", "on or after 2000-01-04"),
        ({"started_at": "0001-01-01T00:00:00+05:00"}, "started_at", "on or after 2000-01-04"),
        ({"project": "999999"}, "project", "No project with id '999999'"),
        ({"project": "abc"}, "project", "No project named 'abc' that you may log on."),
        ({"project": ""}, "project", "Required"),
        ({"project": "B"}, "project", "No project with id"),
        ({"project": INACTIVE}, "project", "is inactive"),
        ({"ended_at": iso(T0)}, "ended_at", "Must be after started_at"),
        ({"ended_at": iso(T0 - hours(1))}, "ended_at", "Must be after started_at"),
        ({"ended_at": iso(T0 + hours(16) + timedelta(seconds=1))}, "ended_at", "at most 16 hours"),
        ({"started_at": "2026-11-20T12:05:01Z", "ended_at": "2026-11-20T13:00:00Z"}, "started_at", "future"),
        ({"task_count": "-1"}, "task_count", "whole number"),
        ({"task_count": "1.5"}, "task_count", "whole number"),
        ({"task_count": "²"}, "task_count", "whole number"),
        ({"task_count": "1000001"}, "task_count", "whole number"),
        ({"task_count": "9" * 5000}, "task_count", "whole number"),
        ({"notes": "x" * 2001}, "notes", "At most 2000 characters"),
        ({"extra": "surplus"}, "row", "more fields than the header"),
        ({"worker": OTHER_WORKER}, "worker", "only your own sessions"),
        ({"worker": "12345678901234567890"}, "worker", "only your own sessions"),
    ],
    ids=[
        "bad-date",
        "impossible-date",
        "naive-start",
        "date-only-end",
        "missing-start",
        "ancient-year",
        "year-one",
        "unknown-project",
        "project-name-unknown",
        "missing-project",
        "project-not-assigned",
        "inactive-project",
        "zero-length",
        "end-before-start",
        "too-long",
        "future",
        "negative-task-count",
        "fractional-task-count",
        "unicode-digit-task-count",
        "too-many-tasks",
        "5000-digit-task-count",
        "notes-too-long",
        "extra-field",
        "another-workers-id",
        "huge-worker-id",
    ],
)
def test_each_bad_row_is_refused_with_its_field_and_line(world, frozen_now, fields, field, words):
    # given a good row on line 2 and the bad one on line 3
    values = {
        "worker": "",
        "project": str(world.project_a.pk),
        "started_at": iso(T0),
        "ended_at": iso(T0 + hours(1)),
        "task_count": "3",
        "notes": "ok",
    }
    values.update(fields)
    if values["project"] == INACTIVE:
        values["project"] = str(ProjectFactory(workers=[world.worker_a], is_active=False).pk)
    if values["project"] == "B":
        values["project"] = str(world.project_b.pk)
    if values["worker"] == OTHER_WORKER:
        values["worker"] = str(world.worker_b.pk)
    extra = values.pop("extra", None)
    bad = ",".join(values.values()) + (f",{extra}" if extra else "")
    content = csv_file(
        f",{row(world.project_a, T0 - hours(3), T0 - hours(2))}", bad, header=f"worker,{HEADER}"
    )
    # when
    refused = rejection(world.contractor_a, content)
    # then
    assert refused.errors["file"] == ["1 of 2 rows are invalid; nothing was imported."]
    (entry,) = refused.errors["rows"]
    assert entry["line"] == 3
    assert words in " ".join(entry["errors"][field]), entry


def test_a_file_with_many_bad_rows_names_every_bad_line_and_writes_nothing(world, frozen_now, lock_period):
    # given a running timer, a period lock, and a file whose line 4 holds a multi-line note
    running = session_start(
        actor=world.contractor_a,
        worker=world.worker_a,
        project=world.project_a,
        now=datetime(2026, 11, 19, 12, 0, tzinfo=UTC),
    )
    lock_period(world.worker_a, "2026-W47")
    stored = world.session_a  # 2026-11-02 15:00-17:00 UTC
    pa = world.project_a
    w45 = stored.ended_at + hours(24)  # 2026-11-03, unlocked
    content = csv_file(
        row(pa, w45, w45 + hours(1)),  # 2 good
        row(pa, w45, w45 + hours(1)).replace(iso(w45), "not-a-date", 1),  # 3 bad date
        row(pa, w45 + hours(2), w45 + hours(3), notes='"first line\nsecond line\nthird line"'),  # 4-6 good
        row(pa, w45 + hours(4), w45 + hours(6)),  # 7 overlaps line 8
        row(pa, w45 + hours(5), w45 + hours(7)),  # 8 overlaps line 7
        row(pa, stored.started_at + hours(1), stored.ended_at + hours(1)),  # 9 overlaps the stored session
        row(pa, T0, T0 + hours(1)),  # 10 locked period
        row(
            pa, datetime(2026, 11, 19, 13, 0, tzinfo=UTC), datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
        ),  # 11 timer
        row(world.project_b, w45 + hours(8), w45 + hours(9), notes='"bad project,\nspanning lines"'),  # 12-13
        row(pa, w45 + hours(10), w45 + hours(11), task_count="many"),  # 14 bad task count
        "",  # 15 blank
        row(pa, w45 + hours(12), w45 + hours(13)),  # 16 good
    )
    # when
    refused = rejection(world.contractor_a, content)
    # then
    errors = row_errors(refused)
    assert sorted(errors) == [3, 7, 8, 9, 10, 11, 12, 14]
    assert refused.errors["file"] == ["8 of 11 rows are invalid; nothing was imported."]
    assert "not an ISO 8601" in errors[3]["started_at"][0]
    assert errors[7] == {"started_at": ["Overlaps line 8."]}
    assert errors[8] == {"started_at": ["Overlaps line 7."]}
    assert f"Overlaps session {stored.pk}" in errors[9]["started_at"][0]
    assert errors[10] == {"started_at": ["Period 2026-W47 is locked: its timesheet is submitted"]}
    assert f"Overlaps session {running.pk}" in errors[11]["started_at"][0]
    assert "still running" in errors[11]["started_at"][0]
    assert list(errors[12]) == ["project"]
    assert list(errors[14]) == ["task_count"]


def test_overlaps_are_found_however_the_file_is_ordered(world, frozen_now):
    # given a long row first and a short row inside it three lines later
    content = csv_file(
        row(world.project_a, T0, T0 + hours(8)),
        row(world.project_a, T0 - hours(3), T0 - hours(2)),
        row(world.project_a, T0 + hours(9), T0 + hours(10)),
        row(world.project_a, T0 + hours(6), T0 + hours(7)),
        row(world.project_a, T0 + hours(1), T0 + hours(2)),
    )
    # when
    errors = row_errors(rejection(world.contractor_a, content))
    # then
    assert sorted(errors) == [2, 5, 6]
    assert errors[5] == errors[6] == {"started_at": ["Overlaps line 2."]}
    assert errors[2]["started_at"] == ["Overlaps line 6.", "Overlaps line 5."]


def test_a_row_crossing_into_a_locked_period_is_refused(world, frozen_now, lock_period):
    # given W47 locked; Sunday 22:00 to Monday 01:00 in Chicago crosses from W46 into it
    lock_period(world.worker_a, "2026-W47")
    content = csv_file(f"{world.project_a.pk},2026-11-15T22:00:00-06:00,2026-11-16T01:00:00-06:00,,")
    # when
    errors = row_errors(rejection(world.contractor_a, content))
    # then
    assert errors == {2: {"started_at": ["Period 2026-W47 is locked: its timesheet is submitted"]}}


# Who may import for whom --------------------------------------------------------------------


def test_an_admin_imports_for_several_workers_named_in_the_worker_column(world, frozen_now):
    # given
    content = csv_file(
        f"{world.worker_a.pk},{row(world.project_a, T0, T0 + hours(1))}",
        f"{world.worker_b.pk},{row(world.project_b, T0, T0 + hours(1))}",
        f" {world.worker_a2.pk} ,{row(world.project_a, T0, T0 + hours(2))}",
        header=f"worker,{HEADER}",
    )
    # when
    count = sessions_import(actor=world.admin, content=content)
    # then
    assert count == 3
    assert [len(imported(w)) for w in (world.worker_a, world.worker_b, world.worker_a2)] == [1, 1, 1]
    history = LabellingSession.history.filter(source=SessionSource.IMPORT)
    assert {h.history_user for h in history} == {world.admin}


@pytest.mark.parametrize(
    ("worker", "project", "field", "words"),
    [
        ("", "a", "worker", "Required"),
        ("999999", "a", "worker", "No worker with id '999999'"),
        ("x", "a", "worker", "No worker with id 'x'"),
        ("inactive", "a", "worker", "inactive and cannot log time"),
        ("b", "a", "project", "This worker is not assigned to project 'Project A'."),
    ],
    ids=["missing-worker", "unknown-worker", "worker-not-a-number", "inactive-worker", "not-assigned"],
)
def test_an_admin_row_needs_a_known_active_assigned_worker(world, frozen_now, worker, project, field, words):
    # given
    if worker == "inactive":
        worker = str(WorkerFactory(is_active=False).pk)
    elif worker == "b":
        worker = str(world.worker_b.pk)
    content = csv_file(f"{worker},{row(world.project_a, T0, T0 + hours(1))}", header=f"worker,{HEADER}")
    # when
    errors = row_errors(rejection(world.admin, content))
    # then
    assert words in errors[2][field][0]


# One wording: every rule a single entry and a row both check refuses both in the same words --


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the frozen_now fixture's


@pytest.mark.parametrize(
    ("case", "start", "end"),
    [
        ("not-assigned", T0, T0 + hours(1)),
        ("inactive-project", T0, T0 + hours(1)),
        ("inactive-worker", T0, T0 + hours(1)),
        ("too-long", T0, T0 + hours(16) + timedelta(seconds=1)),
        ("no-second", T0, T0),
        ("end-before-start", T0, T0 - hours(1)),
        ("in-the-future", NOW + timedelta(minutes=6), NOW + hours(1)),
        ("end-in-the-future", NOW - hours(1), NOW + timedelta(minutes=6)),
        ("before-2000-01-04", datetime(2000, 1, 3, 23, tzinfo=UTC), datetime(2000, 1, 4, 1, tzinfo=UTC)),
        ("overlap", T0 + timedelta(minutes=30), T0 + hours(1.5)),
        ("locked", T0, T0 + hours(1)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_row_and_a_single_entry_are_refused_in_the_same_words(
    world, frozen_now, lock_period, case, start, end
):
    # given the worker and project of the case (an admin writes both ways, for any worker)
    worker, project = world.worker_a, world.project_a
    if case == "not-assigned":
        worker = world.worker_b
    elif case == "inactive-project":
        project = ProjectFactory(name="Closed", workers=[worker], is_active=False)
    elif case == "inactive-worker":
        worker = WorkerFactory(is_active=False)
        project.workers.add(worker)
    elif case == "overlap":
        SessionFactory(worker=worker, project=project, started_at=T0, ended_at=T0 + hours(1))
    elif case == "locked":
        lock_period(worker, "2026-W47")
    # when the same session is entered alone and as a row of a file
    single = _single_entry_refusal(world.admin, worker, project, start, end)
    content = csv_file(f"{worker.pk},{row(project, start, end)}", header=f"worker,{HEADER}")
    as_row = row_errors(rejection(world.admin, content))[2]
    # then the words are the same, word for word (a lock is a 409 alone, a row's reason in a file)
    assert as_row == single


def _single_entry_refusal(actor, worker, project, start, end) -> dict[str, list[str]]:
    try:
        session_create(actor=actor, worker=worker, project=project, started_at=start, ended_at=end)
    except InvalidInput as refused:
        return refused.errors
    except Conflict as refused:
        return {"started_at": [refused.message]}
    raise AssertionError("the single entry was not refused")


def test_an_admin_file_without_a_worker_column_is_refused(world, frozen_now):
    refused = rejection(world.admin, csv_file(row(world.project_a, T0, T0 + hours(1))))
    assert "Add a worker column" in refused.errors["file"][0]


@pytest.mark.parametrize("name", ["manager_a", "finance"])
def test_other_roles_may_not_import(world, frozen_now, name):
    # given
    content = csv_file(
        f"{world.worker_a.pk},{row(world.project_a, T0, T0 + hours(1))}", header=f"worker,{HEADER}"
    )
    # when / then
    with pytest.raises(Forbidden):
        sessions_import(actor=world.user(name), content=content)
    assert not imported(world.worker_a)


def test_a_contractor_without_a_worker_profile_may_not_import(db, frozen_now):
    # given
    loner = UserFactory(role=Role.CONTRACTOR)
    project = ProjectFactory()
    # when / then
    with pytest.raises(Forbidden):
        sessions_import(actor=loner, content=csv_file(row(project, T0, T0 + hours(1))))


def test_stored_sessions_of_other_workers_do_not_clash(world, frozen_now):
    # given worker_a2 has a session at the very time worker_a imports
    SessionFactory(worker=world.worker_a2, project=world.project_a, started_at=T0, ended_at=T0 + hours(2))
    # when / then
    assert (
        sessions_import(actor=world.contractor_a, content=csv_file(row(world.project_a, T0, T0 + hours(2))))
        == 1
    )


# Backstop and volume ------------------------------------------------------------------------


def test_the_database_backstop_refuses_an_overlap_the_checks_missed(world, frozen_now, monkeypatch):
    # given the application's overlap check switched off
    monkeypatch.setattr(session_import, "check_overlaps_and_locks", lambda parsed, errors: None)
    stored = world.session_a
    content = csv_file(row(world.project_a, stored.started_at, stored.ended_at))
    # when
    refused = rejection(world.contractor_a, content)
    # then
    assert "clashes with it; nothing was imported" in refused.errors["file"][0]


@pytest.mark.slow
def test_twenty_thousand_rows_import_whole(world, frozen_now):
    # given back-to-back 30-minute sessions with 5-minute gaps, from 2025 on
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(20_000):
        end = start + timedelta(minutes=30, seconds=7)
        rows.append(row(world.project_a, start, end, task_count=str(i % 50), notes=f"batch {i}"))
        start = end + timedelta(minutes=5)
    # when
    count = sessions_import(actor=world.contractor_a, content=csv_file(*rows))
    # then
    assert count == 20_000
    assert (
        LabellingSession.objects.filter(worker=world.worker_a, source=SessionSource.IMPORT).count() == 20_000
    )
    assert (
        LabellingSession.history.filter(history_user=world.contractor_a, history_type="+").count() == 20_000
    )
