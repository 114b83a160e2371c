"""Refuse oversized request bodies with 413 before any view reads them."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

IMPORT_PATH_SUFFIX = "/import/"


class RequestBodyLimitMiddleware:
    """Reply 413 when Content-Length exceeds the limit for the path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = self._limit_for(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if length > limit:
            return JsonResponse({"detail": f"Request body is larger than {limit} bytes."}, status=413)
        return self.get_response(request)

    @staticmethod
    def _limit_for(path: str) -> int:
        if path.endswith(IMPORT_PATH_SUFFIX):
            return int(settings.MAX_IMPORT_BODY_BYTES)
        return int(settings.MAX_JSON_BODY_BYTES)
