"""Shapes of the period jobs (close, invoicing) and of a job's progress."""

from rest_framework import serializers

from core.api.fields import StrictModelSerializer
from payroll.models import Job
from payroll.serializers.fields import JobStatusField, PeriodKeyField


class PayrollCloseSerializer(serializers.Serializer):
    period = PeriodKeyField()


class PayrollInvoiceSerializer(serializers.Serializer):
    period = PeriodKeyField()


class JobStartedSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text="Poll jobs/{id}/ for its progress.")


class JobSerializer(StrictModelSerializer):
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
