"""Page-number pagination whose page and page size are checked with a 400, never clamped.

A `?page=` that is not a page number at all is bad input (400 naming `page`); a page
number past the last page stays DRF's 404 "Invalid page." (nothing there to see).
"""

from typing import Any

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

DEFAULT_PAGE_SIZE = 50


class CappedPageNumberPagination(PageNumberPagination):
    """`?page_size=` up to MAX_PAGE_SIZE and `?page=` a whole number from 1 (or `last`)."""

    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset: Any, request: Request, view: APIView | None = None) -> Any:
        """Refuse a `page` that is not a page number before DRF looks it up (it would 404)."""
        raw = request.query_params.get(self.page_query_param)
        if raw and raw not in self.last_page_strings and not _is_page_number(raw):  # empty: page 1
            raise ValidationError({self.page_query_param: ["Must be a whole number from 1, or 'last'."]})
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        """Return the requested page size, or the default; refuse invalid sizes."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size or DEFAULT_PAGE_SIZE
        cap = settings.MAX_PAGE_SIZE
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= cap:
            raise ValidationError({"page_size": [f"Must be a whole number from 1 to {cap}."]})
        return int(raw)


def _is_page_number(raw: str) -> bool:
    """ASCII digits, not all zeros (a number past the last page is DRF's 404, however long)."""
    return raw.isascii() and raw.isdigit() and bool(raw.strip("0"))
