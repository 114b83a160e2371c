"""The payroll scenario: the weekly close and invoicing, timed, against an SQL floor.

In the scratch database: a synthetic workforce bulk-loaded with COPY (untimed); then,
timed, the close job (`payroll.close_period` started through `job_start`, as the API and
beat start it). The sessions were loaded behind the services' back, so this close prices
and writes every week from scratch (and logs an error per chunk, rightly: no write priced
them). Timed again, the close as every week runs it since issue 14, on weeks that live
pricing has kept current: it prices them again, compares, and must change nothing (the
run fails if it does). Untimed, every timesheet submitted and approved in bulk SQL that leaves
what the services leave (status, submit and decision fields, one event per transition;
the lines and totals the close stored are the ones submit would store, and a sample is
re-priced to prove it); timed, the invoicing job (`payroll.issue_invoices`). The floor
(benchmarks.floor) is timed before the jobs and after them, and the faster run
counts (the same statement varies by a factor of two on a shared machine; the ratio errs
against the jobs); then every invoice is compared with the floor, to the cent, and the
run fails if one differs.

`mix` (`--pay-mix`): a third of the workers paid by the piece, most with a fair-pay floor,
with non-production activities (benchmarks.workforce_mix); the output says how many task,
activity and top-up lines the close stored, so a reader sees the mix was exercised.

Tasks run in this process (eager Celery) unless `--celery N` starts N worker processes on
the scratch database and the configured Redis.
"""

import logging
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from io import TextIOBase
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from benchmarks.common import (
    Timing,
    database_cpu_seconds,
    peak_memory_mb,
    process_tree_cpu_seconds,
    timed,
)
from benchmarks.floor import floor_compare, floor_run
from benchmarks.workforce import MONDAY, PERIOD, load_workforce
from benchmarks.workforce_mix import MixCounts
from config.celery_app import app
from core.db.connection import database_url
from payroll.models import Job, JobStatus, Timesheet, TimesheetStatus
from payroll.selectors.pricing import price_worker_period
from payroll.services.jobs import job_start, period_job_params
from trainers.models import Team, User

ROOT = Path(__file__).resolve().parents[1]
JOB_TIMEOUT = 3 * 60 * 60
WORKER_START_TIMEOUT = 120


@dataclass(frozen=True)
class CpuSeconds:
    """CPU seconds of the processes running the tasks and of the database's backends."""

    tasks: float
    database: float

    def __sub__(self, other: "CpuSeconds") -> "CpuSeconds":
        return CpuSeconds(self.tasks - other.tasks, self.database - other.database)


def run(
    out: TextIOBase, workers: int, sessions: int, seed: int, celery_workers: int, mix: bool = False
) -> None:
    """Load, close, approve, invoice, compute the floor, compare and print the figures."""
    if workers < 1 or sessions < workers:
        raise CommandError("--workers must be at least 1 and --sessions at least --workers.")
    out.write(
        f"payroll: {workers} workers, {sessions} sessions in {PERIOD}, seed {seed}, "
        f"pay mix {'on' if mix else 'off'}\n"
    )
    loaded_at = time.perf_counter()
    force = load_workforce(workers, sessions, seed, mix=mix)
    out.write(
        f"  load with COPY (untimed)       {time.perf_counter() - loaded_at:8.2f} s  "
        f"{force.sessions} sessions, {force.rates} rates\n"
    )
    if force.mix is not None:
        _report_mix_loaded(out, force.mix)
    assert force.finance is not None  # noqa: S101 - load_workforce always creates one
    floor_before = timed("SQL floor", force.sessions, lambda: floor_run(MONDAY))
    with celery_tasks(out, celery_workers) as celery:
        close_cpu = celery.cpu_seconds()
        close = timed(
            "close (payroll.close_period)", force.sessions, lambda: run_job("close_period", force.finance)
        )
        close_cpu = celery.cpu_seconds() - close_cpu
        timesheets = Timesheet.objects.filter(period=PERIOD).count()
        weekly_cpu = celery.cpu_seconds()
        weekly = timed(WEEKLY_CLOSE, force.sessions, lambda: run_job("close_period", force.finance))
        weekly_cpu = celery.cpu_seconds() - weekly_cpu
        check_nothing_corrected()
        if mix:
            _report_mix_closed(out)
        approved_at = time.perf_counter()
        submit_and_approve_in_bulk()
        check_sample(seed)
        out.write(f"  submit + approve (bulk SQL, untimed) {time.perf_counter() - approved_at:6.2f} s\n")
        invoicing_cpu = celery.cpu_seconds()
        invoicing = timed(
            "invoicing (payroll.issue_invoices)", timesheets, lambda: run_job("issue_invoices", force.finance)
        )
        invoicing_cpu = celery.cpu_seconds() - invoicing_cpu
    floor_after = timed("SQL floor", force.sessions, lambda: floor_run(MONDAY))
    floor = min(floor_before, floor_after, key=lambda timing: timing.seconds)
    out.write(
        f"  SQL floor, before the jobs / after   {floor_before.seconds:6.2f} s / {floor_after.seconds:.2f} s "
        "(the faster counts: the ratio errs against the jobs)\n"
    )
    _report(out, Closes(close, weekly), invoicing, floor, timesheets, celery_workers)
    _report_cpu(out, {"close": close_cpu, "weekly": weekly_cpu, "invoicing": invoicing_cpu}, timesheets)
    _compare(out, timesheets)


WEEKLY_CLOSE = "close again (the weekly safety net)"


def check_nothing_corrected() -> int:
    """How many weeks the last close corrected: none, as every week was already priced, or it fails."""
    corrected = int(Job.objects.filter(kind="close_period").latest("pk").result.get("changed", 0))
    if corrected:
        raise CommandError(f"The close corrected {corrected} timesheets that were already priced.")
    return corrected


def run_job(kind: str, actor: User | None, period: str = PERIOD) -> None:
    """Start the job over a period as the API does and wait until it is over."""
    with transaction.atomic():  # queued on commit
        job, _ = job_start(kind=kind, params=period_job_params(period), actor=actor)
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        job.refresh_from_db()
        if job.status == JobStatus.DONE:
            return
        if job.status == JobStatus.FAILED:
            raise CommandError(f"The {kind} job failed: {job.error}")
        if time.monotonic() > deadline:
            raise CommandError(f"The {kind} job did not finish in {JOB_TIMEOUT} s.")
        time.sleep(0.2)


# Submit and approve in bulk ---------------------------------------------------------------

APPROVE_SQL = """
UPDATE payroll_timesheet t
SET status = 'approved', submitted_at = %(submitted)s, decided_at = %(decided)s,
    decided_by_id = m.user_id, decision_note = '', updated_at = %(decided)s
FROM trainers_worker w JOIN {managers} m ON m.team_id = w.team_id
WHERE w.id = t.worker_id AND t.period = %(period)s AND t.status = 'open';

INSERT INTO payroll_timesheetevent (timesheet_id, sequence, from_status, to_status, actor_id, at, note)
SELECT t.id, 1, 'open', 'submitted', w.user_id, %(submitted)s, ''
FROM payroll_timesheet t JOIN trainers_worker w ON w.id = t.worker_id
WHERE t.period = %(period)s AND t.status = 'approved'
UNION ALL
SELECT t.id, 2, 'submitted', 'approved', t.decided_by_id, %(decided)s, ''
FROM payroll_timesheet t WHERE t.period = %(period)s AND t.status = 'approved'
"""


def submit_and_approve_in_bulk(period: str = PERIOD) -> None:
    """What `submit` by each contractor and `approve` by their manager leave, in two statements.

    The close stored each open timesheet's lines and total from the same sessions and
    rates that submit would price (no adjustments exist), so only the state, the
    submit and decision fields and the two events are written here (the timesheets are
    the close's, with no events yet: these are their first two). The pay summaries have
    no status: a status change leaves them as they are.
    """
    now = timezone.now()
    params: dict[str, Any] = {"period": period, "submitted": now, "decided": now + timedelta(seconds=1)}
    sql = APPROVE_SQL.format(managers=Team.managers.through._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in sql.split(";\n\n"):
            cursor.execute(statement, params)


# A line as stored (TimesheetLine) and as priced (PayLine): the same values, in the same order.
_STORED_LINE = attrgetter("project_id", "activity", "kind", "hourly_rate", "seconds", "units", "amount")
_LIVE_LINE = attrgetter("project_id", "activity", "kind", "rate", "seconds", "units", "amount")


def check_sample(seed: int, period: str = PERIOD) -> None:
    """Re-price a sample of approved timesheets live: stored lines must be what submit would store."""
    ids = list(Timesheet.objects.filter(period=period).values_list("pk", flat=True))
    sample = random.Random(seed).sample(ids, min(len(ids), 25))  # noqa: S311 - not a secret
    for timesheet in Timesheet.objects.filter(pk__in=sample).select_related("worker"):
        pay = price_worker_period(timesheet.worker, period)
        stored = Counter(map(_STORED_LINE, timesheet.lines.all()))
        live = Counter(map(_LIVE_LINE, pay.lines))
        if timesheet.status != TimesheetStatus.APPROVED or pay.unpriced or stored != live:
            raise CommandError(f"Timesheet {timesheet.pk} is not what submit and approve would leave.")


# Figures ----------------------------------------------------------------------------------


def _report_mix_loaded(out: TextIOBase, mix: MixCounts) -> None:
    out.write(
        f"  pay mix: {mix.piece_workers} workers on task rates ({mix.pure_piece} at 0.00/h), "
        f"{mix.floors} with a floor, {mix.activity_rates} activity rates; "
        f"{mix.task_sessions} sessions with tasks, {mix.activity_sessions} of other activities\n"
    )


MIX_LINES_SQL = """
SELECT COUNT(*) FILTER (WHERE l.kind = 'tasks'),
       COUNT(*) FILTER (WHERE l.activity IS NOT NULL AND l.activity <> 'labelling'),
       COUNT(*) FILTER (WHERE l.kind = 'top_up'),
       COALESCE(SUM(l.amount) FILTER (WHERE l.kind = 'top_up'), 0)
FROM payroll_timesheetline l JOIN payroll_timesheet t ON t.id = l.timesheet_id
WHERE t.period = %s
"""


def _report_mix_closed(out: TextIOBase, period: str = PERIOD) -> None:
    """What the close stored of the mix: the lines that exist only with it."""
    with connection.cursor() as cursor:
        cursor.execute(MIX_LINES_SQL, [period])
        tasks, activities, top_ups, topped_up = cursor.fetchone()
    out.write(
        f"  pay mix closed: {tasks} task lines, {activities} activity lines, "
        f"{top_ups} top-ups (amounting to {topped_up})\n"
    )


class Closes(NamedTuple):
    """The close from scratch, and the weekly one on weeks live pricing kept current."""

    from_scratch: Timing
    weekly: Timing


def _report(
    out: TextIOBase, closes: Closes, invoicing: Timing, floor: Timing, timesheets: int, celery_workers: int
) -> None:
    for close in closes:
        out.write(
            f"  {close.label:<34} {close.seconds:8.2f} s  {close.rows_per_second:9.0f} sessions/s  "
            f"{timesheets / close.seconds:7.0f} timesheets/s\n"
        )
    out.write(
        f"  {invoicing.label:<34} {invoicing.seconds:8.2f} s  {invoicing.rows_per_second:9.0f} invoices/s\n"
    )
    out.write(f"  {floor.label:<34} {floor.seconds:8.2f} s  {floor.rows_per_second:9.0f} sessions/s\n")
    real = closes.from_scratch.seconds + invoicing.seconds
    out.write(f"  ratio (close + invoicing) / floor  {real / floor.seconds:8.2f}x\n")
    weekly = closes.weekly.seconds + invoicing.seconds
    out.write(f"  ratio (weekly close + invoicing) / floor {weekly / floor.seconds:6.2f}x\n")
    out.write(f"  peak memory (this process)         {peak_memory_mb():8.0f} MB\n")
    if celery_workers:
        children = _children_peak_mb()
        out.write(f"  peak memory (largest worker)       {children:8.0f} MB\n")


def _report_cpu(out: TextIOBase, used: dict[str, CpuSeconds], timesheets: int) -> None:
    """CPU time per phase: the tasks' is barely moved by other load on a shared machine."""
    for phase, cpu in used.items():
        out.write(
            f"  CPU {phase:<10} tasks {cpu.tasks:7.2f} s + PostgreSQL server {cpu.database:6.2f} s "
            f"= {1000 * (cpu.tasks + cpu.database) / max(timesheets, 1):5.2f} ms per timesheet\n"
        )


def _compare(out: TextIOBase, timesheets: int) -> None:
    figures = floor_compare(PERIOD)
    out.write(
        f"  check: {figures['invoices']} invoices for {timesheets} timesheets, {figures['floor_invoices']} "
        f"in the floor; total {figures['invoiced_total']} vs floor {figures['floor_total']}; "
        f"{figures['invoice_lines']} invoice lines vs {figures['floor_lines']} floor lines\n"
    )
    if (
        figures["differing"]
        or figures["differing_lines"]
        or figures["invoices"] != timesheets
        or figures["invoiced_total"] != figures["floor_total"]
        or figures["invoice_lines"] != figures["floor_lines"]
    ):
        raise CommandError(
            f"Invoices and the SQL floor disagree: {figures['differing']} invoices and "
            f"{figures['differing_lines']} lines differ."
        )
    out.write("  check: every invoice and line agrees with the SQL floor to the cent\n")


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# Celery: eager in this process, or N worker processes on the scratch database -------------


class celery_tasks:
    """Run tasks eagerly here, or in `count` worker processes started for the scratch database."""

    def __init__(self, out: TextIOBase, count: int) -> None:
        self.out, self.count = out, count
        self.processes: list[subprocess.Popen[bytes]] = []
        self.was_eager = app.conf.task_always_eager
        self.media: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> "celery_tasks":
        logging.getLogger("celery").setLevel(logging.WARNING)  # not a line per task
        if not self.count:
            app.conf.task_always_eager = True
            return self
        if not settings.REDIS_URL:
            raise CommandError("--celery needs REDIS_URL (a broker the worker processes share).")
        app.conf.task_always_eager = False
        # Invoicing chunks queue PDF renders after commit: they land in a throwaway folder, and
        # whatever is still queued when the benchmark ends is purged (renders are not timed).
        self.media = tempfile.TemporaryDirectory(prefix="fairhour-benchmark-media-")
        env = os.environ | {
            "DATABASE_URL": scratch_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "MEDIA_ROOT": self.media.name,
        }
        for number in range(self.count):
            command = [
                sys.executable, "-m", "celery", "--quiet", "-A", "config", "worker", "--pool=prefork",
                "--concurrency=1", "--loglevel=WARNING", f"--hostname=bench{number}@%h",
            ]  # fmt: skip
            self.processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
            )
        started = time.perf_counter()
        self._wait_until_ready()
        self.out.write(
            f"  celery: {self.count} worker processes on the scratch database, "
            f"ready in {time.perf_counter() - started:.1f} s (untimed)\n"
        )
        return self

    def cpu_seconds(self) -> CpuSeconds:
        """CPU used so far by the task processes (this one when eager) and the database."""
        if self.processes:
            tasks = sum(process_tree_cpu_seconds(process.pid) for process in self.processes)
        else:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            tasks = usage.ru_utime + usage.ru_stime
        return CpuSeconds(tasks, database_cpu_seconds())

    def _wait_until_ready(self) -> None:
        """Wait until every worker answers a ping: their start-up is not the close's time."""
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while len(app.control.ping(timeout=0.5) or []) < self.count:
            if time.monotonic() > deadline:
                raise CommandError(f"The Celery workers did not start in {WORKER_START_TIMEOUT} s.")
            if any(process.poll() is not None for process in self.processes):
                raise CommandError("A Celery worker exited at start.")

    def __exit__(self, *exc: Any) -> None:
        app.conf.task_always_eager = self.was_eager
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.processes:
            app.control.purge()
        if self.media is not None:
            self.media.cleanup()


def scratch_database_url() -> str:
    """DATABASE_URL of the database this process now uses (the scratch one)."""
    return database_url(connection.settings_dict)
