"""Thin DRF views over the payroll services and selectors."""

from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets

from payroll.filters import RateFilter
from payroll.models import Rate
from payroll.selectors import rates as selectors
from payroll.serializers import RateSerializer
from payroll.services import rates as services
from trainers.api import ADMIN_FINANCE, ScopedViewSet
from trainers.models import Role


class RateViewSet(viewsets.ModelViewSet, ScopedViewSet):
    """Effective-dated hourly rates: finance and admins manage them; contractors read their own."""

    serializer_class = RateSerializer
    filterset_class = RateFilter
    read_roles = frozenset({Role.ADMIN, Role.FINANCE, Role.CONTRACTOR})
    write_roles = ADMIN_FINANCE

    def get_queryset(self) -> QuerySet[Rate]:
        return selectors.rates_visible_to(self.actor).order_by("id")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.rate_create(actor=self.actor, fields=serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.rate_update(
            actor=self.actor, rate=serializer.instance, changes=serializer.validated_data
        )

    def perform_destroy(self, instance: Rate) -> None:
        services.rate_delete(actor=self.actor, rate=instance)
