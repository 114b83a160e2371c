"""Django admin for pay data; rate history is shown."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from payroll.models import Rate


@admin.register(Rate)
class RateAdmin(SimpleHistoryAdmin):
    list_display = ("worker", "project", "hourly_rate", "currency", "effective_from")
    list_filter = ("currency",)
    raw_id_fields = ("worker", "project")
