"""What every benchmark scenario shares: a scratch database, timings, peak memory, COPY."""

import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import connection


@dataclass
class Timing:
    label: str
    seconds: float
    rows: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


def timed(label: str, rows: int, action: Callable[[], object]) -> Timing:
    """Run `action` and return how long it took."""
    started = time.perf_counter()
    action()
    return Timing(label, time.perf_counter() - started, rows)


def peak_memory_mb() -> float:
    """The process's peak resident memory so far (ru_maxrss, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_scratch_database(scenario: Callable[[], None]) -> None:
    """Create `<name>_benchmark` beside the configured database, run the scenario, drop it.

    The configured database is never touched.
    """
    test_settings = connection.settings_dict.setdefault("TEST", {})
    old_name, old_test_name = connection.settings_dict["NAME"], test_settings.get("NAME")
    test_settings["NAME"] = f"{old_name}_benchmark"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        scenario()
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        test_settings["NAME"] = old_test_name


# CPU time from /proc: steadier than wall time on a shared machine -------------------------


def _proc_stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name; empty if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text.rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (0 if it is gone or not on this machine)."""
    fields = _proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def child_pids(parent: int) -> list[int]:
    """Pids of a process's children (a prefork Celery worker's pool, gunicorn's workers)."""
    if not Path("/proc").is_dir():
        return []
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and (fields := _proc_stat(int(entry.name))) and int(fields[1]) == parent
    ]


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children."""
    return sum(process_cpu_seconds(each) for each in [pid, *child_pids(pid)])


def database_cpu_seconds() -> float:
    """CPU seconds used so far by the whole PostgreSQL server (0 where it is not on this machine).

    The postmaster's own, its live children's (backends, writers, autovacuum) and those of
    the children that have exited (Celery closes its connection after every task, so a
    chunk's backend is gone by the time it is read). Every database on the server counts:
    on a shared machine, other work shows here too.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    fields = _proc_stat(backend)
    if not fields:
        return 0.0
    postmaster = int(fields[1])
    server = _proc_stat(postmaster)
    exited = (int(server[13]) + int(server[14])) / os.sysconf("SC_CLK_TCK") if server else 0.0
    return process_tree_cpu_seconds(postmaster) + exited
