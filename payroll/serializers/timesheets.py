"""Shapes of the timesheets API: a timesheet with its figures, its transitions, adjustments."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import IdField, JsonIdField, StrictBooleanField, StrictModelSerializer
from payroll.models import Adjustment, LineKind, Timesheet, TimesheetEvent
from payroll.selectors.timesheets import timesheet_figures
from payroll.serializers.fields import (
    LARGEST_ADJUSTMENT,
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    MoneyField,
    PeriodKeyField,
    RateField,
    TimesheetStatusField,
)
from payroll.services.bulk_approval import MAX_BULK_APPROVE, BulkApproval
from trainers.models import Activity, Worker
from trainers.selectors import workers_visible_to
from trainers.serializers import caller

REJECT_NOTE_NEEDED = "A rejection needs a note saying what to fix."
REOPEN_NOTE_NEEDED = "Reopening needs a note saying why."


class TimesheetLineSerializer(serializers.Serializer):
    """A line of a timesheet (PAY_RULES §4, §9, §10): time, tasks or the fair-pay top-up."""

    project = serializers.IntegerField(source="project_id", allow_null=True, help_text="None on a top-up.")
    project_name = serializers.CharField()
    activity = serializers.ChoiceField(
        choices=Activity.choices, allow_null=True, help_text="None on a top-up."
    )
    kind = serializers.ChoiceField(choices=LineKind.choices)
    rate = RateField(
        source="hourly_rate",
        max_digits=10,
        decimal_places=4,
        help_text="Per hour (regular, overtime), per task (tasks), the floor per hour (top_up).",
    )
    hourly_rate = RateField(
        max_digits=10, decimal_places=4, help_text="The same as `rate` (kept for older clients)."
    )
    multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)
    seconds = serializers.IntegerField(help_text="Time paid; on a top-up, all the week's time.")
    units = serializers.IntegerField(help_text="Tasks paid, on a tasks line; else 0.")
    description = serializers.CharField(help_text="The line in words, e.g. a top-up's floor and earnings.")
    duration = serializers.CharField(help_text="The time as h:mm:ss.")
    hours = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text="seconds / 3600 to two places (display only)."
    )
    amount = MoneyField()


class TimesheetAdjustmentSerializer(StrictModelSerializer):
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


class TimesheetEventSerializer(StrictModelSerializer):
    """A step of the timesheet's history; a timesheet lists them by `sequence` (1, 2, 3...)."""

    from_status = TimesheetStatusField()
    to_status = TimesheetStatusField()

    class Meta:
        model = TimesheetEvent
        fields = ["sequence", "from_status", "to_status", "actor", "at", "note"]
        read_only_fields = fields


class TimesheetSerializer(StrictModelSerializer):
    """A timesheet with its figures: live while open or rejected, stored once submitted."""

    status = TimesheetStatusField()
    lines = serializers.SerializerMethodField()
    adjustments = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    effective_hourly = serializers.SerializerMethodField()
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
            "effective_hourly",
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

    @extend_schema_field(
        serializers.DecimalField(
            max_digits=14,
            decimal_places=2,
            allow_null=True,
            help_text="The lines' total per hour worked (display only); null with no time.",
        )
    )
    def get_effective_hourly(self, timesheet: Timesheet) -> str | None:
        hourly = self._figures.effective_hourly
        return None if hourly is None else MoneyField().to_representation(hourly)

    @extend_schema_field(ProblemSerializer(many=True))
    def get_problems(self, timesheet: Timesheet) -> Any:
        return ProblemSerializer(self._figures.problems, many=True).data


class TimesheetCreateSerializer(serializers.Serializer):
    worker = IdField(
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


class TimesheetSubmitSerializer(serializers.Serializer):
    confirm = StrictBooleanField(
        default=False,
        help_text="Submit a week that is not over yet in the worker's zone, locking the rest of it.",
    )


class TimesheetBulkApproveSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=JsonIdField(),
        allow_empty=False,
        help_text=f"Timesheets to approve: at most {MAX_BULK_APPROVE} (the service's rule, a 400 beyond).",
    )


class SkippedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField(help_text="Why it was left as it was, in plain words.")


class BulkApprovalSerializer(serializers.Serializer):
    """What a bulk approval did: the ids approved, and the others with why."""

    approved = serializers.SerializerMethodField()
    skipped = SkippedSerializer(many=True)

    def get_approved(self, result: BulkApproval) -> list[int]:
        return [timesheet.pk for timesheet in result.approved]


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


class AdjustmentSerializer(StrictModelSerializer):
    worker = IdField(queryset=Worker.objects.none())
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
