"""The list endpoints' filter backend: django-filter's, with refusals that quote input safely."""

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class FilterBackend(DjangoFilterBackend):
    """Answer a bad filter with 400 naming it, whatever characters the client sent.

    django-filter's own translation runs `message % ()` over every message, and a message
    that quotes the input (`'%' is not an ISO week`) then raised a TypeError: a 500 for
    `?period=%`. Django's own reading of a form's errors formats only messages that have
    parameters, so every filter of every list is safe here, in one place.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            errors = filterset.errors.get_json_data()
            raise ValidationError(
                {name: [error["message"] for error in found] for name, found in errors.items()}
            )
        return filterset.qs
