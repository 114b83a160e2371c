"""Close a pay period by hand: build or refresh every open timesheet of it.

The same job as the API's `payroll/close/` and the hourly beat: started once per period
while unfinished, and a rerun computes the same timesheets and writes nothing new.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from payroll.models import Job, JobStatus
from payroll.services.close import close_period_start_key
from payroll.services.jobs import job_start
from payroll.tasks import close_period
from trainers.periods import parse_period_key

JOB_PATH = "/api/v1/jobs/{id}/"


class Command(BaseCommand):
    help = "Close a pay period (an ISO week such as 2026-W45): build or refresh its timesheets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period", help="ISO week key, e.g. 2026-W45")

    def handle(self, *args: Any, period: str, **options: Any) -> None:
        """Start the close after commit; print its result when Celery runs inline."""
        try:
            parse_period_key(period)
        except ValueError as error:
            raise CommandError(str(error)) from error
        try:
            with transaction.atomic():  # the job is queued when this commits
                job, created = job_start(
                    kind="close_period", params=close_period_start_key(period), actor=None
                )
        except Exception as error:  # inline Celery: the close ran on commit and failed
            raise CommandError(f"The close of {period} failed: {error}") from error
        job.refresh_from_db()
        if runs_inline() and job.status in (JobStatus.DONE, JobStatus.FAILED):
            self._report_finished(job)
        elif created:
            self.stdout.write(f"Close of {period} queued as job {job.pk}. {_watch(job)}")
        else:
            self.stdout.write(f"A close of {period} is already {job.status} as job {job.pk}. {_watch(job)}")

    def _report_finished(self, job: Job) -> None:
        if job.status == JobStatus.FAILED:
            raise CommandError(f"Close of {job.params['period']} failed (job {job.pk}): {job.error}")
        result = json.dumps(job.result, sort_keys=True)
        self.stdout.write(self.style.SUCCESS(f"Closed {job.params['period']} (job {job.pk}): {result}"))


def runs_inline() -> bool:
    """Whether Celery runs tasks in this process (no REDIS_URL): the close is already over."""
    return bool(close_period.app.conf.task_always_eager)


def _watch(job: Job) -> str:
    return (
        f"Watch it: GET {JOB_PATH.format(id=job.pk)} (status, progress 0-100), or "
        f'manage.py shell -c "from payroll.models import Job; print(Job.objects.get(pk={job.pk}).progress)"'
    )
