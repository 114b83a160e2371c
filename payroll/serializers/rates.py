"""Shapes of the rates API."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from core.api.fields import IdField, StrictModelSerializer
from payroll.models import MAX_HOURLY_RATE, MAX_TASK_RATE, Rate
from payroll.serializers.fields import RateField
from trainers.models import Activity, Project
from trainers.selectors import projects_visible_to, workers_visible_to
from trainers.serializers import caller


class RateSerializer(StrictModelSerializer):
    """A rate per hour and optionally per task, scoped to the default, a project or an activity."""

    hourly_rate = RateField(
        max_digits=10,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=MAX_HOURLY_RATE,
        help_text="0.00 is a price (pure piece work), not a missing rate.",
    )
    task_rate = RateField(
        max_digits=10,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=MAX_TASK_RATE,
        allow_null=True,
        default=None,
        help_text="Paid per task on top of the hourly rate; null: tasks are not paid by the piece.",
    )
    project = IdField(queryset=Project.objects.none(), allow_null=True, default=None)
    activity = serializers.ChoiceField(
        choices=Activity.choices,
        allow_null=True,
        default=None,
        help_text="A non-production activity this rate prices (never with a project).",
    )

    class Meta:
        model = Rate
        fields = [
            "id",
            "worker",
            "project",
            "activity",
            "hourly_rate",
            "task_rate",
            "currency",
            "effective_from",
        ]
        # One rate per scope and day is the service's rule, with a clearer message than
        # DRF's generated validator (which would also make `project` required).
        validators: list[Any] = []

    def get_fields(self) -> dict[str, Any]:
        """Offer only workers and projects the caller may see."""
        fields: dict[str, Any] = super().get_fields()
        fields["worker"].queryset = workers_visible_to(caller(self))
        fields["project"].queryset = projects_visible_to(caller(self))
        return fields
