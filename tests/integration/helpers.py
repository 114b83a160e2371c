"""What the integration tests share: a real Celery worker, its environment, the data, waiting.

The pytest fixtures built on these are in tests/integration/conftest.py.
"""

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import redis
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from core.db.connection import database_url
from payroll.models import Invoice, Job, JobStatus, Rate, Timesheet, TimesheetEvent, TimesheetStatus
from payroll.services.timesheet_transitions import timesheet_transition, timesheets_transition
from trainers.models import Project, Role, Team, User, Worker
from trainers.services.session_bulk_write import write_sessions

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-W45"
CHUNK_SIZE = 50  # 20 chunks per job of 1,000, each well under a second on an idle machine
# The worker's hard limit and Redis's visibility timeout, shorter than the defaults (30 min
# and 30 s) to keep the tests short: a delivery held by a killed worker comes back VISIBILITY
# seconds after its worker last renewed it. The limit leaves a chunk three times what it
# takes on a busy machine. Pass `timeouts={}` for the defaults.
TIME_LIMIT, VISIBILITY = 11, 12
SHORT_TIMEOUTS = {"CELERY_TASK_TIME_LIMIT": str(TIME_LIMIT), "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY)}
ZONES = ("America/Chicago", "Europe/Berlin", "Asia/Kolkata")


# The broker and the worker ------------------------------------------------------------


def redis_client(url: str) -> redis.Redis:
    """A redis-py client for a broker URL (kombu's `redis+socket://` included)."""
    if url.startswith("redis+socket://"):
        return redis.Redis(unix_socket_path=urlsplit(url).path)
    return redis.Redis.from_url(url)


def delete_keys_with_prefix(url: str, prefix: str) -> None:
    """Delete the keys a test wrote under its prefix, and nothing else."""
    client = redis_client(url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1_000))
    if keys:
        client.delete(*keys)


def chunks_held_for_redelivery(url: str, prefix: str) -> list[tuple[int, int]]:
    """(job id, index) of the chunk tasks handed to a worker and not acknowledged: Redis's copies.

    kombu keeps each copy in the `unacked` hash as [message, exchange, routing key].
    """
    copies = redis_client(url).hvals(f"{prefix}unacked")
    return sorted(_chunk_of(json.loads(copy)[0]) for copy in copies if _is_chunk(json.loads(copy)[0]))


def chunks_on_the_broker(url: str, prefix: str) -> list[tuple[int, int]]:
    """(job id, index) of the chunk tasks Redis has: queued (any priority) or handed out."""
    client = redis_client(url)
    queues = [key for key in client.scan_iter(match=f"{prefix}*") if client.type(key) == b"list"]
    queued = [json.loads(raw) for key in queues for raw in client.lrange(key, 0, -1)]
    return sorted([_chunk_of(m) for m in queued if _is_chunk(m)] + chunks_held_for_redelivery(url, prefix))


def _is_chunk(message: dict) -> bool:
    return str(message.get("headers", {}).get("task", "")).endswith("_chunk")


def _chunk_of(message: dict) -> tuple[int, int]:
    """A chunk task's (job id, index): its body is Celery's [args, kwargs, embed], base64-encoded."""
    job_id, index = json.loads(base64.b64decode(message["body"]))[0]
    return job_id, index


class CeleryWorker:
    """`celery -A config worker --pool=prefork -c 2` in its own process group."""

    def __init__(
        self, env: dict[str, str], log_path: Path, app: str = "config", name: str = "worker"
    ) -> None:
        self.env, self.log_path, self.app, self.name = env, log_path, app, name
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
            f"{self.name}{self.starts}-{os.getpid()}@%h",
        ]
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(  # noqa: S603 - fixed command
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log_tail(self, size: int | None = 3_000) -> str:
        """The end of the worker's log (`size` characters), or all of it (None)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text if size is None else text[-size:]

    def kill(self) -> None:
        """SIGKILL the main process and its pool children at once: nothing is acknowledged."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None


def worker_env(
    broker_url: str, key_prefix: str, timeouts: dict[str, str] = SHORT_TIMEOUTS, **extra: str
) -> dict[str, str]:
    """The worker's environment: production settings on the test database and the test's broker keys."""
    inherited = {name: value for name, value in os.environ.items() if name not in SHORT_TIMEOUTS}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "FAIRHOUR_ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "integration-test-only-secret-key",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": broker_url,
        "CELERY_BROKER_KEY_PREFIX": key_prefix,
        "JOB_CHUNK_SIZE": str(CHUNK_SIZE),
        "LOG_LEVEL": "WARNING",
        **timeouts,
        **extra,
    }


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
                activity="labelling",
            )
            for i, worker in enumerate(workers)
        ],
    )
    return manager


def approve_all(manager: User) -> None:
    """Submit and approve every W45 timesheet: a few one by one, the rest's approval at once.

    The rest's submits are written by hand (each has its own contractor, and the close
    stored their lines and totals): the status, the submit time and the event, as the
    service writes them. Their approval is the manager's one step for all of them.
    """
    timesheets = Timesheet.objects.filter(period=PERIOD).select_related("worker__user").order_by("pk")
    for timesheet in timesheets[:5]:
        timesheet_transition(actor=timesheet.worker.user, timesheet=timesheet, action="submit")
        timesheet_transition(actor=manager, timesheet=timesheet, action="approve")
    rest = Timesheet.objects.filter(period=PERIOD, status=TimesheetStatus.OPEN)
    now = timezone.now()
    submitted = list(rest.values_list("pk", "worker__user_id"))
    TimesheetEvent.objects.bulk_create(
        TimesheetEvent(
            timesheet_id=pk,
            sequence=1,
            from_status="open",
            to_status="submitted",
            actor_id=contractor,
            at=now,
        )
        for pk, contractor in submitted
    )
    rest.update(status=TimesheetStatus.SUBMITTED, submitted_at=now)
    timesheets_transition(actor=manager, timesheets=[pk for pk, _ in submitted], action="approve", now=now)


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


def assert_invoiced_exactly_once(count: int) -> None:
    """Every timesheet of PERIOD invoiced once, numbers 1..N per year, totals the timesheets' to the cent."""
    timesheets = Timesheet.objects.filter(period=PERIOD)
    assert timesheets.filter(status=TimesheetStatus.INVOICED).count() == count
    assert Invoice.objects.count() == count
    assert not Invoice.objects.values("timesheet").annotate(n=Count("pk")).filter(n__gt=1).exists()
    # numbered 1..N in each year, no gap, no duplicate
    for year in Invoice.objects.values_list("year", flat=True).distinct():
        sequences = sorted(Invoice.objects.filter(year=year).values_list("sequence", flat=True))
        assert sequences == list(range(1, len(sequences) + 1)), f"gaps or duplicates in {year}"
    # and the money is the timesheets' to the cent (no tax in this world)
    invoiced = Invoice.objects.aggregate(total=Sum("total"), subtotal=Sum("subtotal"))
    owed = timesheets.aggregate(total=Sum("total"))["total"]
    assert invoiced["total"] == invoiced["subtotal"] == owed
    assert owed > count * Decimal("12.00")
