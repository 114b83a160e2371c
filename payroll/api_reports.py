"""Thin DRF views of the pay report and its exports, with their request and row shapes.

`reports/pay/` answers at once; `exports/` queues a job that writes the same report as a
CSV or XLSX file, downloaded from `exports/{job}/download/` once the job is done.
"""

from typing import Any, cast

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import CappedPageNumberPagination
from core.api.permissions import RoleAccess
from payroll.models import TimesheetStatus
from payroll.selectors.reports import (
    GROUP_BY,
    REPORT_FIGURES,
    REPORT_ROLES,
    PayReportRow,
    export_jobs_visible_to,
    pay_report,
    report_params_errors,
)
from payroll.serializers.fields import PeriodKeyField
from payroll.serializers.jobs import JobStartedSerializer
from payroll.services.exports import CONTENT_TYPES, FORMATS, REPORTS, export_filename, export_start
from trainers.api import ADMIN_FINANCE
from trainers.models import ALL_ROLES, User

# Aggregates can pass a single line's 14 digits: room for any sum, never a 500 on output.
AGGREGATE_DIGITS = 30


class PayReportParamsSerializer(serializers.Serializer):
    """A pay report's parameters: a range of ISO weeks, a grouping, a status filter."""

    period_from = PeriodKeyField(help_text="First ISO week, e.g. 2026-W40.")
    period_to = PeriodKeyField(help_text="Last ISO week (inclusive), at most 106 weeks after period_from.")
    group_by = serializers.ChoiceField(choices=GROUP_BY)
    status = serializers.ChoiceField(
        choices=TimesheetStatus.choices, required=False, help_text="Only timesheets in this status."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The range rules (order, length) are the selector's: one rule, two callers."""
        errors = report_params_errors(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class _WorkerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class _NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="null: the fair-pay top-ups, which have no project."
    )
    name = serializers.CharField()


class PayReportRowSerializer(serializers.Serializer):
    """One group of the report: exactly one of worker, project, team or period, then figures."""

    worker = _WorkerRefSerializer(required=False, help_text="With group_by=worker.")
    project = _NamedRefSerializer(required=False, help_text="With group_by=project.")
    team = _NamedRefSerializer(
        required=False, allow_null=True, help_text="With group_by=team; null: no team."
    )
    period = serializers.CharField(required=False, help_text="With group_by=period.")
    currency = serializers.CharField()
    seconds = serializers.IntegerField()
    duration = serializers.CharField(help_text="The time as h:mm:ss.")
    hours = serializers.DecimalField(
        max_digits=AGGREGATE_DIGITS, decimal_places=2, help_text="seconds / 3600 to two places (display)."
    )
    adjustments = serializers.DecimalField(
        max_digits=AGGREGATE_DIGITS,
        decimal_places=2,
        help_text="The part of amount that is adjustments (always 0.00 by project).",
    )
    amount = serializers.DecimalField(max_digits=AGGREGATE_DIGITS, decimal_places=2)
    tasks = serializers.IntegerField(help_text="Tasks paid by the piece.")
    top_up = serializers.DecimalField(
        max_digits=AGGREGATE_DIGITS,
        decimal_places=2,
        help_text="The part of amount that is fair-pay top-ups.",
    )
    effective_hourly = serializers.DecimalField(
        max_digits=AGGREGATE_DIGITS,
        decimal_places=2,
        allow_null=True,
        help_text="(amount - adjustments) per hour worked, display only; null with no time.",
    )

    _FIGURES = REPORT_FIGURES

    def _figure(self, name: str, row: PayReportRow) -> Any:
        value = getattr(row, name)
        return None if value is None else self.fields[name].to_representation(value)

    def to_representation(self, instance: PayReportRow) -> dict[str, Any]:
        """The group named by the report's grouping, then the figures."""
        group_by = self.context["group_by"]
        data: dict[str, Any] = {group_by: _group(group_by, instance)}
        for name in self._FIGURES:
            data[name] = self._figure(name, instance)
        return data


def _group(group_by: str, row: PayReportRow) -> Any:
    if group_by == "period":
        return row.key
    if group_by == "team" and row.key is None:
        return None
    return {"id": row.key, "full_name" if group_by == "worker" else "name": row.name}


class PayReportPageSerializer(serializers.Serializer):
    """A page of the report, as every list of the API is paged."""

    count = serializers.IntegerField(help_text="Groups in all (by worker: workers).")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PayReportRowSerializer(many=True)


PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="A page number from 1, or 'last'."),
    OpenApiParameter("page_size", int, description="Groups a page, 1 to 500 (default 50)."),
]


class PayReportView(APIView):
    """Pay per worker, project, team or period over a range of weeks (managers: own teams)."""

    permission_classes = [RoleAccess]
    read_roles = REPORT_ROLES

    pagination_class = CappedPageNumberPagination

    @extend_schema(
        parameters=[PayReportParamsSerializer, *PAGE_PARAMETERS],
        responses={
            200: PayReportPageSerializer,
            400: OpenApiResponse(description="A bad parameter, named with the rule it breaks."),
            403: OpenApiResponse(description="Contractors may not run reports."),
        },
    )
    def get(self, request: Request) -> Response:
        """The pay report: seconds, hours and amount per group and currency, a page at a time.

        By worker only the page's workers are summed (`WorkerPages`), so the first page of a
        whole workforce answers as fast as a team's.
        """
        form = PayReportParamsSerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        report = pay_report(user=cast(User, request.user), **form.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(report.rows, request, view=self)
        rows = PayReportRowSerializer(page, many=True, context={"group_by": report.group_by})
        return paginator.get_paginated_response(rows.data)


class ExportRequestSerializer(serializers.Serializer):
    report = serializers.ChoiceField(choices=REPORTS)
    params = PayReportParamsSerializer()
    format = serializers.ChoiceField(choices=FORMATS)


class ExportView(APIView):
    """Queue a report export as a file (finance, admin)."""

    permission_classes = [RoleAccess]
    read_roles = ADMIN_FINANCE
    write_roles = ADMIN_FINANCE

    @extend_schema(
        request=ExportRequestSerializer,
        responses={
            202: OpenApiResponse(
                JobStartedSerializer,
                description="Queued; the job's result holds rows, format and the download url when done.",
            ),
            400: OpenApiResponse(description="A bad field (report parameters: params.{field})."),
        },
    )
    def post(self, request: Request) -> Response:
        """Start an export job, or return the same unfinished one."""
        form = ExportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        job, _ = export_start(
            actor=cast(User, request.user),
            report=data["report"],
            params=data["params"],
            file_format=data["format"],
        )
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)


class ExportDownloadView(APIView):
    """The file of a finished export (finance, admin; 404 for anything else)."""

    permission_classes = [RoleAccess]
    read_roles = ALL_ROLES  # everybody signed in asks; only finance and admins find the file

    @extend_schema(
        parameters=[OpenApiParameter("job_id", int, OpenApiParameter.PATH)],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="No finished export with this id for this caller."),
        },
    )
    def get(self, request: Request, job_id: int) -> FileResponse:
        """Download the export's file."""
        job = export_jobs_visible_to(cast(User, request.user)).filter(pk=job_id).first()
        name = job.result.get("file") if job else None
        if job is None or not name or not default_storage.exists(name):
            raise Http404("No finished export with this id.")
        return FileResponse(
            default_storage.open(name, "rb"),
            as_attachment=True,
            filename=export_filename(job),
            content_type=CONTENT_TYPES[job.params["format"]],
        )
