"""The logging scenario: POST /api/v1/sessions/ under concurrent load, against a bare insert.

A real server (gunicorn, several worker processes with threads) on the scratch
PostgreSQL database serves both endpoints in the same run: Fairhour's manual session
create (token auth, role check, serializer validation, the worker row lock, the rules,
the overlap and period-lock checks, the insert and its history row) and a
benchmark-only view doing one plain INSERT (benchmarks.bare_insert). `--clients`
threads (8) each log their own contractor's sessions over keep-alive connections, first
against the bare endpoint, then against the real one. Prints requests per second,
p50/p99 latency and the throughput ratio.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import TextIOBase
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

from benchmarks.close_and_invoice import scratch_database_url
from benchmarks.common import process_cpu_seconds, process_tree_cpu_seconds
from trainers.models import Project, Role, User, Worker
from trainers.services import tokens

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 8
SERVER_WORKERS = os.cpu_count() or 2  # docs/deployment.md: a process per core,
SERVER_THREADS = 2  # two threads each (more threads only queue on the GIL)
WARM_UP = 20  # requests per client before measuring (connections, caches); fewer for tiny runs
FIRST_SESSION = datetime(2026, 1, 5, tzinfo=UTC)
STRIDE = timedelta(minutes=35)  # 30-minute sessions, 5 minutes apart: never overlapping
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0


@dataclass
class Load:
    """What one endpoint did under load: latencies (seconds), failures, wall time."""

    label: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of gunicorn / PostgreSQL

    def cpu_ms(self, side: str) -> float:
        """CPU milliseconds per request on one side of the server (0 if unknown)."""
        return 1000 * self.cpu.get(side, 0.0) / len(self.latencies) if self.latencies else 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


@dataclass(frozen=True)
class Client:
    """One client thread's identity: its worker, project and token (None for the bare endpoint)."""

    worker: int
    project: int
    token: str | None
    slot: int  # which block of session times it uses


def run(
    out: TextIOBase,
    requests: int,
    clients: int,
    server_workers: int = SERVER_WORKERS,
    server_threads: int = SERVER_THREADS,
) -> None:
    """Serve both endpoints with gunicorn, load each from `clients` threads, print the figures."""
    if requests < clients or clients < 1:
        raise CommandError("--requests must be at least --clients, and --clients at least 1.")
    per_client = requests // clients
    real_clients = _clients("real", clients, with_tokens=True)
    bare_clients = _clients("bare", clients, with_tokens=False)
    port = _free_port()
    out.write(
        f"logging: {per_client * clients} requests per endpoint from {clients} clients; gunicorn "
        f"{server_workers} workers x {server_threads} threads on 127.0.0.1:{port}\n"
    )
    with _server(port, server_workers, server_threads) as server:
        bare = _load(port, "bare INSERT (floor)", bare_clients, per_client, "/bench/insert/", server)
        real = _load(port, "POST /api/v1/sessions/", real_clients, per_client, "/api/v1/sessions/", server)
    for load in (real, bare):
        if load.failures:
            raise CommandError(f"{load.label}: {len(load.failures)} failed, e.g. {load.failures[0]}")
        out.write(
            f"  {load.label:<24} {load.per_second:8.0f} requests/s  p50 {load.percentile_ms(0.5):6.1f} ms  "
            f"p99 {load.percentile_ms(0.99):6.1f} ms  ({len(load.latencies)} in {load.seconds:.2f} s)\n"
        )
    for load in (real, bare):
        if load.cpu:
            out.write(
                f"  {load.label:<24} CPU per request: gunicorn {load.cpu_ms('gunicorn'):5.2f} ms + "
                f"PostgreSQL {load.cpu_ms('postgresql'):5.2f} ms\n"
            )
    ratio = real.per_second / bare.per_second
    out.write(f"  ratio logging/bare       {ratio:8.2f}x  (target >= {TARGET_RATIO}x)\n")
    p99 = real.percentile_ms(0.99)
    out.write(f"  logging p99              {p99:8.1f} ms (target < {TARGET_P99_MS:.0f} ms)\n")


def _clients(name: str, count: int, *, with_tokens: bool) -> list[Client]:
    """`count` contractors on one project, each with a token if the endpoint needs one."""
    project = Project.objects.create(name=f"Logging {name}", client="Benchmark")
    made = []
    for number in range(count):
        user = User.objects.create(username=f"{name}-{number}", role=Role.CONTRACTOR)
        worker = Worker.objects.create(
            user=user, full_name=f"{name} {number}", email=f"{name}{number}@example.com", time_zone="UTC"
        )
        project.workers.add(worker)
        token = tokens.token_issue(user)[1] if with_tokens else None
        made.append(Client(worker.pk, project.pk, token, number))
    return made


def _load(
    port: int, label: str, clients: list[Client], per_client: int, path: str, server: "_server"
) -> Load:
    """Warm up, then run every client thread at once; collect latencies, failures, server CPU."""
    load = Load(label)
    warm_up = warm_up_requests(per_client)
    for client in clients:  # warm-up: connections and caches, not measured
        _requests(port, path, client, range(warm_up), Load("warm-up"))
    barrier = threading.Barrier(len(clients) + 1)
    lock = threading.Lock()

    def work(client: Client) -> None:
        mine = Load(label)
        barrier.wait()
        _requests(port, path, client, range(warm_up, warm_up + per_client), mine)
        with lock:
            load.latencies += mine.latencies
            load.failures += mine.failures

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    cpu_before = server.cpu_seconds()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    load.seconds = time.perf_counter() - started
    load.cpu = {side: used - cpu_before.get(side, 0.0) for side, used in server.cpu_seconds().items()}
    return load


def warm_up_requests(per_client: int) -> int:
    """Unmeasured requests per client first: WARM_UP, or a quarter of a tiny run."""
    return max(1, min(WARM_UP, per_client // 4))


def _requests(port: int, path: str, client: Client, numbers: range, load: Load) -> None:
    """POST one session per number over one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if client.token:
        headers["Authorization"] = f"Token {client.token}"
    try:
        for number in numbers:
            body = json.dumps(_session(client, number))
            started = time.perf_counter()
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - started
            if response.status != 201:
                load.failures.append(f"{response.status} {answer[:200]!r}")
            else:
                load.latencies.append(elapsed)
    finally:
        connection.close()


def _session(client: Client, number: int) -> dict[str, object]:
    start = FIRST_SESSION + STRIDE * number
    return {
        "worker": client.worker,  # read by the bare endpoint; the real one takes the caller's
        "project": client.project,
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=30)).isoformat(),
        "task_count": number % 50,
        "notes": f"batch {number}",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _server:  # a context manager: gunicorn on the scratch database while the load runs
    def __init__(self, port: int, workers: int, threads: int) -> None:
        self.port, self.workers, self.threads = port, workers, threads
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "_server":
        env = os.environ | {
            "DATABASE_URL": scratch_database_url(),
            "DJANGO_SETTINGS_MODULE": "benchmarks.server_settings",
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--threads", str(self.threads), "--worker-class", "gthread",
            "--no-control-socket", "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our own interpreter
        self._wait_until_serving()
        return self

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by gunicorn's processes and by the scratch database's backends.

        Independent of what else runs on the machine, unlike requests per second. Read from
        /proc: empty where there is none, PostgreSQL only if it runs on this machine.
        """
        if self.process is None or not Path("/proc").is_dir():
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            backends = [pid for (pid,) in cursor.fetchall()]
        return {
            "gunicorn": process_tree_cpu_seconds(self.process.pid),
            "postgresql": sum(process_cpu_seconds(pid) for pid in backends),
        }

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process is not None  # noqa: S101 - started just before
            if self.process.poll() is not None:
                raise CommandError(f"gunicorn exited with {self.process.returncode}.")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/api/v1/me/")
                connection.getresponse().read()
                connection.close()
                return
            except OSError:
                time.sleep(0.2)
        raise CommandError("gunicorn did not start serving within 60 s.")

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
