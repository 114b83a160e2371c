"""Content negotiation that also refuses, up front, a body the view cannot read (415)."""

from typing import Any

from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from core.api.parsers import SafeJSONParser, refuse_other_charsets


class StrictContentNegotiation(DefaultContentNegotiation):
    """Refuse a write whose body the view cannot parse before the view runs.

    DRF parses a body only when a view reads `request.data`, and reads form data with
    HTML's rules (an absent field is an empty list or false): a form-encoded PUT of a
    project's name cleared its workers. The API takes JSON (the import also CSV and
    multipart), so a write that carries a body, or names a content type, must name one
    of the view's parsers. This runs in every view's `initial()`, before authentication.
    """

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        if request.method not in SAFE_METHODS:
            refuse_unreadable_body(self, request)
        return super().select_renderer(request, renderers, format_suffix)


def refuse_unreadable_body(negotiation: DefaultContentNegotiation, request: Request) -> None:
    """415 naming what the view takes, when the request's content type is not among it."""
    content_type = request.content_type
    parsers = request.parsers or ()
    if not content_type and not _has_body(request):
        return
    parser = negotiation.select_parser(request, parsers) if content_type else None
    if isinstance(parser, SafeJSONParser):
        refuse_other_charsets(content_type)  # here too for the writes that never read their body
    if parser is not None:
        return
    accepted = ", ".join(parser.media_type for parser in parsers)
    named = f'"{content_type[:100]}"' if content_type else "a body without a Content-Type"
    raise UnsupportedMediaType(
        content_type or "", detail=f"This endpoint takes {accepted}; {named} is not one of them."
    )


def _has_body(request: Request) -> bool:
    meta = request.META
    return meta.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in meta
