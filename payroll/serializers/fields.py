"""Fields and input limits shared by the pay API's shapes (the pages' forms use the limits too)."""

from decimal import Decimal
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers
from rest_framework.fields import empty

from core.periods import PERIOD_KEY_PATTERN, parse_period_key
from payroll.models import MAX_ADJUSTMENT, InvoiceStatus, JobStatus, TimesheetStatus
from payroll.money import rate_text
from trainers.serializers import PlainDecimalField

MAX_NOTE_LENGTH = 2000
MAX_REASON_LENGTH = 2000
MAX_PAYMENT_REFERENCE_LENGTH = 200  # Invoice.payment_reference
# The model's check constraint keeps adjustments strictly inside +/- MAX_ADJUSTMENT.
LARGEST_ADJUSTMENT = MAX_ADJUSTMENT - Decimal("0.01")


class RateField(PlainDecimalField):
    """An hourly rate: at least two decimals, never rounded (0.3477/min stays exact)."""

    def to_representation(self, value: Any) -> str:
        """Show 15 as "15.00" and 20.862 as "20.862"."""
        return rate_text(Decimal(value))


class MoneyField(PlainDecimalField):
    """An amount of money: a decimal string with two places, e.g. "61.29"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


class PeriodKeyField(serializers.RegexField):
    """An ISO week key such as 2026-W45 (a real week, years 2000-2999), with nothing around it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 8)
        kwargs.setdefault("trim_whitespace", False)  # " 2026-W49" is refused, not read as 2026-W49
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
