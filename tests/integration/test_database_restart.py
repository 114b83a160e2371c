"""A real Celery worker keeps working across a PostgreSQL restart (celery #2996).

The shared PostgreSQL server is never restarted: other databases live on it. Instead the
test database goes down for everyone connected to it, as a restart looks from a client:
from the `postgres` maintenance database, new connections to it are refused
(`ALLOW_CONNECTIONS false`), and every backend on it is terminated (`pg_terminate_backend`,
the same SIGTERM and "terminating connection due to administrator command" that a fast
shutdown sends), the test's own included. A few seconds later connections are allowed again.

The same prefork worker process, never restarted, must run the next job after the database
comes back while it was idle; and a close and an invoicing cut off in the middle of a
chunk must finish by themselves, exactly: every timesheet and invoice once, numbers
contiguous, money to the cent. The test's own connection is replaced as at the start of a
request (CONN_HEALTH_CHECKS).

An idle worker holds no connection to cut: Celery's Django fixup closes them before and
after every task (CONN_MAX_AGE does not apply in workers), so each task connects afresh.
A task the restart cuts off retries (OperationalError) after 1, 2, 4, 8 and 16 s; with
Celery's default full jitter those waits could all be near 0 s, a chunk spent its retries
within a 5 s restart, and its job hung until the stalled-job sweep (this test failed about
one run in three before `retry_jitter` was turned off).
"""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import psycopg
import pytest
from django.db import close_old_connections, connection, transaction
from psycopg import sql

from payroll.models import Job, JobChunk, JobStatus, Timesheet
from payroll.services.jobs import job_start
from tests.integration.helpers import (
    PERIOD,
    CeleryWorker,
    approve_all,
    assert_invoiced_exactly_once,
    job_finished,
    make_workers,
    wait_for,
)
from trainers.models import LabellingSession, Project, User, Worker
from trainers.services.session_bulk_write import write_sessions

pytestmark = [pytest.mark.integration, pytest.mark.slow]

IDLE_WORKERS = 40  # the idle case is about reconnecting, not volume
CUT_WORKERS = 200  # the cut case: ten chunks of 20, so jobs are cut with chunks done and to do
CUT_CHUNK_SIZE = 20
DOWN_FOR = 5  # seconds the database refuses connections: a quick restart
JOB_TIMEOUT = 40  # seconds a job may take after the database is back (busy machine included)


class DatabaseOutage:
    """Take the test database down and up for its clients, from the maintenance database."""

    def __init__(self) -> None:
        db = connection.settings_dict
        self.name = db["NAME"]
        assert self.name.startswith("test_"), "only ever a test database goes down"
        self.params = {
            "host": db["HOST"] or "127.0.0.1",
            "port": db["PORT"] or 5432,
            "user": db["USER"],
            "password": db["PASSWORD"] or None,
            "connect_timeout": 5,
        }

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(dbname="postgres", autocommit=True, **self.params)

    def _allow_connections(self, allowed: bool) -> None:
        with self._admin() as admin:
            admin.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
                    sql.Identifier(self.name), sql.Literal(allowed)
                )
            )

    def go_down(self, keep: int | None = None) -> list[int]:
        """Refuse new connections, terminate every backend but `keep`; return the pids ended."""
        self._allow_connections(False)
        with self._admin() as admin:
            # The CTE is materialized first: a plain WHERE may call pg_terminate_backend on
            # rows of every database before it filters on the name.
            rows = admin.execute(
                "WITH doomed AS MATERIALIZED ("
                " SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s"
                ") SELECT pid FROM doomed WHERE pg_terminate_backend(pid, 5000)",  # waits until gone
                [self.name, keep or 0],
            ).fetchall()
        return [pid for (pid,) in rows]

    def refuses_connections(self) -> bool:
        try:
            psycopg.connect(dbname=self.name, **self.params).close()
        except psycopg.OperationalError as error:
            return "not currently accepting connections" in str(error)
        return False

    def come_back(self) -> None:
        self._allow_connections(True)


@pytest.fixture
def outage(transactional_db) -> Iterator[DatabaseOutage]:
    """The test database's outage switch; connections are always allowed again at the end."""
    switch = DatabaseOutage()
    yield switch
    switch.come_back()
    close_old_connections()


def restart_idle(outage: DatabaseOutage) -> None:
    """Take the database down a few seconds, every connection cut, and bring it back."""
    outage.go_down()
    stay_down_and_come_back(outage)


def restart_mid_chunk(outage: DatabaseOutage, job_id: int, worker: CeleryWorker) -> list[int]:
    """Restart the database once a chunk of the job is done and another is mid-transaction.

    The test holds the job's row lock meanwhile: every chunk's transaction updates that row
    (on starting and on finishing), so a chunk waiting on it is in the middle of its
    transaction, and no chunk can finish before the cut. The test's own connection goes
    down right after it lets go of the lock.
    """
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        with transaction.atomic():
            Job.objects.select_for_update().get(pk=job_id)
            if JobChunk.objects.filter(job_id=job_id, done_at__isnull=False).exists():
                assert Job.objects.get(pk=job_id).status == JobStatus.RUNNING, "too late to cut a chunk"
                wait_for("a chunk to wait on the job's row", chunk_waiting_on_a_lock, worker, JOB_TIMEOUT)
                ended = outage.go_down(keep=connection.connection.info.backend_pid)
                break
        if time.monotonic() > deadline:
            pytest.fail(f"no chunk of job {job_id} finished.\nWorker log (end):\n{worker.log_tail()}")
        time.sleep(0.005)
    outage.go_down()  # the test's own connection too
    stay_down_and_come_back(outage)
    return ended


def chunk_waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        # Asked inside the transaction that holds the lock, and PostgreSQL keeps one snapshot
        # of pg_stat_activity per transaction: without clearing it, a chunk that began to
        # wait after the first look was never seen (a CI failure).
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def stay_down_and_come_back(outage: DatabaseOutage) -> None:
    assert outage.refuses_connections()
    time.sleep(DOWN_FOR)
    outage.come_back()
    reconnect_as_a_request_does()


def reconnect_as_a_request_does() -> None:
    """The test's own connection was cut: Django replaces it when a request starts."""
    assert not connection.is_usable()
    close_old_connections()  # a health check on the next query finds it dead and reconnects
    assert Job.objects.exists()  # no error: a new connection
    assert connection.is_usable()


def assert_same_process(worker: CeleryWorker, pid: int) -> None:
    assert worker.process is not None and worker.process.poll() is None, (
        f"the worker exited.\nWorker log (end):\n{worker.log_tail()}"
    )
    assert (worker.process.pid, worker.starts) == (pid, 1), "the worker was restarted"


def add_a_thursday_session_each() -> None:
    """One more hour in W45 for every worker, so the next close has something to change."""
    start = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)  # Thursday of W45 in every zone used
    project = Project.objects.get()
    write_sessions(
        User.objects.get(username="manager"),
        [
            SimpleNamespace(
                worker=worker,
                project=project,
                started_at=start,
                ended_at=start + timedelta(hours=1),
                task_count=1,
                notes="",
                activity="labelling",
            )
            for worker in Worker.objects.all()
        ],
    )


def test_the_same_worker_runs_the_next_job_after_the_database_restarts_while_it_is_idle(
    outage, worker, send_to_broker
):
    # given a worker that has consumed: a close run to completion, then idle
    pid = worker.process.pid
    make_workers(IDLE_WORKERS)
    first, _ = job_start(kind="close_period", params={"period": PERIOD}, actor=None)
    wait_for(f"close {first.pk} to finish", job_finished(first.pk), worker, JOB_TIMEOUT)
    # when the database restarts
    restart_idle(outage)
    # then the same worker runs the next close, which has an hour more for everyone
    add_a_thursday_session_each()
    second, created = job_start(kind="close_period", params={"period": PERIOD}, actor=None)
    assert created
    wait_for(f"close {second.pk} after the restart", job_finished(second.pk), worker, JOB_TIMEOUT)
    second.refresh_from_db()
    assert second.result == {"timesheets": IDLE_WORKERS, "changed": IDLE_WORKERS}
    assert Timesheet.objects.filter(period=PERIOD).count() == IDLE_WORKERS
    assert LabellingSession.objects.count() == 2 * IDLE_WORKERS
    assert_same_process(worker, pid)


def run_cut_job(kind: str, outage: DatabaseOutage, worker: CeleryWorker) -> tuple[Job, list[int]]:
    """Start a job, restart the database in the middle of a chunk, wait until the job is done."""
    job, created = job_start(kind=kind, params={"period": PERIOD}, actor=None)
    assert created
    ended = restart_mid_chunk(outage, job.pk, worker)
    wait_for(f"{kind} {job.pk} to finish after the restart", job_finished(job.pk), worker, JOB_TIMEOUT)
    return Job.objects.get(pk=job.pk), ended


def test_a_close_and_an_invoicing_cut_off_mid_chunk_finish_exactly(outage, start_worker, send_to_broker):
    # given a worker with small chunks, and workers with time in W45
    worker = start_worker("config", JOB_CHUNK_SIZE=str(CUT_CHUNK_SIZE))
    pid = worker.process.pid
    manager = make_workers(CUT_WORKERS)
    chunks = CUT_WORKERS // CUT_CHUNK_SIZE
    # when the database restarts in the middle of a close chunk
    close, ended = run_cut_job("close_period", outage, worker)
    # then a chunk was cut off, and the close finished by itself, every timesheet once
    assert ended, "no worker backend was terminated"
    assert (close.status, close.done_chunks, close.total_chunks) == (JobStatus.DONE, chunks, chunks)
    assert close.result == {"timesheets": CUT_WORKERS, "changed": CUT_WORKERS}
    assert Timesheet.objects.filter(period=PERIOD).count() == CUT_WORKERS
    # when the database restarts in the middle of an invoicing chunk
    approve_all(manager)
    invoicing, ended = run_cut_job("issue_invoices", outage, worker)
    # then the invoicing finished by itself: every timesheet invoiced once
    assert ended, "no worker backend was terminated"
    assert (invoicing.status, invoicing.done_chunks) == (JobStatus.DONE, chunks)
    assert invoicing.result == {"timesheets": CUT_WORKERS, "issued": CUT_WORKERS}
    assert_invoiced_exactly_once(CUT_WORKERS)  # numbered without gaps, to the cent
    assert_same_process(worker, pid)
