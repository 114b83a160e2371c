"""A management command that starts a period job (close, invoicing) and reports on it.

The same job as the API and beat start: once per period while unfinished; a rerun
writes nothing new. With a worker the command prints the job id to watch; with Celery
inline (the test settings) the job is over on commit, so it prints the result.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from config.celery_app import app
from core.periods import parse_period_key
from payroll.models import Job, JobStatus
from payroll.services.jobs import job_start, period_job_params

JOB_PATH = "/api/v1/jobs/{id}/"


class PeriodJobCommand(BaseCommand):
    """Start the job `kind` for the period given on the command line."""

    kind = ""
    noun = ""  # e.g. "close", for messages
    done = ""  # e.g. "Closed"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period", help="ISO week key, e.g. 2026-W45")

    def handle(self, *args: Any, period: str, **options: Any) -> None:
        """Start the job after commit; print its result when Celery runs inline."""
        try:
            parse_period_key(period)
        except ValueError as error:
            raise CommandError(str(error)) from error
        try:
            with transaction.atomic():  # the job is queued when this commits
                job, created = job_start(kind=self.kind, params=period_job_params(period), actor=None)
        except Exception as error:  # inline Celery: the job ran on commit and failed
            raise CommandError(f"The {self.noun} of {period} failed: {error}") from error
        job.refresh_from_db()
        if runs_inline() and job.status in (JobStatus.DONE, JobStatus.FAILED):
            self._report_finished(job)
        elif created:
            self.stdout.write(f"{self.noun.capitalize()} of {period} queued as job {job.pk}. {_watch(job)}")
        else:
            self.stdout.write(
                f"A {self.noun} of {period} is already {job.status} as job {job.pk}. {_watch(job)}"
            )

    def _report_finished(self, job: Job) -> None:
        period = job.params["period"]
        if job.status == JobStatus.FAILED:
            raise CommandError(f"The {self.noun} of {period} failed (job {job.pk}): {job.error}")
        result = json.dumps(job.result, sort_keys=True)
        self.stdout.write(self.style.SUCCESS(f"{self.done} {period} (job {job.pk}): {result}"))


def runs_inline() -> bool:
    """Whether Celery runs tasks in this process (the test settings): the job is already over."""
    return bool(app.conf.task_always_eager)


def _watch(job: Job) -> str:
    return f"Watch it at GET {JOB_PATH.format(id=job.pk)}"
