"""The API's busiest request, a manual session entry, answered without DRF's per-request machinery.

`POST /api/v1/sessions/` is what contractors' tools send all day. Through DRF's view,
serializers and the ORM, one cost about ten times the CPU of a bare insert (README,
"Benchmarks"). SessionViewSet hands each create request here first. This takes only
the common request, whose answer it can give exactly as DRF would:

- an `Authorization: Token <key>` header, no query string, no Accept header other than
  `*/*` or `application/json`;
- a UTF-8 JSON object that SessionEntrySerializer accepts, with `project` a JSON integer;
- a token of an active contractor whose worker is assigned to that project: one query
  reads the token, the user, the worker and the project (trainers.authentication).

Then it calls the same service as the view (session_create) and answers with
SessionSerializer's fields (session_data) or the API's error mapping. Everything else,
returns None, and DRF serves the request from the start, with its own status and words: a
missing, unknown or revoked token, an inactive user, another role, another media type, a
malformed body or field, a project the caller may not see. Nothing is written before that
point, so the request is served once.
"""

from typing import Any, cast

from django.http import HttpRequest
from django.utils.cache import patch_vary_headers
from rest_framework.authentication import get_authorization_header
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from config.exceptions import api_exception_handler
from config.parsers import loads_strict
from trainers.authentication import caller_of_token
from trainers.errors import DomainError
from trainers.models import Role
from trainers.serializers import session_data, valid_entry
from trainers.services.sessions import session_create

JSON_ANSWERS = frozenset({"", "*/*", "application/json"})  # Accept headers DRF answers with plain JSON
LARGEST_ID = 2**63 - 1  # a bigint: larger ids cannot exist, and SQLite cannot take them as parameters
_RENDERER = JSONRenderer()


def quick_session_create(request: HttpRequest, headers: dict[str, str]) -> Response | None:
    """Log the session of a common request and answer it; None leaves the request to DRF."""
    key = _token_key(request)
    entry = _entry(request) if key else None
    if key is None or entry is None:
        return None
    project_id, fields = entry
    caller = caller_of_token(key, project_id=project_id)
    # As RoleAccess and the serializer decide: an active contractor with a worker profile,
    # assigned to the project (caller_of_token joins the project only then).
    if caller is None or caller.worker is None or caller.project is None:
        return None
    if not caller.user.is_active or caller.user.role != Role.CONTRACTOR:
        return None
    request.user = caller.user  # as DRF does, for the middleware after the view
    try:
        session = session_create(actor=caller.user, worker=caller.worker, project=caller.project, **fields)
    except DomainError as error:
        refusal = api_exception_handler(error, {"request": request})
        assert refusal is not None  # noqa: S101 - the mapping answers every domain error
        return _json(refusal.data, refusal.status_code, headers)
    return _json(session_data(session), 201, headers)


def _token_key(request: HttpRequest) -> str | None:
    """The key of a well-formed `Token` header on a plain request, else None (DRF decides)."""
    meta = request.META
    if meta.get("QUERY_STRING") or meta.get("HTTP_ACCEPT", "") not in JSON_ANSWERS:
        return None  # ?format= or another Accept header: DRF's content negotiation answers
    words = get_authorization_header(cast(Any, request)).split()  # it reads request.META only
    if len(words) != 2 or words[0].lower() != b"token":
        return None
    try:
        return words[1].decode()
    except UnicodeError:
        return None


def _entry(request: HttpRequest) -> tuple[int, dict[str, Any]] | None:
    """The project id and the valid fields of a JSON body, or None for anything DRF should judge."""
    params = request.content_params or {}
    if request.content_type != "application/json" or params.get("charset", "utf-8") != "utf-8":
        return None
    if set(params) - {"charset"}:
        return None
    try:
        body = loads_strict(request.body.decode())  # what DRF's parser would accept
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict):
        return None
    project_id = body.get("project")
    if type(project_id) is not int or not 0 < project_id <= LARGEST_ID:
        return None
    fields = valid_entry(body)
    return None if fields is None else (project_id, fields)


def _json(data: Any, status: int, headers: dict[str, str]) -> Response:
    """A DRF response rendered as JSON, with the headers DRF's view adds (Allow, Vary: Accept)."""
    headers = dict(headers)
    vary = headers.pop("Vary", None)
    response = Response(data, status=status, headers=headers)
    response.accepted_renderer = _RENDERER  # what DRF's content negotiation picks for these requests
    response.accepted_media_type = _RENDERER.media_type
    response.renderer_context = {}  # type: ignore[attr-defined] # set by DRF's view otherwise
    if vary:
        patch_vary_headers(response, [vary])
    return response
