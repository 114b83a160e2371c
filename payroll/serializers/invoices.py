"""Shapes of the invoices API: an issued invoice, its lines and parties, paying and voiding."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from core.api.fields import IsoDateField, StrictModelSerializer
from payroll.models import Invoice, InvoiceLine
from payroll.money import clock_hours, decimal_hours
from payroll.serializers.fields import (
    MAX_PAYMENT_REFERENCE_LENGTH,
    MAX_REASON_LENGTH,
    InvoiceStatusField,
    MoneyField,
    RateField,
)
from trainers.models import User
from trainers.selectors import SEES_EVERYTHING, role_of
from trainers.serializers import caller

VOID_REASON_NEEDED = "Say why the invoice is void."


class InvoiceLineSerializer(StrictModelSerializer):
    """A copied timesheet line (time, rate, multiplier) or an adjustment (amount only)."""

    kind = serializers.CharField(read_only=True, help_text="regular, overtime, tasks, top_up or adjustment.")
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
            "units",
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


class InvoiceSerializer(StrictModelSerializer):
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
    paid_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        help_text="Who recorded the payment (finance and admins see it).",
    )
    voided_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="Who voided it (finance and admins see it)."
    )

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
            "paid_by",
            "paid_recorded_at",
            "void_reason",
            "voided_by",
            "voided_at",
            "company",
            "contractor",
            "pdf_url",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Invoice) -> dict[str, Any]:
        """Who recorded a payment or a void is finance's business: a contractor sees when, not who."""
        data: dict[str, Any] = super().to_representation(instance)
        if role_of(caller(self)) not in SEES_EVERYTHING:
            data["paid_by"] = data["voided_by"] = None
        return data

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf_url(self, invoice: Invoice) -> str:
        return reverse("invoice-pdf", args=[invoice.pk], request=self.context.get("request"))


class InvoicePaySerializer(serializers.Serializer):
    paid_on = IsoDateField(help_text="The day the payment was made (not before issue).")
    payment_reference = serializers.CharField(max_length=MAX_PAYMENT_REFERENCE_LENGTH)


class InvoiceVoidSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=MAX_REASON_LENGTH,
        error_messages={"required": VOID_REASON_NEEDED, "blank": VOID_REASON_NEEDED},
    )
