"""Report exports: a job that runs a report as the person who asked and stores the file.

`export_start` queues the job (one unfinished export per person and arguments);
`report_export` is the job's only step, safe to run twice: it writes the file again
under the same name and finishes the job once. The report runs with its creator's
scope, so an export never holds a row its creator could not see in the report itself.
"""

from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.errors import Forbidden, InvalidInput
from payroll.exports import csv_text, report_table, xlsx_bytes
from payroll.models import Job
from payroll.selectors.reports import (
    EXPORT_JOB_KIND,
    EXPORT_ROLES,
    REPORT_PARAMS,
    pay_report,
    report_params_errors,
)
from payroll.services.jobs import job_finish, job_plan_chunks, job_start
from trainers.models import User
from trainers.selectors import role_of

REPORTS = ("pay",)
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXPORT_FOLDER = "exports"


def export_start(*, actor: User, report: str, params: dict[str, Any], file_format: str) -> tuple[Job, bool]:
    """Queue an export of a report (finance, admin), or return the same unfinished one."""
    if role_of(actor) not in EXPORT_ROLES:
        raise Forbidden("Only finance and admins may export reports.")
    errors: dict[str, list[str]] = {}
    if report not in REPORTS:
        errors["report"] = [f"Must be one of {', '.join(REPORTS)}."]
    if file_format not in FORMATS:
        errors["format"] = [f"Must be one of {', '.join(FORMATS)}."]
    errors |= {f"params.{field}": messages for field, messages in report_params_errors(params).items()}
    if errors:
        raise InvalidInput(errors)
    clean = {name: params[name] for name in REPORT_PARAMS if params.get(name)}
    job_params = {"report": report, "format": file_format, "params": clean, "user": actor.pk}
    return job_start(kind=EXPORT_JOB_KIND, params=job_params, actor=actor)


def report_export(*, job_id: int) -> None:
    """Run the job's report as its creator, store the file, and finish the job (once)."""
    if not job_plan_chunks(job_id=job_id, chunks=[[job_id]]):
        return  # already done: a redelivery
    job = Job.objects.select_related("created_by").get(pk=job_id)
    if job.created_by is None:
        raise Forbidden("An export runs as the person who asked for it; this job has nobody.")
    file_format = job.params["format"]
    report = pay_report(user=job.created_by, **job.params["params"])
    table = report_table(report)
    if file_format == "xlsx":
        data = xlsx_bytes(table.header, table.rows, title=f"Pay by {report.group_by}", totals=table.totals)
    else:
        data = csv_text(table.header, table.rows).encode("utf-8")  # no total rows: see payroll.exports
    name = f"{EXPORT_FOLDER}/export-{job.pk}.{file_format}"
    default_storage.delete(name)  # a rerun replaces the file rather than adding a second one
    stored = default_storage.save(name, ContentFile(data))
    result = {
        "rows": len(table.rows),  # the groups, not the totals
        "format": file_format,
        "url": f"/api/v1/exports/{job.pk}/download/",
        "file": stored,
    }
    job_finish(job_id=job.pk, result=result)


def export_filename(job: Job) -> str:
    """The name a download is offered under, e.g. pay-worker-2026-W40-2026-W45.csv."""
    params = job.params["params"]
    parts = [job.params["report"], params["group_by"], params["period_from"], params["period_to"]]
    if params.get("status"):
        parts.append(params["status"])
    return "-".join(parts) + "." + job.params["format"]
