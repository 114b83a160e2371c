"""Page-number pagination whose page size is capped with a 400, not silently clamped."""

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

DEFAULT_PAGE_SIZE = 50


class CappedPageNumberPagination(PageNumberPagination):
    """`?page_size=` up to MAX_PAGE_SIZE; anything else is refused, never clamped."""

    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        """Return the requested page size, or the default; refuse invalid sizes."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size or DEFAULT_PAGE_SIZE
        cap = settings.MAX_PAGE_SIZE
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= cap:
            raise ValidationError({"page_size": [f"Must be a whole number from 1 to {cap}."]})
        return int(raw)
