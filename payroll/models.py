"""Money. Rates live here now; timesheets, adjustments and invoices follow."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from trainers.models import Project, Worker
from trainers.validators import validate_currency

MAX_HOURLY_RATE = Decimal("100000")


class Rate(models.Model):
    """An hourly rate from a local date on (PAY_RULES §3); project-scoped or the default.

    Rates are never rounded: four decimal places keep per-minute prices exact.
    """

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="rates")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="rates", null=True, blank=True
    )
    hourly_rate = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(MAX_HOURLY_RATE)],
    )
    currency = models.CharField(max_length=3, validators=[validate_currency])
    effective_from = models.DateField(help_text="Local date in the worker's time zone.")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["worker_id", "project_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "project", "effective_from"],
                condition=Q(project__isnull=False),
                name="rate_unique_project_scope_day",
            ),
            models.UniqueConstraint(
                fields=["worker", "effective_from"],
                condition=Q(project__isnull=True),
                name="rate_unique_default_scope_day",
            ),
            models.CheckConstraint(
                condition=Q(hourly_rate__gt=0) & Q(hourly_rate__lte=MAX_HOURLY_RATE),
                name="rate_hourly_rate_range",
            ),
        ]

    def __str__(self) -> str:
        scope = self.project.name if self.project else "default"
        return f"{self.hourly_rate} {self.currency}/h for {self.worker} ({scope}) from {self.effective_from}"
