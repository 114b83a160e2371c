"""Query-parameter filters of the pay endpoints."""

from django_filters import rest_framework as filters

from payroll.models import Rate
from trainers.filters import IdFilter


class RateFilter(filters.FilterSet):
    worker = IdFilter(field_name="worker_id")
    project = IdFilter(field_name="project_id")
    effective_from = filters.DateFilter()

    class Meta:
        model = Rate
        fields = ["worker", "project", "effective_from"]
