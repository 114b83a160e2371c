"""Django's error views (handler400/403/404/500): JSON under /api/, the site's pages elsewhere.

A URL the router does not match (an id of 19 digits, a mistyped path) never reaches DRF,
so Django answers it: these make that answer JSON for API clients. The HTML 404 page is
rendered here without `requires_csrf_token`, which Django's own view carries: that
decorator reads `request.POST`, and a POST with a boundary-less multipart body then
raised inside the error view (a 500 for any unknown URL).
"""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

API_PREFIX = "/api/"
DETAILS = {
    400: "Bad request.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    500: "Server error.",
}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(status: int) -> JsonResponse:
    return JsonResponse({"detail": DETAILS[status]}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _json(400) if _is_api(request) else defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _json(403) if _is_api(request) else defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _json(404) if _is_api(request) else render(request, "404.html", status=404)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return _json(500) if _is_api(request) else defaults.server_error(request)
