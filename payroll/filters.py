"""Query-parameter filters of the pay endpoints."""

from django_filters import rest_framework as filters

from payroll.models import Adjustment, Invoice, InvoiceStatus, Rate, Timesheet, TimesheetStatus
from trainers.filters import IdFilter, IsoDateFilter, PeriodFilter
from trainers.models import Activity


class RateFilter(filters.FilterSet):
    worker = IdFilter(field_name="worker_id")
    project = IdFilter(field_name="project_id")
    activity = filters.ChoiceFilter(choices=Activity.choices)
    effective_from = IsoDateFilter()

    class Meta:
        model = Rate
        fields = ["worker", "project", "activity", "effective_from"]


class TimesheetFilter(filters.FilterSet):
    worker = IdFilter(field_name="worker_id")
    period = PeriodFilter(help_text="ISO week in the worker's zone, e.g. 2026-W45.")
    status = filters.ChoiceFilter(choices=TimesheetStatus.choices)

    class Meta:
        model = Timesheet
        fields = ["worker", "period", "status"]


class AdjustmentFilter(filters.FilterSet):
    worker = IdFilter(field_name="worker_id")
    applies_to_period = PeriodFilter(help_text="The period the adjustment is paid in, e.g. 2026-W45.")

    class Meta:
        model = Adjustment
        fields = ["worker", "applies_to_period"]


class InvoiceFilter(filters.FilterSet):
    worker = IdFilter(field_name="worker_id")
    period = PeriodFilter(help_text="ISO week of the invoiced timesheet, e.g. 2026-W45.")
    status = filters.ChoiceFilter(choices=InvoiceStatus.choices)

    class Meta:
        model = Invoice
        fields = ["worker", "period", "status"]
