"""One mapping from domain errors to HTTP responses, shared by every API view."""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn domain and Django errors into DRF responses; let DRF do the rest."""
    response = _domain_error_response(exc)
    if response is not None:
        return response
    if isinstance(exc, RequestDataTooBig):
        return _too_large()
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return exception_handler(exc, context)


def _domain_error_response(exc: Exception) -> Response | None:
    if not isinstance(exc, DomainError):
        return None
    if isinstance(exc, InvalidInput):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    statuses = {
        Conflict: status.HTTP_409_CONFLICT,
        Forbidden: status.HTTP_403_FORBIDDEN,
        NotFound: status.HTTP_404_NOT_FOUND,
    }
    for kind, code in statuses.items():
        if isinstance(exc, kind):
            return Response({"detail": exc.message}, status=code)  # type: ignore[attr-defined]
    raise exceptions.APIException(str(exc))


def _too_large() -> Response:
    return Response(
        {"detail": "Request body is larger than this endpoint accepts."},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def login_lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Answer a locked-out login with 429: a page on the web sign-in, else a JSON reason (axes)."""
    if request.path == reverse("trainers:sign-in"):
        return render(request, "trainers/locked_out.html", status=status.HTTP_429_TOO_MANY_REQUESTS)
    return JsonResponse(
        {"detail": "Too many failed login attempts. Try again later."},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
    )
