"""Thin DRF views over the payroll services and selectors."""

from typing import Any, cast

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import RoleAccess
from core.periods import iso_week_key, parse_period_key
from payroll.exports import payout_csv
from payroll.filters import AdjustmentFilter, InvoiceFilter, RateFilter, TimesheetFilter
from payroll.models import Adjustment, Invoice, Job, Rate, Timesheet
from payroll.selectors import rates as selectors
from payroll.selectors.invoices import invoices_visible_to
from payroll.selectors.jobs import jobs_visible_to
from payroll.selectors.timesheets import adjustments_visible_to, timesheets_figures, timesheets_visible_to
from payroll.serializers.invoices import InvoicePaySerializer, InvoiceSerializer, InvoiceVoidSerializer
from payroll.serializers.jobs import (
    JobSerializer,
    JobStartedSerializer,
    PayrollCloseSerializer,
    PayrollInvoiceSerializer,
)
from payroll.serializers.rates import RateSerializer
from payroll.serializers.timesheets import (
    AdjustmentSerializer,
    BulkApprovalSerializer,
    TimesheetBulkApproveSerializer,
    TimesheetCreateSerializer,
    TimesheetNoteSerializer,
    TimesheetRejectSerializer,
    TimesheetReopenSerializer,
    TimesheetSerializer,
    TimesheetSubmitSerializer,
)
from payroll.services import rates as services
from payroll.services.adjustments import adjustment_create
from payroll.services.bulk_approval import timesheets_bulk_approve
from payroll.services.invoice_documents import invoice_pdf
from payroll.services.invoice_payments import invoice_pay, invoice_void
from payroll.services.jobs import job_start, period_job_params
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from trainers.api import ADMIN_FINANCE, CONTRACTOR, ScopedViewSet
from trainers.models import Role, User, Worker
from trainers.selectors import worker_of

MANAGER_ADMIN = frozenset({Role.MANAGER, Role.ADMIN})


class RateViewSet(viewsets.ModelViewSet, ScopedViewSet):
    """Effective-dated hourly rates: finance and admins manage them; contractors read their own."""

    serializer_class = RateSerializer
    filterset_class = RateFilter
    read_roles = frozenset({Role.ADMIN, Role.FINANCE, Role.CONTRACTOR})
    write_roles = ADMIN_FINANCE

    def get_queryset(self) -> QuerySet[Rate]:
        return selectors.rates_visible_to(self.actor).order_by("id")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.rate_create(actor=self.actor, fields=serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.rate_update(
            actor=self.actor, rate=serializer.instance, changes=serializer.validated_data
        )

    def perform_destroy(self, instance: Rate) -> None:
        services.rate_delete(actor=self.actor, rate=instance)


def _transition_schema(verb: str, body: type[serializers.Serializer]) -> Any:
    return extend_schema(
        request=body,
        responses={
            200: TimesheetSerializer,
            400: OpenApiResponse(description="Bad input, e.g. a missing note."),
            403: OpenApiResponse(description=f"The caller may not {verb} this timesheet."),
            404: OpenApiResponse(description="No such timesheet for this caller."),
            409: OpenApiResponse(
                description=f"The timesheet's state (or a blocking problem) stops {verb}; why."
            ),
        },
    )


class TimesheetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Weekly timesheets and their approval (PAY_RULES §4-§6); scoped like sessions."""

    serializer_class = TimesheetSerializer
    filterset_class = TimesheetFilter
    write_roles = frozenset({Role.CONTRACTOR, Role.FINANCE, Role.ADMIN})
    action_roles = {
        "current": CONTRACTOR,
        "submit": CONTRACTOR,
        "approve": MANAGER_ADMIN,
        "bulk_approve": MANAGER_ADMIN,
        "reject": MANAGER_ADMIN,
        "reopen": ADMIN_FINANCE,
    }

    def get_queryset(self) -> QuerySet[Timesheet]:
        return (
            timesheets_visible_to(self.actor)
            .prefetch_related("events")
            .order_by("-period_start", "worker_id", "id")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A page of timesheets whose figures are computed together: a few queries, not a few a row."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        context = {**self.get_serializer_context(), "figures": timesheets_figures(page)}
        return self.get_paginated_response(TimesheetSerializer(page, many=True, context=context).data)

    @extend_schema(
        request=TimesheetCreateSerializer,
        responses={
            200: OpenApiResponse(TimesheetSerializer, description="It existed already."),
            201: OpenApiResponse(TimesheetSerializer, description="Created, open."),
        },
    )
    def create(self, request: Request) -> Response:
        """Get or create a worker's timesheet for a period (a contractor's own)."""
        form = TimesheetCreateSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        worker = self._worker(form.validated_data.get("worker"))
        period = form.validated_data["period"]
        timesheet, created = timesheet_get_or_create(worker=worker, period=period)
        return self._show(timesheet, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses=TimesheetSerializer, filters=False)
    @action(detail=False, methods=["get"])
    def current(self, request: Request) -> Response:
        """The caller's timesheet for the period containing now, in their zone (created if need be)."""
        worker = self._worker(None)
        period = iso_week_key(timezone.now(), worker.zone)
        return self._show(timesheet_get_or_create(worker=worker, period=period)[0])

    @_transition_schema("submit", TimesheetSubmitSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Submit for approval: prices the period and stores its lines.

        A week not over yet in the worker's zone needs `{"confirm": true}` (else 409 saying
        what it locks); a week with no time and no adjustment is a 409.
        """
        return self._transition("submit", TimesheetSubmitSerializer)

    @_transition_schema("approve", TimesheetNoteSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a submitted timesheet (a manager of the worker's team, or an admin)."""
        return self._transition("approve", TimesheetNoteSerializer)

    @extend_schema(
        request=TimesheetBulkApproveSerializer,
        responses={
            200: BulkApprovalSerializer,
            400: OpenApiResponse(description="No ids, more than 500, or an id that is not a JSON integer."),
            403: OpenApiResponse(description="Only managers (their teams' timesheets) and admins approve."),
        },
    )
    @action(detail=False, methods=["post"], url_path="bulk-approve")
    def bulk_approve(self, request: Request) -> Response:
        """Approve the problem-free timesheets among `ids`, each on its own; the rest with why.

        A timesheet with any problem (a warning too) is skipped: it is approved on its own,
        after a look. An id the caller may not see is skipped as "No such timesheet."
        """
        form = TimesheetBulkApproveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = timesheets_bulk_approve(actor=self.actor, ids=form.validated_data["ids"])
        return Response(BulkApprovalSerializer(result).data)

    @_transition_schema("reject", TimesheetRejectSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Send a submitted timesheet back with a note; its sessions become editable."""
        return self._transition("reject", TimesheetRejectSerializer)

    @_transition_schema("reopen", TimesheetReopenSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        """Reopen an approved, not yet invoiced timesheet (finance, admin)."""
        return self._transition("reopen", TimesheetReopenSerializer)

    def _transition(self, verb: str, body: type[serializers.Serializer]) -> Response:
        timesheet = self.get_object()
        form = body(data=self.request.data)
        form.is_valid(raise_exception=True)
        timesheet = timesheet_transition(
            actor=self.actor, timesheet=timesheet, action=verb, **form.validated_data
        )
        return self._show(timesheet)

    def _worker(self, named: Worker | None) -> Worker:
        """The worker a request is about: a contractor's own, or the one finance named."""
        if self.actor.role == Role.CONTRACTOR:
            worker = worker_of(self.actor)
            if worker is None:
                raise NotFound("You have no worker profile, so you have no timesheets.")
            return worker
        if named is None:
            raise ValidationError({"worker": ["This field is required."]})
        return named

    def _show(self, timesheet: Timesheet, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=timesheet.pk)
        return Response(self.get_serializer(fresh).data, status=code)


class AdjustmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Signed corrections after approval, paid in the worker's next open period (§6)."""

    serializer_class = AdjustmentSerializer
    filterset_class = AdjustmentFilter
    write_roles = frozenset({Role.MANAGER, Role.FINANCE, Role.ADMIN})

    def get_queryset(self) -> QuerySet[Adjustment]:
        return adjustments_visible_to(self.actor).order_by("-created_at", "-id")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = adjustment_create(actor=self.actor, **serializer.validated_data)


class PeriodJobView(APIView):
    """Queue a job over a period for finance; while it is unfinished, asking again returns it."""

    permission_classes = [RoleAccess]
    read_roles = ADMIN_FINANCE
    write_roles = ADMIN_FINANCE
    job_kind: str
    form_class: type[serializers.Serializer]

    def post(self, request: Request) -> Response:
        """Start the job, or return the unfinished one with the same arguments."""
        form = self.form_class(data=request.data)
        form.is_valid(raise_exception=True)
        params = period_job_params(form.validated_data["period"])
        job, _ = job_start(kind=self.job_kind, params=params, actor=cast(User, request.user))
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)


def _period_job_schema(form_class: type[serializers.Serializer]) -> Any:
    return extend_schema_view(
        post=extend_schema(
            request=form_class,
            responses={
                202: OpenApiResponse(
                    JobStartedSerializer,
                    description="Queued; while it is unfinished, asking again returns the same job.",
                )
            },
        )
    )


@_period_job_schema(PayrollCloseSerializer)
class PayrollCloseView(PeriodJobView):
    """Queue the close of a period: build or refresh every open timesheet in it."""

    job_kind = "close_period"
    form_class = PayrollCloseSerializer


@_period_job_schema(PayrollInvoiceSerializer)
class PayrollInvoiceView(PeriodJobView):
    """Queue the invoicing of a period: one invoice per approved timesheet (PAY_RULES §7)."""

    job_kind = "issue_invoices"
    form_class = PayrollInvoiceSerializer


class JobViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    """A background job's status and progress: for whoever started it, finance and admins."""

    serializer_class = JobSerializer

    def get_queryset(self) -> QuerySet[Job]:
        return jobs_visible_to(self.actor).order_by("id")


def _invoice_action_schema(verb: str, body: type[serializers.Serializer]) -> Any:
    return extend_schema(
        request=body,
        responses={
            200: InvoiceSerializer,
            400: OpenApiResponse(description="Bad input, e.g. a missing reason or date."),
            403: OpenApiResponse(description=f"Only finance or an admin may {verb} an invoice."),
            404: OpenApiResponse(description="No such invoice for this caller."),
            409: OpenApiResponse(description="The invoice is not issued (already paid or void); why."),
        },
    )


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Issued invoices: never changed or deleted, only marked paid or void (PAY_RULES §7)."""

    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    read_roles = frozenset({Role.CONTRACTOR, Role.FINANCE, Role.ADMIN})
    write_roles = ADMIN_FINANCE  # so finance's PUT/PATCH/DELETE is a 405, not a 403
    action_roles = {"pay": ADMIN_FINANCE, "void": ADMIN_FINANCE, "payout": ADMIN_FINANCE}

    def get_queryset(self) -> QuerySet[Invoice]:
        return invoices_visible_to(self.actor).prefetch_related("lines").order_by("-year", "-sequence")

    @extend_schema(
        parameters=[OpenApiParameter("period", str, required=True, description="ISO week, e.g. 2026-W45.")],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"], url_path="payout")
    def payout(self, request: Request) -> HttpResponse:
        """The payout CSV of a period: one row per unpaid invoice, for the payments provider."""
        period = request.query_params.get("period", "")
        try:
            parse_period_key(period)
        except ValueError as error:
            raise ValidationError({"period": [str(error)]}) from error
        body = payout_csv(self.get_queryset().filter(period=period))
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payout-{period}.csv"'
        return response

    @_invoice_action_schema("pay", InvoicePaySerializer)
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: str | None = None) -> Response:
        """Mark an issued invoice paid on a date, with the payment's reference."""
        invoice = self.get_object()
        form = InvoicePaySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        invoice = invoice_pay(actor=self.actor, invoice=invoice, **form.validated_data)
        return self._show(invoice)

    @_invoice_action_schema("void", InvoiceVoidSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        """Void an issued, unpaid invoice with a reason; it keeps its number."""
        invoice = self.get_object()
        form = InvoiceVoidSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        invoice = invoice_void(actor=self.actor, invoice=invoice, reason=form.validated_data["reason"])
        return self._show(invoice)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The stored PDF: the same bytes on every download."
            ),
            404: OpenApiResponse(description="No such invoice for this caller."),
        },
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The invoice as a PDF (rendered and stored on first use if the task has not yet)."""
        invoice, content = invoice_pdf(invoice_id=self.get_object().pk)
        return HttpResponse(
            content,
            content_type="application/pdf",
            headers={"Content-Disposition": content_disposition_header(True, f"{invoice.number}.pdf")},
        )

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        """The PDF answers whatever Accept says (a client asking for application/pdf gets it)."""
        if self.action == "pdf":
            return JSONRenderer(), JSONRenderer.media_type  # for its errors; success is the PDF
        return super().perform_content_negotiation(request, force)

    def _show(self, invoice: Invoice) -> Response:
        fresh = self.get_queryset().get(pk=invoice.pk)
        return Response(self.get_serializer(fresh).data)
