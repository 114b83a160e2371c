"""Edge cases of recording time that the other session tests do not reach (PAY_RULES §1-§2).

Each test names the rule (PAY_RULES, docs/pay-rules.md, API.md) or the lesson (LESSONS.md)
it guards.
"""

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from core.errors import Conflict, InvalidInput
from payroll.models import Timesheet
from payroll.services.timesheets import timesheet_get_or_create
from tests.conftest import NOW
from tests.factories import ProjectFactory, SessionFactory, WorkerFactory
from tests.trainers.import_helpers import HEADER, csv_file, hours, imported, rejection, row_errors
from trainers.models import LabellingSession, SessionSource
from trainers.rules import DISCARDED_MESSAGE, FUTURE_MESSAGE
from trainers.services.forgotten_timers import forgotten_timers_stop
from trainers.services.session_import import sessions_import
from trainers.services.sessions import session_start, session_stop, session_update

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # Mon 09:00 in Chicago, period 2026-W47
SESSIONS = "/api/v1/sessions/"


def lock_with_timesheet(worker: Any, period: str, status: str) -> Timesheet:
    """A real payroll timesheet of the period in `status` (the lock hook reads it)."""
    timesheet, _ = timesheet_get_or_create(worker=worker, period=period)
    Timesheet.objects.filter(pk=timesheet.pk).update(status=status)
    return timesheet


# --- CSV import: real time whatever the offsets say (PAY_RULES §1; LESSONS: DST) -------------


def test_import_rows_that_overlap_only_in_real_time_over_the_fall_back_night(world, frozen_now):
    """Rows disjoint on the wall clock but overlapping in real time are refused (LESSONS:
    overlap checks that compared datetimes as strings, ERPNext PR #29846)."""
    # given the first 01:30 (CDT) to the second 01:30 (CST), and 01:00-01:20 CST inside it
    content = csv_file(
        f"{world.project_a.pk},2026-11-01T01:30:00-05:00,2026-11-01T01:30:00-06:00,,first",
        f"{world.project_a.pk},2026-11-01T01:00:00-06:00,2026-11-01T01:20:00-06:00,,second",
    )
    # when
    errors = row_errors(rejection(world.contractor_a, content))
    # then
    assert errors == {2: {"started_at": ["Overlaps line 3."]}, 3: {"started_at": ["Overlaps line 2."]}}


def test_import_rows_that_only_look_overlapping_in_the_repeated_hour_land(world, frozen_now):
    """01:10-01:40 CDT and 01:10-01:40 CST are an hour apart: both land (PAY_RULES §1)."""
    # given
    content = csv_file(
        f"{world.project_a.pk},2026-11-01T01:10:00-05:00,2026-11-01T01:40:00-05:00,,",
        f"{world.project_a.pk},2026-11-01T01:10:00-06:00,2026-11-01T01:40:00-06:00,,",
    )
    # when
    count = sessions_import(actor=world.contractor_a, content=content)
    # then
    first, second = imported(world.worker_a)
    assert count == 2
    assert second.started_at - first.started_at == hours(1)
    assert {first.period, second.period} == {"2026-W44"}


@pytest.mark.parametrize(
    ("ended_at", "accepted"),
    [("2026-11-01T09:00:00-06:00", True), ("2026-11-01T09:00:01-06:00", False)],
    ids=["16h-real-15h-on-the-wall", "16h-plus-1s-real-15h-on-the-wall"],
)
def test_import_length_limit_counts_real_hours_over_the_fall_back_night(
    world, frozen_now, ended_at, accepted
):
    """MAX_SESSION_HOURS is real elapsed time in the import too (docs/pay-rules.md, 'Real time')."""
    # given Sat 18:00 CDT to Sun 09:00 CST: 15 h on the wall, 16 h (or 16 h 1 s) really
    content = csv_file(f"{world.project_a.pk},2026-10-31T18:00:00-05:00,{ended_at},,")
    # when / then
    if accepted:
        assert sessions_import(actor=world.contractor_a, content=content) == 1
        assert imported(world.worker_a)[0].duration_seconds == 16 * 3600
    else:
        errors = row_errors(rejection(world.contractor_a, content))
        assert errors == {2: {"ended_at": ["A session may last at most 16 hours."]}}


def test_import_rows_written_in_the_workers_offsets_over_the_spring_forward_night(world, frozen_now):
    """01:30 CST to 03:30 CDT is one real hour; 02:30-06:00, a wall time the clocks skip, is
    still an exact instant when its offset is given (PAY_RULES §1; docs/pay-rules.md: the API
    takes instants with their offset, so it never needs to ask)."""
    # given
    content = csv_file(
        f"{world.project_a.pk},2026-03-08T01:30:00-06:00,2026-03-08T03:30:00-05:00,,",
        f"{world.project_a.pk},2026-03-08T02:30:00-06:00,2026-03-08T04:00:00-05:00,,",
    )
    # when
    sessions_import(actor=world.contractor_a, content=content)
    # then
    first, second = imported(world.worker_a)
    assert (first.duration_seconds, first.period) == (3600, "2026-W10")
    assert (second.started_at, second.duration_seconds) == (datetime(2026, 3, 8, 8, 30, tzinfo=UTC), 30 * 60)


# --- CSV import: the file itself -------------------------------------------------------------


def test_import_keeps_quoted_crlf_notes_and_counts_the_lines_after_them(world, frozen_now):
    """A BOM, CRLF line ends and a quoted note spanning lines: the note is kept as written and
    a bad row after it is named by its physical line (API.md: every bad row's line)."""
    # given
    pa = world.project_a.pk
    content = b"\xef\xbb\xbf" + csv_file(
        f'{pa},{T0.isoformat()},{(T0 + hours(1)).isoformat()},1,"two\r\nlines"',
        f"{pa},{(T0 + hours(1)).isoformat()},{(T0 + hours(2)).isoformat()},x,bad",
        newline="\r\n",
    )
    # when
    errors = row_errors(rejection(world.contractor_a, content))
    # then the bad row starts on physical line 4
    assert list(errors) == [4]
    assert list(errors[4]) == ["task_count"]


NOTES_AS_WRITTEN = [
    "tab\there",
    "back\\slash and \\N",
    '=HYPERLINK("http://x")',
    "+1; -2; @sum",
    "emoji \U0001f600 and \u2028 separator",
    "line one\nline two\r\nline three",
    "  padded  ",
]


def test_import_stores_every_note_exactly_as_written(world, frozen_now):
    """Notes that COPY's text format must escape (tab, backslash, \\N, newlines) and
    formula-looking text round-trip unchanged (PAY_RULES §1; LESSONS: formula injection is
    an export's job, the stored text stays the contractor's)."""
    # given
    rows = []
    for index, note in enumerate(NOTES_AS_WRITTEN):
        start = T0 + hours(index)
        quoted = '"' + note.replace('"', '""') + '"'
        rows.append(f"{world.project_a.pk},{start.isoformat()},{(start + hours(1)).isoformat()},,{quoted}")
    # when
    sessions_import(actor=world.contractor_a, content=csv_file(*rows))
    # then
    assert [session.notes for session in imported(world.worker_a)] == NOTES_AS_WRITTEN
    history = LabellingSession.history.filter(source=SessionSource.IMPORT).order_by("started_at")
    assert [entry.notes for entry in history] == NOTES_AS_WRITTEN


def test_import_notes_limit_counts_characters_not_bytes(world, frozen_now):
    """2000 two-byte characters fit (MAX_NOTES_LENGTH is characters, as in the API)."""
    # given
    content = csv_file(f"{world.project_a.pk},{T0.isoformat()},{(T0 + hours(1)).isoformat()},,{'é' * 2000}")
    # when / then
    assert sessions_import(actor=world.contractor_a, content=content) == 1
    assert imported(world.worker_a)[0].notes == "é" * 2000


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xef\xbb\xbf", "The file is empty."),
        (b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n\r\n", "no rows, only a header"),
        ((HEADER + "\n").encode("utf-16"), "must be UTF-8 text; line 1 is not"),
        (b"\xef\xbb\xbf\xef\xbb\xbf" + HEADER.encode() + b"\n1,a,b\n", "unknown columns: \ufeffproject"),
    ],
    ids=["bom-only", "bom-header-and-blank-lines", "utf-16", "two-boms"],
)
def test_import_odd_encodings_are_refused_as_a_whole(world, frozen_now, content, words):
    """A file that is not (only) UTF-8 CSV gets one clear reason and writes nothing (PAY_RULES §1)."""
    # given / when
    refused = rejection(world.contractor_a, content)
    # then
    assert words in refused.errors["file"][0], refused.errors
    assert refused.errors["rows"] == []


def test_import_lone_carriage_returns_end_lines(world, frozen_now):
    """Old Mac line ends (CR only) are read as lines, not one long row."""
    # given
    content = csv_file(
        f"{world.project_a.pk},{T0.isoformat()},{(T0 + hours(1)).isoformat()},1,a",
        f"{world.project_a.pk},{(T0 + hours(1)).isoformat()},{(T0 + hours(2)).isoformat()},2,b",
        newline="\r",
    )
    # when / then
    assert sessions_import(actor=world.contractor_a, content=content) == 2


def test_import_a_short_row_takes_the_defaults_of_its_missing_optional_columns(world, frozen_now):
    """A row missing trailing task_count and notes is 0 tasks, no notes (API.md columns)."""
    # given
    content = csv_file(f"{world.project_a.pk},{T0.isoformat()},{(T0 + hours(1)).isoformat()}")
    # when
    sessions_import(actor=world.contractor_a, content=content)
    # then
    (session,) = imported(world.worker_a)
    assert (session.task_count, session.notes) == (0, "")


@pytest.mark.parametrize(
    "instant",
    [
        "2026-11-16T15:00:00.1234567Z",
        "2026-11-16T15:00:00,9Z",
        "20261116T150000Z",
        "2026-11-16T15:00:00+0000",
    ],
    ids=["seven-digit-fraction", "comma-fraction", "basic-format", "offset-without-colon"],
)
def test_import_reads_iso_8601_variants_and_truncates_to_the_second(world, frozen_now, instant):
    """ISO 8601 forms a spreadsheet or .NET writes; sub-second input is truncated (PAY_RULES §1)."""
    # given
    content = csv_file(f'{world.project_a.pk},"{instant}",2026-11-16T16:00:00Z,,')
    # when
    sessions_import(actor=world.contractor_a, content=content)
    # then
    (session,) = imported(world.worker_a)
    assert (session.started_at, session.duration_seconds) == (T0, 3600)


def test_import_identical_rows_overlap_each_other(world, frozen_now):
    """The same row twice (a double paste) is an overlap, not two sessions (PAY_RULES §1)."""
    # given
    line = f"{world.project_a.pk},{T0.isoformat()},{(T0 + hours(1)).isoformat()},1,same"
    # when
    errors = row_errors(rejection(world.contractor_a, csv_file(line, line)))
    # then
    assert errors == {2: {"started_at": ["Overlaps line 3."]}, 3: {"started_at": ["Overlaps line 2."]}}


def test_import_an_admin_file_of_two_workers_at_the_same_hour_lands(world, frozen_now):
    """The overlap rule is per worker: two workers may work the same hour (PAY_RULES §1)."""
    # given
    times = f"{T0.isoformat()},{(T0 + hours(1)).isoformat()},,"
    content = csv_file(
        f"{world.worker_a.pk},{world.project_a.pk},{times}",
        f"{world.worker_a2.pk},{world.project_a.pk},{times}",
        header=f"worker,{HEADER}",
    )
    # when / then
    assert sessions_import(actor=world.admin, content=content) == 2


@pytest.mark.parametrize("field", ["started_at", "ended_at"])
def test_import_far_future_instants_are_refused_as_in_the_future(world, frozen_now, field):
    """An instant past year 9999 in UTC is in the future, not 'before 2000' (PAY_RULES §1:
    a clear message naming the field and the rule)."""
    # given 9999-12-31 23:00 at UTC-5 is 10000-01-01 04:00 UTC
    values = {"started_at": T0.isoformat(), "ended_at": (T0 + hours(1)).isoformat()}
    values[field] = "9999-12-31T23:00:00-05:00"
    content = csv_file(f"{world.project_a.pk},{values['started_at']},{values['ended_at']},,")
    # when
    errors = row_errors(rejection(world.contractor_a, content))
    # then
    assert errors[2][field] == [FUTURE_MESSAGE]


# --- CSV import: locked weeks of real timesheets (PAY_RULES §6) -------------------------------


@pytest.mark.parametrize(
    ("status", "locked"),
    [("open", False), ("rejected", False), ("submitted", True), ("approved", True), ("invoiced", True)],
)
def test_import_into_a_week_is_refused_exactly_while_its_timesheet_is_signed(
    world, frozen_now, status, locked
):
    """Submitted, approved and invoiced weeks take no imported rows; open and rejected do
    (PAY_RULES §6; LESSONS: rows added after submission, ERPNext #51383)."""
    # given
    lock_with_timesheet(world.worker_a, "2026-W47", status)
    content = csv_file(f"{world.project_a.pk},{T0.isoformat()},{(T0 + hours(1)).isoformat()},,")
    # when / then
    if locked:
        errors = row_errors(rejection(world.contractor_a, content))
        assert errors == {
            2: {
                "started_at": [
                    f"Period 2026-W47 is locked: its timesheet is {status}; sessions in it cannot change."
                ]
            }
        }
    else:
        assert sessions_import(actor=world.contractor_a, content=content) == 1


# --- CSV import through the API ---------------------------------------------------------------


def test_api_import_accepts_a_charset_parameter_and_refuses_a_json_body(world, frozen_now, client_for):
    """`text/csv; charset=utf-8` is a CSV body; a JSON body is a 400 naming `file` (API.md)."""
    # given
    client = client_for(world.contractor_a)
    content = csv_file(f"{world.project_a.pk},{T0.isoformat()},{(T0 + hours(1)).isoformat()},,")
    # when
    as_json = client.post(f"{SESSIONS}import/", {"rows": []}, format="json")
    as_csv = client.post(f"{SESSIONS}import/", content, content_type="text/csv; charset=utf-8")
    # then
    assert as_json.status_code == 400 and "file" in as_json.json()
    assert (as_csv.status_code, as_csv.json()) == (201, {"imported": 1})


# --- timer, stop, edits and deletes -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_timers_started_at_the_same_instant_one_runs_and_the_other_is_a_409():
    """At most one running session per worker, also under a race (PAY_RULES §1)."""
    # given
    worker = WorkerFactory()
    project = ProjectFactory(workers=[worker])
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def start(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = session_start(actor=worker.user, worker=worker, project=project, now=T0)
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then
    started = [o for o in outcomes if isinstance(o, LabellingSession)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(started), len(refused)) == (1, 1), outcomes
    assert LabellingSession.objects.filter(worker=worker, ended_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("after", "ended_after", "needs_review"),
    [
        (hours(16), hours(16), False),
        (hours(16) + timedelta(seconds=1), hours(16), True),
        (hours(16) + timedelta(microseconds=999_999), hours(16), False),
    ],
    ids=["exactly-16h", "16h-plus-1s", "16h-plus-a-fraction"],
)
def test_stopping_at_the_maximum_length(world, frozen_now, after, ended_after, needs_review):
    """A stop at exactly MAX_SESSION_HOURS is the real stop; one second later it is cut and
    flagged; a fraction of a second is truncated first (docs/pay-rules.md)."""
    # given
    timer = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=T0)
    # when
    stopped = session_stop(actor=world.contractor_a, session=timer, now=T0 + after)
    # then
    assert (stopped.ended_at - stopped.started_at, stopped.needs_review) == (ended_after, needs_review)


def test_a_timer_stopped_in_its_first_second_through_the_api_is_discarded(world, frozen_now, client_for):
    """A stop with no whole second worked was a 400 about an `ended_at` the client never sent,
    and the timer ran on; it is discarded instead, and said so (docs/pay-rules.md)."""
    # given a timer started through the API at this very instant
    client = client_for(world.contractor_a)
    started = client.post(f"{SESSIONS}start/", {"project": world.project_a.pk}, format="json")
    timer_id = started.json()["id"]
    # when it is stopped in the same second
    response = client.post(f"{SESSIONS}{timer_id}/stop/", {"task_count": 2}, format="json")
    # then the answer says it was discarded, and no session is left
    assert (response.status_code, response.json()) == (
        200,
        {"id": timer_id, "discarded": True, "detail": DISCARDED_MESSAGE},
    )
    assert not LabellingSession.objects.filter(pk=timer_id).exists()
    assert client.get(f"{SESSIONS}{timer_id}/").status_code == 404
    assert client.post(f"{SESSIONS}{timer_id}/stop/", {}, format="json").status_code == 404
    # and the next timer starts at once
    assert client.post(f"{SESSIONS}start/", {"project": world.project_a.pk}, format="json").status_code == 201


def test_stopping_a_stopped_timer_through_the_api_is_a_409(world, frozen_now, client_for):
    """A second stop clashes with the session's state, it is not bad input (docs/api.md)."""
    # given a timer stopped after an hour
    timer = session_start(
        actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=NOW - hours(1)
    )
    client = client_for(world.contractor_a)
    first = client.post(f"{SESSIONS}{timer.pk}/stop/", {}, format="json")
    # when
    second = client.post(f"{SESSIONS}{timer.pk}/stop/", {"task_count": 4}, format="json")
    # then
    assert (first.status_code, first.json()["duration_seconds"]) == (200, 3600)
    assert (second.status_code, second.json()) == (409, {"detail": f"Session {timer.pk} is already stopped."})
    timer.refresh_from_db()
    assert (timer.ended_at, timer.task_count) == (NOW, 0)


def test_a_timer_cannot_start_inside_a_manual_session_that_ends_in_the_next_minutes(
    world, frozen_now, client_for
):
    """A manual entry may end up to 5 minutes ahead; a timer started now overlaps it (§1)."""
    # given
    SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=NOW - hours(1),
        ended_at=NOW + timedelta(minutes=4),
    )
    # when
    response = client_for(world.contractor_a).post(
        f"{SESSIONS}start/", {"project": world.project_a.pk}, format="json"
    )
    # then
    assert response.status_code == 400, response.content
    assert "Overlaps session" in response.json()["started_at"][0]
    assert not LabellingSession.objects.filter(ended_at__isnull=True).exists()


def test_a_finished_session_cannot_be_set_running_again(world, frozen_now, client_for):
    """PATCH ended_at null would restart a timer behind the start endpoint's back (§1)."""
    # given
    session = world.session_a
    # when
    response = client_for(world.contractor_a).patch(
        f"{SESSIONS}{session.pk}/", {"ended_at": None}, format="json"
    )
    # then
    assert response.status_code == 400
    assert "ended_at" in response.json()
    session.refresh_from_db()
    assert session.ended_at is not None


def test_a_running_timer_cannot_be_moved_into_the_future(world, frozen_now):
    """A running session's start follows the 5-minute future rule on edits too (§1)."""
    # given
    timer = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=NOW)
    # when / then
    with pytest.raises(InvalidInput) as refused:
        session_update(
            actor=world.contractor_a, session=timer, changes={"started_at": NOW + timedelta(minutes=6)}
        )
    assert refused.value.errors == {"started_at": [FUTURE_MESSAGE]}


@pytest.mark.parametrize("status", ["submitted", "approved", "invoiced"])
def test_api_edits_and_deletes_in_a_signed_week_are_409_and_change_nothing(
    world, frozen_now, client_for, status
):
    """Out of, into, and inside a signed week: 409 with the reason (API.md; PAY_RULES §6;
    LESSONS: a lockdown period that did not block edits, Kimai #4025)."""
    # given a session in W47 and one in W46, and W47 signed
    client = client_for(world.contractor_a)
    in_locked = SessionFactory(
        worker=world.worker_a, project=world.project_a, started_at=T0, ended_at=T0 + hours(1)
    )
    in_open = SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=T0 - timedelta(days=3),
        ended_at=T0 - timedelta(days=3) + hours(1),
    )
    lock_with_timesheet(world.worker_a, "2026-W47", status)
    # when
    out_of = client.patch(
        f"{SESSIONS}{in_locked.pk}/",
        {
            "started_at": (T0 - timedelta(days=2)).isoformat(),
            "ended_at": (T0 - timedelta(days=2) + hours(1)).isoformat(),
        },
        format="json",
    )
    into = client.patch(
        f"{SESSIONS}{in_open.pk}/",
        {"started_at": (T0 + hours(3)).isoformat(), "ended_at": (T0 + hours(4)).isoformat()},
        format="json",
    )
    deleted = client.delete(f"{SESSIONS}{in_locked.pk}/")
    # then
    for response in (out_of, into, deleted):
        assert response.status_code == 409, response.content
        assert response.json()["detail"].startswith(f"Period 2026-W47 is locked: its timesheet is {status}")
    in_locked.refresh_from_db()
    in_open.refresh_from_db()
    assert (in_locked.started_at, in_open.started_at) == (T0, T0 - timedelta(days=3))


def test_web_edit_into_and_delete_in_a_signed_week_are_refused_with_the_reason(world, frozen_now, client):
    """The web pages refuse what the API refuses, with its words, even when a locked session's
    URL is posted directly (LESSONS: edit buttons shown in locked weeks, Kimai #2271)."""
    # given a session in open W45 and one in W47, and W47 submitted
    client.force_login(world.contractor_a)
    in_open = world.session_a  # 2026-11-02, W45
    in_locked = SessionFactory(
        worker=world.worker_a, project=world.project_a, started_at=T0, ended_at=T0 + hours(1)
    )
    lock_with_timesheet(world.worker_a, "2026-W47", "submitted")
    form = {
        "project": world.project_a.pk,
        "started_at": "2026-11-17T09:00:00",  # W47 in Chicago
        "ended_at": "2026-11-17T10:00:00",
        "task_count": 1,
        "notes": "moved",
    }
    # when
    moved = client.post(reverse("trainers:session-edit", args=[in_open.pk]), form, follow=True)
    deleted = client.post(reverse("trainers:session-delete", args=[in_locked.pk]), follow=True)
    # then
    reason = "Period 2026-W47 is locked: its timesheet is submitted"
    assert reason in moved.content.decode()
    assert reason in deleted.content.decode()
    in_open.refresh_from_db()
    assert (in_open.started_at, in_open.notes) == (datetime(2026, 11, 2, 15, 0, tzinfo=UTC), "")
    assert LabellingSession.objects.filter(pk=in_locked.pk).exists()


def test_forgotten_timer_over_the_fall_back_night_stops_after_16_real_hours():
    """The job cuts at started_at + 16 real hours, 15 on the wall (LESSONS: durations off by
    an hour across DST, einsatzverwaltung #200)."""
    # given a timer started Sat 2026-10-31 20:00 CDT (01:00 UTC) in Chicago
    started = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    timer = SessionFactory(
        worker=WorkerFactory(time_zone="America/Chicago"), started_at=started, ended_at=None, source="timer"
    )
    # when the job runs a day later
    counts = forgotten_timers_stop(now=started + hours(24))
    # then
    timer.refresh_from_db()
    assert counts == {"stopped": 1, "failed": 0}
    assert (timer.ended_at, timer.duration_seconds, timer.needs_review) == (
        started + hours(16),
        16 * 3600,
        True,
    )
    assert "stopped Sun 01 Nov 2026 11:00" in mail.outbox[0].body


@pytest.mark.parametrize(("method", "path"), [("POST", ""), ("POST", "start/"), ("PATCH", "{id}/")])
@pytest.mark.parametrize("number", ["1e400", "-1e400"])
def test_a_json_number_beyond_a_float_as_the_project_is_a_400(
    world, frozen_now, client_for, method, path, number
):
    """1e400 is valid JSON that Python reads as infinity; int(inf) raised OverflowError, which
    neither DRF's PrimaryKeyRelatedField nor Django's IntegerField turned into a refusal (a
    500). The parser now refuses a number beyond a float, on every endpoint (API.md: never a
    500 for anything a client sends; LESSONS: bound every number)."""
    # given
    times = json.dumps(ENTRY)[1:-1]
    body = f'{{"project": {number}, {times}}}'
    client = client_for(world.contractor_a)
    client.raise_request_exception = False
    before = LabellingSession.objects.count()
    # when
    url = f"{SESSIONS}{path.format(id=world.session_a.pk)}"
    response = client.generic(method, url, body, content_type="application/json")
    # then
    assert response.status_code == 400, response.content[:300]
    assert "out of range" in response.json()["detail"]
    assert LabellingSession.objects.count() == before


@pytest.mark.parametrize("change", ["project_inactive", "worker_unassigned", "worker_inactive"])
def test_a_running_timer_can_be_stopped_after_its_project_or_worker_changed(world, frozen_now, change):
    """A timer started while everything was valid must stop at the real time: refusing the
    stop leaves it running until the forgotten-timer job records 16 h (docs/pay-rules.md:
    hours are never silently inflated; forgotten_timers: a running timer must end whatever
    changed while it ran)."""
    # given a timer running for an hour, then the project closed / the worker taken off it
    timer = session_start(
        actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=NOW - hours(1)
    )
    if change == "project_inactive":
        world.project_a.is_active = False
        world.project_a.save()
    elif change == "worker_unassigned":
        world.project_a.workers.remove(world.worker_a)
    else:
        world.worker_a.is_active = False
        world.worker_a.save()
    # when the contractor stops it
    stopped = session_stop(actor=world.contractor_a, session=timer, now=NOW)
    # then it lasts the real hour, marked for review: time past the change is a manager's call
    assert (stopped.duration_seconds, stopped.needs_review) == (3600, True)


# --- unusual but valid requests to POST /api/v1/sessions/ (API.md) ---------------------------

ENTRY = {"started_at": "2026-11-16T09:00:00-06:00", "ended_at": "2026-11-16T10:30:00-06:00"}
LOGGED = {
    "started_at": "2026-11-16T15:00:00Z",
    "ended_at": "2026-11-16T16:30:00Z",
    "task_count": 0,
    "notes": "",
}


def entry_case(name: str, body: Any, status: int, answer: dict[str, Any], **headers: str) -> Any:
    """One request (with its extra headers), its status and the fields of its answer."""
    return pytest.param(body, headers, status, answer, id=name)


ENTRY_CASES = [
    entry_case(
        "project-as-text",
        {**ENTRY, "project": "A"},
        400,
        {"project": ["Must be an id: a JSON whole number such as 12, not a string."]},
    ),
    entry_case(
        "unknown-and-read-only-fields",
        {**ENTRY, "project": 0, "colour": "red", "source": "import", "needs_review": True, "id": 1},
        201,
        {**LOGGED, "source": "manual", "needs_review": False},
    ),
    entry_case("another-workers-id", {**ENTRY, "project": 0, "worker": "B"}, 201, LOGGED),
    entry_case(
        "task-count-float", {**ENTRY, "project": 0, "task_count": 3.0}, 201, {**LOGGED, "task_count": 3}
    ),
    entry_case(
        "task-count-text-float",
        {**ENTRY, "project": 0, "task_count": "3.0"},
        201,
        {**LOGGED, "task_count": 3},
    ),
    entry_case(
        "task-count-exponent", {**ENTRY, "project": 0, "task_count": 1e3}, 201, {**LOGGED, "task_count": 1000}
    ),
    entry_case(
        "charset", {**ENTRY, "project": 0}, 201, LOGGED, CONTENT_TYPE="application/json; charset=utf-8"
    ),
    entry_case(
        "charset-upper", {**ENTRY, "project": 0}, 201, LOGGED, CONTENT_TYPE="application/json; charset=UTF-8"
    ),
    entry_case("accept-q", {**ENTRY, "project": 0}, 201, LOGGED, HTTP_ACCEPT="application/json; q=0.9"),
    entry_case("accept-any", {**ENTRY, "project": 0}, 201, LOGGED, HTTP_ACCEPT="*/*"),
    entry_case(
        "padded-notes", {**ENTRY, "project": 0, "notes": "  padded\t"}, 201, {**LOGGED, "notes": "padded"}
    ),
    entry_case(
        "sub-second-and-half-hour-offset",
        {
            "project": 0,
            "started_at": "2026-11-16T20:30:00.999999+05:30",
            "ended_at": "2026-11-16T16:00:00.5Z",
        },
        201,
        {**LOGGED, "ended_at": "2026-11-16T16:00:00Z", "duration_seconds": 3600},
    ),
    entry_case(
        "project-float",
        {**ENTRY, "project": 1.0},
        400,
        {"project": ["Must be an id: a JSON whole number such as 12, not a number with a fraction."]},
    ),
    entry_case(
        "project-true",
        {**ENTRY, "project": True},
        400,
        {"project": ["Must be an id: a JSON whole number such as 12, not a boolean."]},
    ),
    entry_case(
        "over-days",
        {**ENTRY, "project": 0, "ended_at": "2026-11-19T09:00:00-06:00"},
        400,
        {"ended_at": ["A session may last at most 16 hours."]},
    ),
    entry_case(
        "null-notes", {**ENTRY, "project": 0, "notes": None}, 400, {"notes": ["This field may not be null."]}
    ),
    entry_case(
        "a-list",
        [{**ENTRY, "project": 0}],
        400,
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
    ),
]
# Every header of these answers but Date and Content-Length (DRF's view and the middleware's).
HEADERS = {
    "Content-Type": "application/json",
    "Vary": "Accept",
    "Allow": "GET, POST, HEAD, OPTIONS",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": (
        "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), display-capture=(), "
        "encrypted-media=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), "
        "midi=(), payment=(), screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()"
    ),
}
# django-csp writes the policy's directives in no fixed order: compared as a set.
CONTENT_SECURITY_POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


def _prepare(world: Any, body: Any) -> Any:
    """Put real ids in: project 0 is project A's id, "A" its id as text, worker "B" worker B's id."""
    if isinstance(body, list):
        return [_prepare(world, item) for item in body]
    ids = {0: world.project_a.pk, "A": str(world.project_a.pk), "B": world.worker_b.pk}
    return {
        key: ids.get(value, value) if key in ("project", "worker") and type(value) in (int, str) else value
        for key, value in body.items()
    }


@pytest.mark.parametrize(("body", "headers", "status", "answer"), ENTRY_CASES)
def test_a_manual_entry_answers_unusual_requests_with_the_apis_words_and_headers(
    world, frozen_now, client_for, body, headers, status, answer
):
    """Numbers, instants, extra fields and media types as API.md describes them; every header kept."""
    # given
    client = client_for(world.contractor_a)
    payload = json.dumps(_prepare(world, body))
    headers = dict(headers)
    content_type = headers.pop("CONTENT_TYPE", "application/json")
    # when
    response = client.generic("POST", SESSIONS, payload, content_type=content_type, **headers)
    # then: a logged session is the caller's own, on project A; a refusal names the field
    assert response.status_code == status, response.content
    if status == 201:
        mine = {"worker": world.worker_a.pk, "project": world.project_a.pk}
        assert response.json() == {**response.json(), **answer, **mine}
    else:
        assert response.json() == answer
    sent = {name: value for name, value in response.headers.items() if name not in ("Date", "Content-Length")}
    assert set(sent.pop("Content-Security-Policy").split("; ")) == CONTENT_SECURITY_POLICY
    assert sent == HEADERS
    assert response.headers["Content-Length"] == str(len(response.content))


def test_an_inactive_worker_cannot_log_time_through_the_api(world, frozen_now, client_for):
    """An active contractor user whose worker profile is inactive (PAY_RULES §1, docs: inactive
    workers cannot log new time) gets a 400 naming the worker."""
    # given
    world.worker_a.is_active = False
    world.worker_a.save()
    client = client_for(world.contractor_a)
    payload = json.dumps({**ENTRY, "project": world.project_a.pk})
    # when
    response = client.generic("POST", SESSIONS, payload, content_type="application/json")
    # then
    assert response.status_code == 400
    assert response.json() == {"worker": ["This worker is inactive and cannot log time."]}
