"""Django admin for pay data; rates and their history are shown, changed through the API."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from payroll.models import Rate
from trainers.admin import ReadOnlyAdminMixin


@admin.register(Rate)
class RateAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("worker", "project", "hourly_rate", "currency", "effective_from")
    list_filter = ("currency",)
    raw_id_fields = ("worker", "project")
