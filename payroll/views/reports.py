"""Web pages of pay reports: charts and tables per week, project and team, and their exports.

Each grouping has a bar chart of hours and one bar chart per currency of the amount:
currencies never share an axis or a sum. The figures are in a table below the charts,
with a total per currency.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError, InvalidInput
from core.periods import iso_week_key
from payroll.forms import ExportForm, ReportForm
from payroll.money import decimal_hours
from payroll.selectors.jobs import jobs_visible_to
from payroll.selectors.reports import EXPORT_JOB_KIND, PayReportRow, currency_totals, pay_report
from payroll.services.exports import export_start
from trainers.models import Role
from trainers.web import actor, field_errors, form_errors_from, parse_id, refusal_message, role_required

CHARTS = (("period", "per week"), ("project", "per project"), ("team", "per team"))
REPORT_WEEKS = 8  # the default range: the last eight finished weeks


@role_required(Role.MANAGER, Role.FINANCE, Role.ADMIN)
def pay_reports(request: HttpRequest) -> HttpResponse:
    """Hours and amount per week, project and team, as charts and tables (managers: own teams)."""
    form = ReportForm(request.GET or _default_report_range())
    charts: list[dict[str, Any]] = []
    if form.is_valid():
        params = {name: value for name, value in form.cleaned_data.items() if value}
        try:
            for group_by, title in CHARTS:
                report = pay_report(user=actor(request), group_by=group_by, **params)
                charts.append(_chart(group_by, title, report.rows))
        except InvalidInput as error:
            form_errors_from(form, error)
    context = {
        "nav": "reports",
        "form": form,
        "charts": charts,
        "export_form": ExportForm(
            initial={**{name: form.data.get(name, "") for name in ReportForm.base_fields}, "format": "xlsx"}
        ),
        "job": _export_job(request),
    }
    return render(request, "payroll/reports.html", context)


@role_required(Role.FINANCE, Role.ADMIN)
@require_POST
def export_report(request: HttpRequest) -> HttpResponse:
    """Queue a CSV or XLSX export of the pay report; the page then follows the job."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        for field in form.errors:
            messages.error(request, f"{field}: {field_errors(form, field)}")
        return redirect("payroll:reports")
    data = dict(form.cleaned_data)
    file_format = data.pop("format")
    params = {name: value for name, value in data.items() if value}
    try:
        job, created = export_start(
            actor=actor(request), report="pay", params=params, file_format=file_format
        )
    except DomainError as error:
        refusal_message(request, error)
        return redirect("payroll:reports")
    started = "started" if created else "is already running"
    messages.info(request, f"Export of the pay report as {file_format.upper()} {started} (job {job.pk}).")
    query = QueryDict(mutable=True)
    query.update({**{k: v for k, v in params.items() if k != "group_by"}, "job": str(job.pk)})
    return redirect(f"{reverse('payroll:reports')}?{query.urlencode()}")


def _default_report_range() -> dict[str, str]:
    last = timezone.now() - timedelta(days=7)
    first = last - timedelta(weeks=REPORT_WEEKS - 1)
    utc = ZoneInfo("UTC")
    return {"period_from": iso_week_key(first, utc), "period_to": iso_week_key(last, utc)}


def _chart(group_by: str, title: str, rows: Iterable[PayReportRow]) -> dict[str, Any]:
    """A grouping's charts and table: hours, and each currency's amount on a chart of its own.

    The data goes to the page as strings (no floats): labels, hours per group (time adds up
    across currencies) and amounts per currency (money never does).
    """
    # Groups by key, not by name: two clients' projects may share a name.
    labels: dict[Any, str] = {}
    seconds: dict[Any, int] = defaultdict(int)
    amounts: dict[str, dict[Any, Decimal]] = {}
    for row in rows:
        labels.setdefault(row.key, str(row.key) if group_by == "period" else (row.name or "No team"))
        seconds[row.key] += row.seconds
        by_key = amounts.setdefault(row.currency, {})
        by_key[row.key] = by_key.get(row.key, Decimal("0.00")) + row.amount
    data = {
        "labels": list(labels.values()),
        "hours": [str(decimal_hours(seconds[key])) for key in labels],
        "amounts": {
            currency: [str(by_key.get(key, Decimal("0.00"))) for key in labels]
            for currency, by_key in sorted(amounts.items())
        },
    }
    chart_id = f"chart-{group_by}"
    canvases = [
        _canvas(f"{chart_id}-hours", "Hours", f"Bar chart of the hours {title}"),
        *(
            _canvas(
                f"{chart_id}-amount-{currency}",
                f"Amount ({currency})",
                f"Bar chart of the amount in {currency} {title}",
                currency,
            )
            for currency in data["amounts"]
        ),
    ]
    return {
        "id": chart_id,
        "data_id": f"{chart_id}-data",
        "group_by": group_by,
        "title": title,
        "rows": rows,
        "totals": currency_totals(rows),
        "data": data,
        "canvases": canvases,
    }


def _canvas(canvas_id: str, caption: str, description: str, currency: str = "") -> dict[str, str]:
    """One chart: its caption, and a text alternative that points at the figures' table."""
    label = f"{description}; the table below has the figures."
    return {"id": canvas_id, "caption": caption, "label": label, "currency": currency}


def _export_job(request: HttpRequest) -> Any:
    job_id = parse_id(request.GET.get("job", ""))
    if job_id is None or actor(request).role not in (Role.FINANCE, Role.ADMIN):
        return None
    return jobs_visible_to(actor(request)).filter(kind=EXPORT_JOB_KIND, pk=job_id).first()
