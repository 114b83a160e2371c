"""Shapes of the pay API."""

from decimal import Decimal
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.reverse import reverse

from core.periods import PERIOD_KEY_PATTERN, parse_period_key
from payroll.models import (
    MAX_ADJUSTMENT,
    MAX_HOURLY_RATE,
    Adjustment,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Job,
    JobStatus,
    LineKind,
    Rate,
    Timesheet,
    TimesheetEvent,
    TimesheetStatus,
)
from payroll.money import clock_hours, decimal_hours, rate_text
from payroll.selectors.timesheets import timesheet_figures
from trainers.models import Project, Worker
from trainers.selectors import projects_visible_to, workers_visible_to
from trainers.serializers import PlainDecimalField, caller


class RateField(PlainDecimalField):
    """An hourly rate: at least two decimals, never rounded (0.3477/min stays exact)."""

    def to_representation(self, value: Any) -> str:
        """Show 15 as "15.00" and 20.862 as "20.862"."""
        return rate_text(Decimal(value))


class RateSerializer(serializers.ModelSerializer):
    hourly_rate = RateField(
        max_digits=10, decimal_places=4, min_value=Decimal("0.0001"), max_value=MAX_HOURLY_RATE
    )
    project = serializers.PrimaryKeyRelatedField(
        queryset=Project.objects.none(), allow_null=True, default=None
    )

    class Meta:
        model = Rate
        fields = ["id", "worker", "project", "hourly_rate", "currency", "effective_from"]
        # One rate per scope and day is the service's rule, with a clearer message than
        # DRF's generated validator (which would also make `project` required).
        validators: list[Any] = []

    def get_fields(self) -> dict[str, Any]:
        """Offer only workers and projects the caller may see."""
        fields: dict[str, Any] = super().get_fields()
        fields["worker"].queryset = workers_visible_to(caller(self))
        fields["project"].queryset = projects_visible_to(caller(self))
        return fields


# Timesheets ---------------------------------------------------------------------------

MAX_NOTE_LENGTH = 2000
MAX_REASON_LENGTH = 2000
# The model's check constraint keeps adjustments strictly inside +/- MAX_ADJUSTMENT.
LARGEST_ADJUSTMENT = MAX_ADJUSTMENT - Decimal("0.01")


class MoneyField(PlainDecimalField):
    """An amount of money: a decimal string with two places, e.g. "61.29"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


class PeriodKeyField(serializers.RegexField):
    """An ISO week key such as 2026-W45 (a real week, years 2000-2999)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 8)
        kwargs.setdefault("help_text", "ISO week, e.g. 2026-W45.")
        kwargs.setdefault("error_messages", {"invalid": "Must be an ISO week such as 2026-W45."})
        super().__init__(PERIOD_KEY_PATTERN, **kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        """Check the shape first, then that the week exists."""
        value = super().run_validation(data)
        if value:
            if not value.isascii():  # `\d` also matches other scripts' digits
                self.fail("invalid")
            try:
                parse_period_key(value)
            except ValueError as error:
                raise serializers.ValidationError(str(error)) from error
        return value


class TimesheetStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=TimesheetStatus.choices, read_only=True, **kwargs)


class JobStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=JobStatus.choices, read_only=True, **kwargs)


class InvoiceStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=InvoiceStatus.choices, read_only=True, **kwargs)


class _NamedEnumExtension(OpenApiSerializerFieldExtension):
    """Publish a status as one named enum: timesheets and jobs both have a `status`."""

    enum_name = ""
    values: list[str] = []

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        """Refer to the named enum component, registering it on first use."""
        component = ResolvedComponent(
            name=self.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=self.enum_name,
            schema={"type": "string", "enum": self.values},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class TimesheetStatusFieldSchema(_NamedEnumExtension):
    target_class = TimesheetStatusField
    enum_name = "TimesheetStatusEnum"
    values = TimesheetStatus.values


class JobStatusFieldSchema(_NamedEnumExtension):
    target_class = JobStatusField
    enum_name = "JobStatusEnum"
    values = JobStatus.values


class InvoiceStatusFieldSchema(_NamedEnumExtension):
    target_class = InvoiceStatusField
    enum_name = "InvoiceStatusEnum"
    values = InvoiceStatus.values


class TimesheetLineSerializer(serializers.Serializer):
    """A line of a timesheet: (project, rate, kind) with its time and amount."""

    project = serializers.IntegerField(source="project_id")
    project_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=LineKind.choices)
    hourly_rate = RateField(max_digits=10, decimal_places=4)
    multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)
    seconds = serializers.IntegerField()
    duration = serializers.CharField(help_text="The time as h:mm:ss.")
    hours = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text="seconds / 3600 to two places (display only)."
    )
    amount = MoneyField()


class TimesheetAdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Adjustment
        fields = ["id", "amount", "currency", "reason", "created_by"]
        read_only_fields = fields


class ProblemSerializer(serializers.Serializer):
    """Something to look at before signing; blocking ones stop submit and approve."""

    code = serializers.CharField()
    blocking = serializers.BooleanField()
    message = serializers.CharField()
    session_ids = serializers.ListField(child=serializers.IntegerField())


class TimesheetEventSerializer(serializers.ModelSerializer):
    from_status = TimesheetStatusField()
    to_status = TimesheetStatusField()

    class Meta:
        model = TimesheetEvent
        fields = ["from_status", "to_status", "actor", "at", "note"]
        read_only_fields = fields


class TimesheetSerializer(serializers.ModelSerializer):
    """A timesheet with its figures: live while open or rejected, stored once submitted."""

    status = TimesheetStatusField()
    lines = serializers.SerializerMethodField()
    adjustments = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    problems = serializers.SerializerMethodField()
    events = TimesheetEventSerializer(many=True, read_only=True)

    class Meta:
        model = Timesheet
        fields = [
            "id",
            "worker",
            "period",
            "period_start",
            "period_end",
            "status",
            "lines",
            "adjustments",
            "total",
            "currency",
            "problems",
            "submitted_at",
            "decided_at",
            "decided_by",
            "decision_note",
            "events",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Timesheet) -> dict[str, Any]:
        """Figures once per timesheet, for the four fields that show them.

        A list view computes a whole page's figures at once and passes them as the
        `figures` context (timesheets_figures); a single timesheet computes its own.
        """
        figures = self.context.get("figures", {}).get(instance.pk)
        self._figures = figures or timesheet_figures(instance)
        return super().to_representation(instance)

    @extend_schema_field(TimesheetLineSerializer(many=True))
    def get_lines(self, timesheet: Timesheet) -> Any:
        return TimesheetLineSerializer(self._figures.lines, many=True).data

    @extend_schema_field(TimesheetAdjustmentSerializer(many=True))
    def get_adjustments(self, timesheet: Timesheet) -> Any:
        return TimesheetAdjustmentSerializer(self._figures.adjustments, many=True).data

    @extend_schema_field(MoneyField(help_text="Sum of the line amounts and adjustments."))
    def get_total(self, timesheet: Timesheet) -> str:
        return MoneyField().to_representation(self._figures.total)

    @extend_schema_field(ProblemSerializer(many=True))
    def get_problems(self, timesheet: Timesheet) -> Any:
        return ProblemSerializer(self._figures.problems, many=True).data


class TimesheetCreateSerializer(serializers.Serializer):
    worker = serializers.PrimaryKeyRelatedField(
        queryset=Worker.objects.none(),
        required=False,
        help_text="Finance and admins name the worker; a contractor's own is implied.",
    )
    period = PeriodKeyField()

    def get_fields(self) -> dict[str, Any]:
        """Offer only workers the caller may see."""
        fields: dict[str, Any] = super().get_fields()
        fields["worker"].queryset = workers_visible_to(caller(self))
        return fields


class TimesheetNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=MAX_NOTE_LENGTH, required=False, allow_blank=True, default="")


REJECT_NOTE_NEEDED = "A rejection needs a note saying what to fix."
REOPEN_NOTE_NEEDED = "Reopening needs a note saying why."


class TimesheetRejectSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=MAX_NOTE_LENGTH,
        error_messages={"required": REJECT_NOTE_NEEDED, "blank": REJECT_NOTE_NEEDED},
    )


class TimesheetReopenSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=MAX_NOTE_LENGTH,
        error_messages={"required": REOPEN_NOTE_NEEDED, "blank": REOPEN_NOTE_NEEDED},
    )


# Adjustments --------------------------------------------------------------------------


class AdjustmentSerializer(serializers.ModelSerializer):
    worker = serializers.PrimaryKeyRelatedField(queryset=Worker.objects.none())
    amount = MoneyField(
        max_digits=12,
        min_value=-LARGEST_ADJUSTMENT,
        max_value=LARGEST_ADJUSTMENT,
        help_text="Signed, non-zero; in the worker's contract currency.",
    )
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH)

    class Meta:
        model = Adjustment
        fields = [
            "id",
            "worker",
            "amount",
            "currency",
            "reason",
            "applies_to_period",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["applies_to_period", "created_by", "created_at"]

    def get_fields(self) -> dict[str, Any]:
        """Offer only workers the caller may see."""
        fields: dict[str, Any] = super().get_fields()
        fields["worker"].queryset = workers_visible_to(caller(self))
        return fields

    def validate_amount(self, value: Decimal) -> Decimal:
        """Refuse a zero correction."""
        if value == 0:
            raise serializers.ValidationError("An adjustment must not be zero.")
        return value


# Jobs ---------------------------------------------------------------------------------


class PayrollCloseSerializer(serializers.Serializer):
    period = PeriodKeyField()


class JobStartedSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text="Poll jobs/{id}/ for its progress.")


class JobSerializer(serializers.ModelSerializer):
    status = JobStatusField(help_text="queued, running, done or failed.")
    progress = serializers.IntegerField(min_value=0, max_value=100, read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "params",
            "status",
            "progress",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


# Invoices -----------------------------------------------------------------------------

MAX_PAYMENT_REFERENCE_LENGTH = 200  # Invoice.payment_reference
VOID_REASON_NEEDED = "Say why the invoice is void."


class InvoiceLineSerializer(serializers.ModelSerializer):
    """A copied timesheet line (time, rate, multiplier) or an adjustment (amount only)."""

    kind = serializers.CharField(read_only=True, help_text="regular, overtime or adjustment.")
    duration = serializers.SerializerMethodField(help_text="The time as h:mm:ss.")
    hours = serializers.SerializerMethodField(help_text="seconds / 3600 to two places (display only).")
    hourly_rate = RateField(max_digits=10, decimal_places=4, read_only=True, allow_null=True)
    multiplier = serializers.DecimalField(max_digits=4, decimal_places=2, read_only=True, allow_null=True)
    amount = MoneyField(read_only=True)

    class Meta:
        model = InvoiceLine
        fields = [
            "position",
            "description",
            "kind",
            "seconds",
            "duration",
            "hours",
            "hourly_rate",
            "multiplier",
            "amount",
        ]
        read_only_fields = fields

    def get_duration(self, line: InvoiceLine) -> str:
        return clock_hours(line.seconds)

    @extend_schema_field(
        serializers.DecimalField(max_digits=10, decimal_places=2, help_text="seconds / 3600 to two places.")
    )
    def get_hours(self, line: InvoiceLine) -> str:
        return f"{decimal_hours(line.seconds):f}"


class InvoiceCompanySerializer(serializers.Serializer):
    """The company billed, as it was at issue (settings COMPANY_*)."""

    name = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True, help_text="Lines separated by newlines.")
    tax_id = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)


class InvoiceContractorSerializer(serializers.Serializer):
    """The contractor who bills, as they were at issue."""

    worker = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)
    time_zone = serializers.CharField(read_only=True)
    team = serializers.CharField(read_only=True, help_text="The team's name, or empty.")
    currency = serializers.CharField(read_only=True)


class InvoiceSerializer(serializers.ModelSerializer):
    """An issued invoice (PAY_RULES §7): its figures never change, only paid/void do."""

    status = InvoiceStatusField(help_text="issued, paid or void.")
    lines = InvoiceLineSerializer(many=True, read_only=True)
    subtotal = MoneyField(read_only=True)
    tax_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, read_only=True, help_text="A fraction, e.g. 0.1900."
    )
    tax = MoneyField(read_only=True)
    total = MoneyField(read_only=True)
    company = InvoiceCompanySerializer(read_only=True)
    contractor = InvoiceContractorSerializer(read_only=True)
    pdf_url = serializers.SerializerMethodField(help_text="GET it for the invoice as a PDF.")

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "worker",
            "period",
            "issued_on",
            "due_on",
            "lines",
            "subtotal",
            "tax_rate",
            "tax",
            "total",
            "currency",
            "status",
            "paid_on",
            "payment_reference",
            "void_reason",
            "company",
            "contractor",
            "pdf_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf_url(self, invoice: Invoice) -> str:
        return reverse("invoice-pdf", args=[invoice.pk], request=self.context.get("request"))


class InvoicePaySerializer(serializers.Serializer):
    paid_on = serializers.DateField(help_text="The day the payment was made (not before issue).")
    payment_reference = serializers.CharField(max_length=MAX_PAYMENT_REFERENCE_LENGTH)


class InvoiceVoidSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=MAX_REASON_LENGTH,
        error_messages={"required": VOID_REASON_NEEDED, "blank": VOID_REASON_NEEDED},
    )


class PayrollInvoiceSerializer(serializers.Serializer):
    period = PeriodKeyField()
