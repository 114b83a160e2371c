"""Content negotiation that also refuses, up front, a body the view cannot read (415)."""

from typing import Any

from django.utils.http import parse_header_parameters
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

# RFC 8259: JSON exchanged between systems is UTF-8. Another charset is a client's mistake.
UTF8_NAMES = frozenset({"utf-8", "utf8"})


class StrictContentNegotiation(DefaultContentNegotiation):
    """Refuse a write whose body the view cannot parse before the view runs.

    DRF parses a body only when a view reads `request.data`, and reads form data with
    HTML's rules (an absent field is an empty list or false): a form-encoded PUT of a
    project's name cleared its workers. The API takes JSON (the import also CSV and
    multipart), so a write that carries a body, or names a content type, must name one
    of the view's parsers, and JSON must be UTF-8. This runs in every view's `initial()`,
    before authentication, so it holds for actions that never read their body too.
    """

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        if request.method not in SAFE_METHODS:
            self.refuse_unreadable_body(request)
        return super().select_renderer(request, renderers, format_suffix)

    def refuse_unreadable_body(self, request: Request) -> None:
        """415 naming what the view takes, when the request's content type is not among it."""
        content_type, parsers = request.content_type, request.parsers or ()
        if not content_type and not _has_body(request):
            return
        chosen = self.select_parser(request, parsers) if content_type else None
        if chosen is None:
            accepted = ", ".join(parser.media_type for parser in parsers)
            named = f'"{content_type[:100]}"' if content_type else "a body without a Content-Type"
            raise UnsupportedMediaType(
                content_type or "", detail=f"This endpoint takes {accepted}; {named} is not one of them."
            )
        if isinstance(chosen, JSONParser):
            _refuse_other_charsets(content_type)


def _refuse_other_charsets(content_type: str) -> None:
    """415 for `application/json; charset=latin-1` or a charset that does not exist.

    Django ignores a charset it cannot look up and reads the body as UTF-8 anyway.
    """
    charset = parse_header_parameters(content_type)[1].get("charset")
    if charset is not None and charset.strip().lower() not in UTF8_NAMES:
        raise UnsupportedMediaType(
            content_type,
            detail=f"JSON bodies are UTF-8: send Content-Type: application/json, not charset={charset[:40]}.",
        )


def _has_body(request: Request) -> bool:
    meta = request.META
    return meta.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in meta
