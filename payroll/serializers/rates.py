"""Shapes of the rates API."""

from decimal import Decimal
from typing import Any

from core.api.fields import IdField, StrictModelSerializer
from payroll.models import MAX_HOURLY_RATE, Rate
from payroll.serializers.fields import RateField
from trainers.models import Project
from trainers.selectors import projects_visible_to, workers_visible_to
from trainers.serializers import caller


class RateSerializer(StrictModelSerializer):
    hourly_rate = RateField(
        max_digits=10, decimal_places=4, min_value=Decimal("0.0001"), max_value=MAX_HOURLY_RATE
    )
    project = IdField(queryset=Project.objects.none(), allow_null=True, default=None)

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
