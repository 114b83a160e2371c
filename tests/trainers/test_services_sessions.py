"""The session services: timer, manual entries, edits, deletes and every §1 rule."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.factories import ProjectFactory, SessionFactory, WorkerFactory
from trainers.models import LabellingSession, SessionSource
from trainers.rules import EARLIEST_INSTANT
from trainers.services.sessions import (
    OVERLAP_SQL,
    session_create,
    session_delete,
    session_start,
    session_stop,
    session_update,
)

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # Mon 09:00 in Chicago
OVERLAP_READ = OVERLAP_SQL.split(" WHERE ")[0]


def create(world, start, end, **extra):
    return session_create(
        actor=world.contractor_a,
        worker=world.worker_a,
        project=world.project_a,
        started_at=start,
        ended_at=end,
        **extra,
    )


def test_create_stores_whole_seconds_and_manual_source(world, frozen_now):
    # given / when
    session = create(world, T0.replace(microsecond=999_999), T0 + timedelta(hours=1, microseconds=5))
    # then
    session.refresh_from_db()
    assert session.started_at == T0
    assert session.duration_seconds == 3600
    assert session.source == SessionSource.MANUAL
    assert session.period == "2026-W47"


def test_touching_sessions_are_fine_but_overlap_is_refused(world, frozen_now):
    # given
    create(world, T0, T0 + timedelta(hours=1))
    # when
    create(world, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    # then
    with pytest.raises(InvalidInput) as refused:
        create(world, T0 + timedelta(minutes=30), T0 + timedelta(minutes=90))
    assert "Overlaps session" in refused.value.errors["started_at"][0]
    assert LabellingSession.objects.filter(worker=world.worker_a, started_at__gte=T0).count() == 2


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (T0, T0, "ended_at"),
        (T0, T0 - timedelta(seconds=1), "ended_at"),
        (T0, T0 + timedelta(hours=16, seconds=1), "ended_at"),
        (datetime(2026, 11, 20, 12, 6, tzinfo=UTC), datetime(2026, 11, 20, 13, 0, tzinfo=UTC), "started_at"),
        (datetime(2026, 11, 16, 15, 0), datetime(2026, 11, 16, 16, 0), "started_at"),
    ],
    ids=["zero-length", "end-before-start", "over-16h", "future", "naive"],
)
def test_invalid_intervals_are_refused_with_the_field(world, frozen_now, start, end, field):
    # given
    before = LabellingSession.objects.count()
    # when
    with pytest.raises(InvalidInput) as refused:
        create(world, start, end)
    # then
    assert field in refused.value.errors
    assert LabellingSession.objects.count() == before


def test_exactly_16_hours_is_allowed(world, frozen_now):
    session = create(world, T0, T0 + timedelta(hours=16))
    assert session.duration_seconds == 16 * 3600


def test_inactive_or_unassigned_project_is_refused(world, frozen_now):
    # given
    world.project_b.is_active = True
    inactive = ProjectFactory(workers=[world.worker_a], is_active=False)
    # when / then
    for project, words in ((world.project_b, "not assigned"), (inactive, "inactive")):
        with pytest.raises(InvalidInput) as refused:
            session_create(
                actor=world.contractor_a,
                worker=world.worker_a,
                project=project,
                started_at=T0,
                ended_at=T0 + timedelta(hours=1),
            )
        assert words in refused.value.errors["project"][0]


def test_timer_start_stop_and_only_one_running(world, frozen_now):
    # given
    session = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=T0)
    assert session.is_running and session.source == SessionSource.TIMER
    # when a second timer is started
    with pytest.raises(Conflict):
        session_start(
            actor=world.contractor_a,
            worker=world.worker_a,
            project=world.project_a,
            now=T0 + timedelta(minutes=5),
        )
    # then stopping it records the real elapsed time
    stopped = session_stop(
        actor=world.contractor_a,
        session=session,
        task_count=12,
        now=T0 + timedelta(minutes=42, seconds=7, microseconds=5),
    )
    assert stopped.duration_seconds == 42 * 60 + 7
    assert stopped.task_count == 12
    with pytest.raises(Conflict):
        session_stop(actor=world.contractor_a, session=stopped, now=T0 + timedelta(hours=1))


def test_a_running_timer_blocks_a_later_manual_entry(world, frozen_now):
    # given a timer running since T0
    timer = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=T0)
    # when / then: an entry after its start overlaps the open-ended running session
    with pytest.raises(InvalidInput) as refused:
        create(world, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert refused.value.errors["started_at"] == [
        f"Overlaps session {timer.pk} ({timer.started_at.isoformat()} to still running)."
    ]


def test_forgotten_timer_stops_at_the_maximum_and_is_flagged(world, frozen_now):
    # given
    session = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=T0)
    # when stopped 20 h later
    stopped = session_stop(actor=world.contractor_a, session=session, now=T0 + timedelta(hours=20))
    # then it lasts exactly 16 h and asks for review
    assert stopped.duration_seconds == 16 * 3600
    assert stopped.needs_review is True


def test_a_timer_stopped_in_its_first_second_is_discarded(world, frozen_now):
    # given a timer started a moment ago
    timer = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=T0)
    # when it is stopped before a whole second has passed
    stopped = session_stop(
        actor=world.contractor_a, session=timer, task_count=3, now=T0 + timedelta(milliseconds=999)
    )
    # then nothing is recorded: the session is gone (its history says who removed it)
    assert stopped is None
    assert not LabellingSession.objects.filter(pk=timer.pk).exists()
    history = LabellingSession.history.filter(id=timer.pk).order_by("history_id")
    assert [(h.history_type, h.history_user) for h in history] == [
        ("+", world.contractor_a),
        ("-", world.contractor_a),
    ]
    # and a new timer may start at once
    assert session_start(
        actor=world.contractor_a,
        worker=world.worker_a,
        project=world.project_a,
        now=T0 + timedelta(seconds=1),
    ).is_running


def test_a_timer_stopped_after_its_first_second_keeps_the_whole_seconds(world, frozen_now):
    # given
    timer = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=T0)
    # when
    stopped = session_stop(
        actor=world.contractor_a, session=timer, now=T0 + timedelta(seconds=1, milliseconds=5)
    )
    # then
    assert stopped is not None and stopped.duration_seconds == 1


def test_a_timer_in_a_locked_period_is_not_discarded_either(world, frozen_now, lock_period):
    # given a timer whose week was locked while it ran
    timer = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=T0)
    lock_period(world.worker_a, "2026-W47")
    # when / then
    with pytest.raises(Conflict, match="2026-W47 is locked"):
        session_stop(actor=world.contractor_a, session=timer, now=T0)
    timer.refresh_from_db()
    assert timer.is_running


def test_stopping_a_session_deleted_meanwhile_is_not_found(world, frozen_now):
    # given a timer discarded by a first stop, then a second stop holding the same object
    timer = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a, now=T0)
    session_stop(actor=world.contractor_a, session=timer, now=T0)
    # when / then: a 404, not a server error
    with pytest.raises(NotFound, match=f"Session {timer.pk} no longer exists"):
        session_stop(actor=world.contractor_a, session=timer, now=T0 + timedelta(seconds=5))


def test_partial_update_validates_the_merged_session(world, frozen_now):
    # given
    session = create(world, T0, T0 + timedelta(hours=2))
    # when only the end moves before the stored start
    with pytest.raises(InvalidInput) as refused:
        session_update(
            actor=world.contractor_a, session=session, changes={"ended_at": T0 - timedelta(hours=1)}
        )
    # then nothing changed
    assert "ended_at" in refused.value.errors
    session.refresh_from_db()
    assert session.ended_at == T0 + timedelta(hours=2)


def test_update_may_not_overlap_but_may_move_within_itself(world, frozen_now):
    first = create(world, T0, T0 + timedelta(hours=2))
    second = create(world, T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    session_update(actor=world.contractor_a, session=first, changes={"ended_at": T0 + timedelta(hours=3)})
    with pytest.raises(InvalidInput):
        session_update(
            actor=world.contractor_a, session=second, changes={"started_at": T0 + timedelta(hours=2)}
        )


def test_locked_period_refuses_create_edit_delete_with_409(world, frozen_now, lock_period):
    # given a session in 2026-W47 and that period locked
    session = create(world, T0, T0 + timedelta(hours=1))
    lock_period(world.worker_a, "2026-W47")
    # when / then
    with pytest.raises(Conflict, match="2026-W47 is locked"):
        create(world, T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    with pytest.raises(Conflict):
        session_update(actor=world.contractor_a, session=session, changes={"notes": "x"})
    with pytest.raises(Conflict):
        session_delete(actor=world.contractor_a, session=session)
    # and moving a session *into* a locked period from an open one is refused too
    other = create(world, T0 - timedelta(days=7), T0 - timedelta(days=7, hours=-1))
    with pytest.raises(Conflict):
        session_update(
            actor=world.contractor_a,
            session=other,
            changes={"started_at": T0 + timedelta(hours=5), "ended_at": T0 + timedelta(hours=6)},
        )
    assert LabellingSession.objects.filter(pk=session.pk).exists()


def test_a_session_crossing_into_a_locked_period_is_refused(world, frozen_now, lock_period):
    # Sun 2026-11-15 22:00 -> Mon 02:00 Chicago touches W46 and W47
    lock_period(world.worker_a, "2026-W47")
    with pytest.raises(Conflict):
        create(world, datetime(2026, 11, 16, 4, 0, tzinfo=UTC), datetime(2026, 11, 16, 8, 0, tzinfo=UTC))


def test_other_roles_may_not_write_sessions(world, frozen_now):
    for actor in (world.contractor_b, world.manager_a, world.finance):
        with pytest.raises(Forbidden):
            session_create(
                actor=actor,
                worker=world.worker_a,
                project=world.project_a,
                started_at=T0,
                ended_at=T0 + timedelta(hours=1),
            )


def test_delete_removes_the_session_and_keeps_history(world, frozen_now):
    session = create(world, T0, T0 + timedelta(hours=1))
    session_delete(actor=world.contractor_a, session=session)
    assert not LabellingSession.objects.filter(pk=session.pk).exists()
    history = LabellingSession.history.filter(id=session.pk).order_by("history_date")
    assert [h.history_type for h in history] == ["+", "-"]
    assert all(h.history_user == world.contractor_a for h in history)


def test_database_refuses_a_second_running_session_even_without_the_service(world):
    SessionFactory(worker=world.worker_a, project=world.project_a, started_at=T0, ended_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionFactory(
            worker=world.worker_a, project=world.project_a, started_at=T0 - timedelta(days=3), ended_at=None
        )


def test_database_refuses_end_before_start(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionFactory(worker=world.worker_a, project=world.project_a, started_at=T0, ended_at=T0)


def test_inactive_worker_cannot_log(world, frozen_now):
    world.worker_a.is_active = False
    world.worker_a.save()
    with pytest.raises(InvalidInput) as refused:
        create(world, T0, T0 + timedelta(hours=1))
    assert "worker" in refused.value.errors


def test_new_worker_without_team_can_log(frozen_now):
    worker = WorkerFactory(team=None)
    project = ProjectFactory(workers=[worker])
    session = session_create(
        actor=worker.user, worker=worker, project=project, started_at=T0, ended_at=T0 + timedelta(minutes=1)
    )
    assert session.duration_seconds == 60


def test_a_new_session_has_one_history_row_naming_who_created_it(world, frozen_now):
    # when
    session = create(world, T0, T0 + timedelta(hours=1), task_count=7, notes="labelled cats")
    # then: the row as stored, marked created, by the contractor
    stored = LabellingSession.objects.get(pk=session.pk)
    (row,) = LabellingSession.history.filter(id=session.pk)
    assert (row.history_type, row.history_user, row.history_change_reason) == ("+", world.contractor_a, None)
    copied = ("worker_id", "project_id", "started_at", "ended_at", "task_count", "notes", "created_at")
    assert [getattr(row, name) for name in copied] == [getattr(stored, name) for name in copied]
    assert (session.created_at, session.updated_at) == (stored.created_at, stored.updated_at)


def test_a_started_timer_has_a_history_row_naming_who_started_it(world, frozen_now):
    # when
    timer = session_start(actor=world.contractor_a, worker=world.worker_a, project=world.project_a)
    # then
    (row,) = LabellingSession.history.filter(id=timer.pk)
    assert (row.history_type, row.history_user, row.ended_at) == ("+", world.contractor_a, None)


def test_the_returned_session_is_saved_and_can_be_edited_at_once(world, frozen_now):
    # given
    session = create(world, T0, T0 + timedelta(hours=1))
    # when
    session_update(actor=world.contractor_a, session=session, changes={"notes": "fixed"})
    # then: an update of the same row, not a second insert
    assert LabellingSession.objects.filter(worker=world.worker_a, started_at=T0).count() == 1
    history = LabellingSession.history.filter(id=session.pk).order_by("history_id")
    assert list(history.values_list("history_type", flat=True)) == ["+", "~"]


def test_an_overlap_names_the_newest_of_the_sessions_it_overlaps(world, frozen_now):
    # given
    create(world, T0, T0 + timedelta(hours=1))
    later = create(world, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    # when
    with pytest.raises(InvalidInput) as refused:
        create(world, T0 + timedelta(minutes=30), T0 + timedelta(minutes=90))
    # then
    assert refused.value.errors["started_at"] == [
        f"Overlaps session {later.pk} ({later.started_at.isoformat()} to {later.ended_at.isoformat()})."
    ]


# --- overlaps: PostgreSQL's exclusion constraint refuses them, named after the rollback ------


def test_the_constraint_refuses_an_overlap_named_after_the_rollback(world, frozen_now):
    # given
    first = create(world, T0, T0 + timedelta(hours=1))
    # when
    with CaptureQueriesContext(connection) as queries, pytest.raises(InvalidInput) as refused:
        create(world, T0 + timedelta(minutes=30), T0 + timedelta(minutes=90))
    # then: the insert was tried (no overlap query first), and the session it overlaps is read
    # once its transaction has rolled back, to give the explicit check's words
    assert refused.value.errors == {
        "started_at": [
            f"Overlaps session {first.pk} ({first.started_at.isoformat()} to {first.ended_at.isoformat()})."
        ]
    }
    statements = [query["sql"] for query in queries.captured_queries]
    overlap_reads = [i for i, sql in enumerate(statements) if sql.startswith(OVERLAP_READ)]
    rollback = next(i for i, sql in enumerate(statements) if sql.startswith("ROLLBACK"))
    assert len(overlap_reads) == 1 and overlap_reads[0] > rollback, statements


def test_an_overlap_whose_session_is_gone_by_the_rollback_is_refused_without_a_name(
    world, frozen_now, monkeypatch
):
    # given a session, deleted (as if by a concurrent request) before the refusal looks for it
    create(world, T0, T0 + timedelta(hours=1))
    monkeypatch.setattr("trainers.services.sessions._overlapping_session", lambda session: None)
    # when / then
    with pytest.raises(InvalidInput) as refused:
        create(world, T0 + timedelta(minutes=30), T0 + timedelta(minutes=90))
    assert refused.value.errors == {"started_at": ["Overlaps another session of this worker."]}


def test_an_edit_into_another_session_is_refused_with_its_name(world, frozen_now):
    # given
    first = create(world, T0, T0 + timedelta(hours=1))
    second = create(world, T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    # when
    with pytest.raises(InvalidInput) as refused:
        session_update(
            actor=world.contractor_a, session=second, changes={"started_at": T0 + timedelta(minutes=59)}
        )
    # then
    assert refused.value.errors == {
        "started_at": [
            f"Overlaps session {first.pk} ({first.started_at.isoformat()} to {first.ended_at.isoformat()})."
        ]
    }
    second.refresh_from_db()
    assert second.started_at == T0 + timedelta(hours=2)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "UTC", "Etc/GMT+12"])
def test_the_first_instant_allowed_is_in_2000_w01_in_every_zone(world, zone):
    # Sat 1 Jan 2000 is in ISO week 1999-W52, which Fairhour does not hold (periods 2000-2999)
    worker = WorkerFactory(time_zone=zone)
    project = ProjectFactory(workers=[worker])
    contractor = worker.user
    with pytest.raises(InvalidInput, match="on or after 2000-01-04"):
        session_create(
            actor=contractor, worker=worker, project=project,
            started_at=datetime(2000, 1, 1, 12, tzinfo=UTC), ended_at=datetime(2000, 1, 1, 13, tzinfo=UTC),
        )  # fmt: skip
    session = session_create(
        actor=contractor, worker=worker, project=project,
        started_at=EARLIEST_INSTANT, ended_at=EARLIEST_INSTANT + timedelta(hours=1),
    )  # fmt: skip
    assert session.period == "2000-W01"
