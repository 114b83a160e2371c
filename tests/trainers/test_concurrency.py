"""Two writers at the same instant: exactly one overlapping session lands (PostgreSQL)."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from core.errors import InvalidInput
from tests.factories import ProjectFactory, WorkerFactory
from trainers.models import LabellingSession, SessionSource
from trainers.services.sessions import session_create

ROUNDS = 50
T0 = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


def race(*actions: Callable[[], object]) -> list[object]:
    """Run the actions in threads released at the same instant; return results or errors."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(index: int, action: Callable[[], object]) -> None:
        try:
            barrier.wait()
            outcomes[index] = action()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_overlapping_inserts_through_the_service_one_lands_each_round():
    # given
    worker = WorkerFactory()
    project = ProjectFactory(workers=[worker])
    for round_number in range(ROUNDS):
        start = T0 - timedelta(days=round_number)

        def insert(offset_minutes: int, start: datetime = start) -> object:
            return session_create(
                actor=worker.user,
                worker=worker,
                project=project,
                started_at=start + timedelta(minutes=offset_minutes),
                ended_at=start + timedelta(minutes=offset_minutes + 60),
            )

        # when two overlapping sessions are written at the same instant
        outcomes = race(lambda: insert(0), lambda: insert(30))
        # then exactly one lands and the other is a clear 400-style refusal
        landed = [o for o in outcomes if isinstance(o, LabellingSession)]
        refused = [o for o in outcomes if isinstance(o, InvalidInput)]
        assert (len(landed), len(refused)) == (1, 1), outcomes
        assert "started_at" in refused[0].errors
    assert LabellingSession.objects.filter(worker=worker).count() == ROUNDS


@pytest.mark.django_db(transaction=True)
def test_the_exclusion_constraint_alone_stops_a_raced_overlap():
    """Bypass the service (no row lock, no check): the database is the backstop.

    Two uncommitted overlapping inserts each wait for the other's transaction, so
    PostgreSQL refuses one either as an exclusion violation or as a detected deadlock;
    either way exactly one lands. (The services lock the worker row first, so they see
    neither: the loser waits and then gets the clear overlap message.)
    """
    # given
    worker = WorkerFactory()
    project = ProjectFactory(workers=[worker])
    for round_number in range(ROUNDS):
        start = T0 - timedelta(days=round_number)

        def raw_insert(offset_minutes: int, start: datetime = start) -> object:
            with transaction.atomic():
                return LabellingSession.objects.create(
                    worker=worker,
                    project=project,
                    source=SessionSource.MANUAL,
                    started_at=start + timedelta(minutes=offset_minutes),
                    ended_at=start + timedelta(minutes=offset_minutes + 60),
                )

        # when
        outcomes = race(lambda: raw_insert(0), lambda: raw_insert(59))
        # then
        landed = [o for o in outcomes if isinstance(o, LabellingSession)]
        refused = [o for o in outcomes if isinstance(o, IntegrityError | OperationalError)]
        assert (len(landed), len(refused)) == (1, 1), outcomes
        assert "session_no_overlap" in str(refused[0]) or "deadlock detected" in str(refused[0])
    assert LabellingSession.objects.filter(worker=worker).count() == ROUNDS


@pytest.mark.django_db
def test_exclusion_constraint_allows_touching_and_treats_running_as_open_ended():
    # given
    worker = WorkerFactory()
    project = ProjectFactory(workers=[worker])
    make = LabellingSession.objects.create
    make(worker=worker, project=project, source="manual", started_at=T0, ended_at=T0 + timedelta(hours=1))
    # when touching: fine
    make(
        worker=worker,
        project=project,
        source="manual",
        started_at=T0 + timedelta(hours=1),
        ended_at=T0 + timedelta(hours=2),
    )
    make(worker=worker, project=project, source="timer", started_at=T0 + timedelta(hours=3), ended_at=None)
    # then anything after a running session's start overlaps it
    with pytest.raises(IntegrityError, match="session_no_overlap"), transaction.atomic():
        make(
            worker=worker,
            project=project,
            source="manual",
            started_at=T0 + timedelta(days=2),
            ended_at=T0 + timedelta(days=2, hours=1),
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "constraint"),
    [
        (T0.replace(microsecond=500), T0 + timedelta(hours=1), "session_whole_seconds"),
        (T0, T0 + timedelta(hours=24, seconds=1), "session_length_ceiling"),
    ],
)
def test_postgres_checks_whole_seconds_and_length_ceiling(start, end, constraint):
    worker = WorkerFactory()
    project = ProjectFactory(workers=[worker])
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        LabellingSession.objects.create(
            worker=worker, project=project, source="manual", started_at=start, ended_at=end
        )
