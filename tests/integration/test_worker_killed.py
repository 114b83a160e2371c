"""A real Celery worker killed (SIGKILL, its whole process group) part-way through a job.

Thousands of workers are closed and invoiced by a real prefork worker on Redis; at a kill
point the worker and its children die at once, holding unacknowledged chunks (and maybe
the invoice counter's row lock). Restarted, the worker must finish the job from what the
broker redelivers: every approved timesheet invoiced exactly once, numbers contiguous,
money to the cent. A short visibility timeout makes Redis redeliver within seconds.
And a chunk that kills its own worker process every time must fail its job at the
attempts cap instead of being redelivered forever (celery #9082).
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

import pytest
import redis
from celery import Celery
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from payroll import tasks
from payroll.models import (
    Invoice,
    Job,
    JobChunk,
    JobStatus,
    Rate,
    Timesheet,
    TimesheetEvent,
    TimesheetStatus,
)
from payroll.services.jobs import job_start
from payroll.services.timesheets import timesheet_transition
from trainers.models import Project, Role, Team, User, Worker
from trainers.services.session_bulk_write import write_sessions

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-W45"
# 1,000 workers keep the three cases near 90 s on a 2-core machine; set
# KILL_TEST_WORKERS=3000 for the full-size run.
WORKERS = int(os.environ.get("KILL_TEST_WORKERS", "1000"))
CHUNK_SIZE = 50  # 20 chunks per job of 1,000, each well under a second on an idle machine
# The worker's hard limit and Redis's visibility timeout: a delivery held by the killed
# worker comes back VISIBILITY seconds after it was taken. The limit leaves a chunk three
# times what it takes on a busy machine; the timeout must exceed it (the settings refuse less).
TIME_LIMIT, VISIBILITY = 11, 12
JOB_TIMEOUT = 30 + WORKERS // 15  # seconds a job may take, redeliveries included (busy machine)
ZONES = ("America/Chicago", "Europe/Berlin", "Asia/Kolkata")


# The broker, the worker and the producer ---------------------------------------------


def dedicated_redis_url() -> str:
    """A Redis database of its own (INTEGRATION_REDIS_URL, else db 5 of REDIS_URL's server)."""
    if os.environ.get("INTEGRATION_REDIS_URL"):
        return os.environ["INTEGRATION_REDIS_URL"]
    server = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    taken = server.path.strip("/") or "0"
    return f"{server.scheme}://{server.netloc}/{6 if taken == '5' else 5}"


def database_url() -> str:
    """The test database (pytest-django's test_<name>) as a URL for the worker process."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{quote(db['USER'])}{password}@{host}/{db['NAME']}"


class CeleryWorker:
    """`celery -A config worker --pool=prefork -c 2` in its own process group."""

    def __init__(self, env: dict[str, str], log_path: Path, app: str = "config") -> None:
        self.env, self.log_path, self.app = env, log_path, app
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        command = [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            self.app,
            "worker",
            "--pool=prefork",
            "-c",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            "-n",
            f"killed{self.starts}-{os.getpid()}@%h",
        ]
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(  # noqa: S603 - fixed command
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3_000:] if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the main process and its pool children at once: nothing is acknowledged."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def broker_url() -> str:
    """The dedicated Redis database, flushed; skip with the reason when there is none."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL (CI does)")
    url = dedicated_redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"needs a reachable Redis at {url}: {error}")
    return url


def worker_env(broker_url: str, **extra: str) -> dict[str, str]:
    """The worker's environment: production settings on the test database and broker."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "integration-test-only-secret-key",
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker_url,
        "JOB_CHUNK_SIZE": str(CHUNK_SIZE),
        "CELERY_TASK_TIME_LIMIT": str(TIME_LIMIT),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@pytest.fixture
def start_worker(broker_url, transactional_db, tmp_path, request) -> Callable[..., CeleryWorker]:
    """Start a worker of a Celery app on the test database and broker; killed at the end."""

    def start(app: str, **extra_env: str) -> CeleryWorker:
        celery_worker = CeleryWorker(worker_env(broker_url, **extra_env), tmp_path / "worker.log", app)
        request.addfinalizer(celery_worker.kill)  # whatever happens, no worker outlives the test
        celery_worker.start()
        return celery_worker

    return start


@pytest.fixture
def worker(start_worker) -> CeleryWorker:
    """A running worker of Fairhour's Celery app."""
    return start_worker("config")


@pytest.fixture
def send_to_broker(broker_url, monkeypatch) -> Iterator[None]:
    """Make job_start's dispatch go to the dedicated broker (the suite's Celery runs inline)."""
    producer = Celery("fairhour-integration", broker=broker_url, set_as_current=False)
    for task in (tasks.close_period, tasks.issue_invoices):
        monkeypatch.setattr(task, "delay", lambda job_id, name=task.name: producer.send_task(name, [job_id]))
    yield
    producer.close()


# The data -----------------------------------------------------------------------------


def make_workers(count: int) -> User:
    """`count` contractors in one team with a rate and one W45 session each; returns the manager."""
    manager = User.objects.create(username="manager", role=Role.MANAGER)
    team = Team.objects.create(name="Killed team")
    team.managers.add(manager)
    users = User.objects.bulk_create(
        User(username=f"trainer{i}", role=Role.CONTRACTOR, password="!") for i in range(count)
    )
    workers = Worker.objects.bulk_create(
        Worker(
            user=user,
            full_name=f"Trainer {i}",
            email=f"trainer{i}@example.com",
            time_zone=ZONES[i % len(ZONES)],
            team=team,
        )
        for i, user in enumerate(users)
    )
    project = Project.objects.create(name="Answer ranking", client="Acme AI")
    project.workers.add(*workers)
    Rate.objects.bulk_create(  # rates with four decimals, so rounding matters on every line
        Rate(
            worker=worker,
            hourly_rate=Decimal("12.0000") + Decimal(i % 997) / 1000,
            currency="USD",
            effective_from=date(2026, 1, 1),
        )
        for i, worker in enumerate(workers)
    )
    start = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)  # Wednesday of W45 in every zone used
    write_sessions(
        manager,
        [
            SimpleNamespace(
                worker=worker,
                project=project,
                started_at=start,
                ended_at=start + timedelta(seconds=3_600 + (i * 37) % 7_200),
                task_count=1,
                notes="",
            )
            for i, worker in enumerate(workers)
        ],
    )
    return manager


def approve_all(manager: User) -> None:
    """Submit and approve every W45 timesheet: a few through the services, the rest in bulk.

    The bulk path writes what the services write: the status, the submit and decision
    fields and one event per step; the lines and total are already stored by the close.
    """
    timesheets = Timesheet.objects.filter(period=PERIOD).select_related("worker__user").order_by("pk")
    for timesheet in timesheets[:5]:
        timesheet_transition(actor=timesheet.worker.user, timesheet=timesheet, action="submit")
        timesheet_transition(actor=manager, timesheet=timesheet, action="approve")
    rest = Timesheet.objects.filter(period=PERIOD, status=TimesheetStatus.OPEN)
    now = timezone.now()
    events = []
    for pk, contractor in rest.values_list("pk", "worker__user_id"):
        events.append(
            TimesheetEvent(
                timesheet_id=pk, from_status="open", to_status="submitted", actor_id=contractor, at=now
            )
        )
        events.append(
            TimesheetEvent(
                timesheet_id=pk, from_status="submitted", to_status="approved", actor=manager, at=now
            )
        )
    TimesheetEvent.objects.bulk_create(events)
    rest.update(
        status=TimesheetStatus.APPROVED,
        submitted_at=now,
        decided_at=now,
        decided_by=manager,
        decision_note="",
    )


# Waiting ------------------------------------------------------------------------------


def wait_for(what: str, done: Callable[[], bool], worker: CeleryWorker, timeout: float) -> None:
    """Poll `done` until true; fail with what was awaited and the worker's log."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(
                f"Gave up after {timeout} s waiting for {what}.\nWorker log (end):\n{worker.log_tail()}"
            )
        time.sleep(0.05)


def job_finished(job_id: int) -> Callable[[], bool]:
    def check() -> bool:
        job = Job.objects.get(pk=job_id)
        if job.status == JobStatus.FAILED:
            pytest.fail(f"Job {job_id} ({job.kind}) failed: {job.error}")
        return job.status == JobStatus.DONE

    return check


def run_job(kind: str, worker: CeleryWorker, kill_when: Callable[[], bool] | None, label: str) -> Job:
    """Start a job; at the kill point SIGKILL the worker and start a new one; wait until done."""
    job, created = job_start(kind=kind, params={"period": PERIOD}, actor=None)
    assert created
    if kill_when is not None:
        kill_while_held(job.pk, kill_when, worker, label)
        worker.start()
    wait_for(f"job {job.pk} ({kind}) to finish", job_finished(job.pk), worker, JOB_TIMEOUT)
    return Job.objects.get(pk=job.pk)


def kill_while_held(job_id: int, kill_when: Callable[[], bool], worker: CeleryWorker, label: str) -> None:
    """Kill the worker at the kill point, checked while holding the job's row.

    A chunk counts itself done on that row in its own transaction, so while the row is held
    no chunk can commit: the job cannot finish between seeing the kill point and the kill,
    however fast the last chunks are (invoicing chunks no longer queue behind the counter).
    """
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        with transaction.atomic():
            Job.objects.select_for_update().get(pk=job_id)
            if kill_when():
                worker.kill()
                assert Job.objects.get(pk=job_id).status == JobStatus.RUNNING, (
                    "killed too late to prove anything"
                )
                return
        if time.monotonic() > deadline:
            pytest.fail(f"Gave up after {JOB_TIMEOUT} s waiting for the kill point ({label}).")
        time.sleep(0.005)


# The kill points: (phase, what is counted, how many) ------------------------------------


def close_chunks_done(at_least: int) -> Callable[[], bool]:
    return lambda: (
        JobChunk.objects.filter(job__kind="close_period", done_at__isnull=False).count() >= at_least
    )


def invoices_issued(at_least: int) -> Callable[[], bool]:
    return lambda: Invoice.objects.count() >= at_least


KILL_POINTS = {
    "close-early": ("close_period", lambda: close_chunks_done(3)),
    "invoicing-middle": ("issue_invoices", lambda: invoices_issued(WORKERS // 2)),
    "invoicing-late": ("issue_invoices", lambda: invoices_issued(WORKERS * 9 // 10)),
}


@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_a_worker_killed_part_way_loses_nothing_and_invoices_nothing_twice(
    kill_point, worker, send_to_broker
):
    # given thousands of workers with time in W45, closed and approved
    phase, kill_when = KILL_POINTS[kill_point]
    manager = make_workers(WORKERS)

    def kill_in(kind: str) -> Callable[[], bool] | None:
        return kill_when() if phase == kind else None

    close = run_job("close_period", worker, kill_in("close_period"), kill_point)
    assert (close.status, close.progress, close.total_chunks) == (
        JobStatus.DONE,
        100,
        -(-WORKERS // CHUNK_SIZE),
    )
    assert Timesheet.objects.filter(period=PERIOD).count() == WORKERS
    approve_all(manager)
    # when the invoicing runs (killed part-way in the invoicing cases)
    invoicing = run_job("issue_invoices", worker, kill_in("issue_invoices"), kill_point)
    # then the job is complete
    assert (invoicing.status, invoicing.progress) == (JobStatus.DONE, 100)
    assert invoicing.done_chunks == invoicing.total_chunks == -(-WORKERS // CHUNK_SIZE)
    # and its counts are exact: a killed chunk's work rolled back with its count
    assert invoicing.result == {"timesheets": WORKERS, "issued": WORKERS}
    # every approved timesheet was invoiced exactly once
    timesheets = Timesheet.objects.filter(period=PERIOD)
    assert timesheets.filter(status=TimesheetStatus.INVOICED).count() == WORKERS
    assert Invoice.objects.count() == WORKERS
    assert not Invoice.objects.values("timesheet").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert TimesheetEvent.objects.filter(to_status=TimesheetStatus.INVOICED).count() == WORKERS
    # numbered 1..N in each year, no gap, no duplicate
    for year in Invoice.objects.values_list("year", flat=True).distinct():
        sequences = sorted(Invoice.objects.filter(year=year).values_list("sequence", flat=True))
        assert sequences == list(range(1, len(sequences) + 1)), f"gaps or duplicates in {year}"
    # and the money is the timesheets' to the cent (no tax in this world)
    invoiced = Invoice.objects.aggregate(total=Sum("total"), subtotal=Sum("subtotal"))
    owed = timesheets.aggregate(total=Sum("total"))["total"]
    assert invoiced["total"] == invoiced["subtotal"] == owed
    assert owed > WORKERS * Decimal("12.00")
    assert worker.starts == 2  # the kill really happened and a second worker finished the job


def test_a_chunk_that_kills_its_worker_every_time_fails_its_job_after_the_cap(start_worker, send_to_broker):
    # given a worker whose close chunks SIGKILL their own pool process; Celery redelivers a
    # chunk whose process was lost (reject_on_worker_lost), which alone would loop forever.
    # A cap of 2 (not the default 5): each lost process costs Celery about 5 s here.
    worker = start_worker("tests.integration.poison_worker", JOB_CHUNK_MAX_ATTEMPTS="2")
    make_workers(3)
    # when the close runs
    job, _ = job_start(kind="close_period", params={"period": PERIOD}, actor=None)

    def failed() -> bool:
        return Job.objects.get(pk=job.pk).status == JobStatus.FAILED

    wait_for("the poisoned close to fail", failed, worker, JOB_TIMEOUT)
    # then it failed after two starts, with the reason, and the delivery past the cap ended it
    job.refresh_from_db()
    assert job.error.startswith("Chunk 0 was started 2 times without finishing"), job.error
    assert "JOB_CHUNK_MAX_ATTEMPTS is 2" in job.error
    time.sleep(1)  # nothing delivers it again
    assert JobChunk.objects.get(job=job).attempts == 3
    assert Timesheet.objects.count() == 0
    _, created = job_start(kind="close_period", params={"period": PERIOD}, actor=None)
    assert created  # the next close of the period may start
