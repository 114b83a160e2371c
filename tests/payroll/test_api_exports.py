"""exports/: the pay report as CSV or XLSX through a job, who may export and download, and
formula injection (LESSONS: Hours #585, Kimai PR #5899).

Figures: the table in tests/payroll/test_selectors_reports.py. Celery is eager in tests:
the job runs when the request's transaction commits.
"""

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from core.errors import Forbidden
from payroll import tasks
from payroll.models import Job, JobStatus
from payroll.services.exports import export_start
from payroll.services.jobs import job_start
from tests.api_helpers import assert_refused
from tests.payroll.test_selectors_reports import W45, W46, build_figures
from trainers.models import Role

pytestmark = pytest.mark.django_db

EVIL_NAME = '=HYPERLINK("http://evil.example","click")'
EVIL_PROJECT = "+cmd|' /C calc'!A0"
PARAMS = {"period_from": W45, "period_to": W46, "group_by": "worker"}
# USD and EUR in one file: a Currency column and plain money headers.
MIXED_HEADER = (
    *("Worker ID", "Worker", "Currency", "Seconds", "Duration", "Hours"),
    *("Tasks", "Top-up", "Adjustments", "Amount", "Effective hourly"),
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Exports are written to files under a temporary folder (tests store in memory otherwise)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    return tmp_path


@pytest.fixture
def figures(world, frozen_now):
    """The figures, with a worker and a project named to attack a spreadsheet."""
    build_figures(world)
    world.worker_a.full_name = EVIL_NAME
    world.worker_a.save()
    world.project_b.name = EVIL_PROJECT
    world.project_b.save()
    return world


@pytest.fixture
def export(client_for, figures, django_capture_on_commit_callbacks):
    """POST exports/ as `caller` and run the queued job."""

    def run(caller: str = "finance", file_format: str = "csv", **params: str) -> Any:
        body = {"report": "pay", "params": {**PARAMS, **params}, "format": file_format}
        with django_capture_on_commit_callbacks(execute=True):
            return client_for(figures.user(caller)).post("/api/v1/exports/", body, format="json")

    return run


def download(client, job_id: int) -> Any:
    return client.get(f"/api/v1/exports/{job_id}/download/")


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_a_csv_export_runs_as_a_job_and_downloads(export, client_for, figures):
    # when
    response = export()
    # then the job is done, its result says where the file is
    assert response.status_code == 202, response.content
    job_id = response.json()["job"]
    job = client_for(figures.finance).get(f"/api/v1/jobs/{job_id}/").json()
    assert job["status"] == "done"
    assert job["kind"] == "export_report"
    assert {key: job["result"][key] for key in ("rows", "format", "url")} == {
        "rows": 3,
        "format": "csv",
        "url": f"/api/v1/exports/{job_id}/download/",
    }
    # and the file is the report, with the hostile name neutralised
    file = client_for(figures.finance).get(job["result"]["url"])
    assert file.status_code == 200
    assert file["Content-Type"] == "text/csv; charset=utf-8"
    assert f"pay-worker-{W45}-{W46}.csv" in file["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(body_of(file).decode())))
    assert rows == [
        [*MIXED_HEADER],
        [
            *(str(figures.worker_a.pk), "'" + EVIL_NAME, "USD", "12600", "3:30:00", "3.50"),
            *("0", "0.00", "5.00", "57.50", "15.00"),
        ],
        [
            *(str(figures.worker_a2.pk), "Worker contractor_a2", "USD", "7200", "2:00:00", "2.00"),
            *("0", "0.00", "0.00", "40.00", "20.00"),
        ],
        [
            *(str(figures.worker_b.pk), "Worker contractor_b", "EUR", "7200", "2:00:00", "2.00"),
            *("0", "0.00", "0.00", "20.00", "10.00"),
        ],
    ]


def xlsx_rows(response: Any) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(body_of(response)))
    return list(workbook.active.iter_rows())


def test_an_xlsx_export_has_number_cells_and_inert_text(export, client_for, figures):
    # when
    job_id = export(file_format="xlsx").json()["job"]
    response = download(client_for(figures.admin), job_id)
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    header, first, *_ = xlsx_rows(response)
    assert tuple(cell.value for cell in header) == MIXED_HEADER
    worker_id, name, currency, seconds, duration, hours, tasks, top_up, adjustments, amount, hourly = first
    assert (name.value, name.data_type) == ("'" + EVIL_NAME, "s")  # text, never a formula
    assert (currency.value, duration.value) == ("USD", "3:30:00")
    for cell, value in ((worker_id, figures.worker_a.pk), (seconds, 12600), (tasks, 0)):
        assert (cell.data_type, cell.value, cell.number_format) == ("n", value, "0")
    for cell, value in ((hours, 3.5), (top_up, 0), (adjustments, 5), (amount, 57.5), (hourly, 15)):
        assert (cell.data_type, cell.value, cell.number_format) == ("n", value, "0.00")


def test_an_xlsx_has_a_frozen_header_column_widths_and_a_total_per_currency(export, client_for, figures):
    # when finance exports USD and EUR rows
    job_id = export(file_format="xlsx").json()["job"]
    sheet = load_workbook(io.BytesIO(body_of(download(client_for(figures.finance), job_id)))).active
    # then the header stays in view and every column is as wide as its cells
    assert sheet.freeze_panes == "A2"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJK"}
    assert widths["B"] >= len(EVIL_NAME) and widths["K"] >= len("Effective hourly")
    # and after the three workers, one bold total per currency, never one across them
    rows = list(sheet.iter_rows(min_row=5))
    assert [[cell.value for cell in row] for row in rows] == [
        ["Total", None, "EUR", 7200, "2:00:00", 2, 0, 0, 0, 20, 10],
        ["Total", None, "USD", 19800, "5:30:00", 5.5, 0, 0, 5, 97.5, 16.82],  # 92.50 / 5.5 h
    ]
    assert all(cell.font.bold for row in rows for cell in row)
    assert [row[9].number_format for row in rows] == ["0.00", "0.00"]


def test_a_single_currency_file_names_it_in_the_money_headers(export, client_for, figures):
    # when the range holds USD rows only (W46: contractor_a's open week and adjustment)
    job_id = export(file_format="xlsx", period_from=W46).json()["job"]
    header, row, total = xlsx_rows(download(client_for(figures.finance), job_id))
    # then the money headers say USD, and the one total matches the one row
    assert [cell.value for cell in header][2:] == [
        *("Currency", "Seconds", "Duration", "Hours", "Tasks", "Top-up (USD)", "Adjustments (USD)"),
        *("Amount (USD)", "Effective hourly (USD/h)"),
    ]
    assert [cell.value for cell in total] == ["Total", None, *(cell.value for cell in row[2:])]
    assert [cell.value for cell in row][-3:] == [5, 27.5, 15]


def test_a_csv_has_the_same_headers_and_no_total_row(export, client_for, figures):
    # when
    job_id = export(period_from=W46).json()["job"]
    rows = list(csv.reader(io.StringIO(body_of(download(client_for(figures.finance), job_id)).decode())))
    # then
    assert rows[0][-4:] == ["Top-up (USD)", "Adjustments (USD)", "Amount (USD)", "Effective hourly (USD/h)"]
    assert [row[1] for row in rows[1:]] == ["'" + EVIL_NAME]


def test_an_xlsx_by_project_neutralises_a_project_name(export, client_for, figures):
    # when
    job_id = export(file_format="xlsx", group_by="project").json()["job"]
    rows = xlsx_rows(download(client_for(figures.finance), job_id))
    # then Project B's two currencies are two rows, and "+cmd..." is text with an apostrophe
    names = [(row[1].value, row[2].value, row[-2].value) for row in rows[1:]]
    assert names == [
        ("'" + EVIL_PROJECT, "EUR", 20),
        ("'" + EVIL_PROJECT, "USD", 22.5),
        ("Project A", "USD", 70),
        (None, "EUR", 20),  # the totals: by project, without the adjustment
        (None, "USD", 92.5),
    ]


def test_control_characters_cannot_hide_a_formula_start(figures, media):
    # given a name whose first character XML cannot hold
    figures.worker_a2.full_name = "\x01=1+1"
    figures.worker_a2.save()
    job, _ = export_start(actor=figures.finance, report="pay", params=PARAMS, file_format="xlsx")
    # when
    tasks.export_report.delay(job.pk)
    # then
    job.refresh_from_db()
    rows = load_workbook(media / job.result["file"]).active.iter_rows(values_only=True)
    assert [row[1] for row in rows if row[0] == figures.worker_a2.pk] == ["'=1+1"]


@pytest.mark.parametrize(
    ("caller", "expected"), [("anonymous", 401), ("contractor_a", 403), ("manager_a", 403)]
)
def test_only_finance_and_admins_may_export(export, caller, expected):
    # when
    response = export(caller)
    # then
    assert response.status_code == expected
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 404),
        ("manager_a", 404),
        ("manager_b", 404),
        ("finance", 200),
        ("admin", 200),
    ],
)
def test_who_may_download_an_export(export, client_for, figures, caller, expected):
    # given admin's finished export
    job_id = export("admin").json()["job"]
    # when
    response = download(client_for(figures.user(caller)), job_id)
    # then
    assert response.status_code == expected


def test_an_unfinished_export_or_another_kind_of_job_is_not_downloadable(client_for, figures):
    # given an export not run yet, and a finished close
    queued, _ = export_start(actor=figures.finance, report="pay", params=PARAMS, file_format="csv")
    close, _ = job_start(kind="close_period", params={"period": W45}, actor=figures.finance)
    Job.objects.filter(pk=close.pk).update(status=JobStatus.DONE, result={"file": "exports/x.csv"})
    client = client_for(figures.finance)
    # then
    assert download(client, queued.pk).status_code == 404
    assert download(client, close.pk).status_code == 404
    assert download(client, 999_999).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"report": "hours"}, "report"),
        ({"format": "pdf"}, "format"),
        ({"params": "not an object"}, "params"),
        ({"params": {**PARAMS, "period_from": "2026-45"}}, "params.period_from"),
        ({"params": {**PARAMS, "period_from": W46, "period_to": W45}}, "params.period_to"),
        ({"params": {**PARAMS, "period_to": "2028-W47"}}, "params.period_to"),  # 108 weeks
        ({"params": {**PARAMS, "group_by": "client"}}, "params.group_by"),
        ({"params": {**PARAMS, "status": "paid"}}, "params.status"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client_for, figures, body, field):
    # when
    request = {"report": "pay", "params": PARAMS, "format": "csv", **body}
    response = client_for(figures.finance).post("/api/v1/exports/", request, format="json")
    # then
    outer, _, inner = field.partition(".")
    if inner:
        assert response.status_code == 400, response.content
        messages = response.json()[outer][inner]
        assert messages and all(isinstance(message, str) for message in messages)
    elif outer == "params":  # not an object at all
        assert response.status_code == 400 and response.json()["params"]
    else:
        assert_refused(response, 400, outer)
    assert not Job.objects.exists()


def test_the_export_runs_with_its_creators_scope(figures, media):
    # given finance queues an export, then becomes manager of team B before it runs
    job, _ = export_start(actor=figures.finance, report="pay", params=PARAMS, file_format="csv")
    figures.finance.role = Role.MANAGER
    figures.finance.save()
    figures.team_b.managers.add(figures.finance)
    # when
    tasks.export_report.delay(job.pk)
    # then the file holds what they may see now: team B only
    job.refresh_from_db()
    text = (media / job.result["file"]).read_text()
    assert "Worker contractor_b" in text
    assert "contractor_a" not in text and "HYPERLINK" not in text
    assert job.result["rows"] == 1


def test_running_the_export_twice_finishes_once_and_keeps_one_file(figures, media):
    # given
    job, _ = export_start(actor=figures.finance, report="pay", params=PARAMS, file_format="csv")
    tasks.export_report.delay(job.pk)
    job.refresh_from_db()
    first = (job.status, job.result, job.finished_at)
    # when redelivered
    tasks.export_report.delay(job.pk)
    # then
    job.refresh_from_db()
    assert (job.status, job.result, job.finished_at) == first
    assert (job.total_chunks, job.done_chunks) == (1, 1)
    assert [path.name for path in (media / "exports").iterdir()] == [f"export-{job.pk}.csv"]


def test_asking_again_while_it_is_queued_returns_the_same_job(figures):
    first, created = export_start(actor=figures.finance, report="pay", params=PARAMS, file_format="csv")
    again, created_again = export_start(actor=figures.finance, report="pay", params=PARAMS, file_format="csv")
    assert (again.pk, created, created_again) == (first.pk, True, False)


def test_an_export_without_a_creator_fails_its_job(figures):
    # given a job nobody asked for (only the API starts exports)
    job, _ = job_start(
        kind="export_report",
        params={"report": "pay", "format": "csv", "params": PARAMS, "user": None},
        actor=None,
    )
    # when
    with pytest.raises(Forbidden):
        tasks.export_report.delay(job.pk)
    # then
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "Exporting failed" in job.error
