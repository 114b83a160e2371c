"""Shared helpers of the web pages (both apps): role gates, domain errors, htmx replies.

The pages call the same services and selectors as the API, so a refusal reads the same
words in both: InvalidInput lands on the form's fields, Conflict and Forbidden become a
message, NotFound a 404.
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from trainers.models import User

PAGE_SIZE = 50
MAX_ID_DIGITS = 18  # a bigint's worth; longer cannot be a row id


def parse_id(raw: str) -> int | None:
    """A row id from a query or form value, or None: ASCII digits only ('²'.isdigit() is True)."""
    if raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS:
        return int(raw)
    return None


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Send anonymous visitors to sign in; refuse (403) a role the page does not list."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return _to_sign_in(request)
            if cast(User, request.user).role not in roles:
                raise PermissionDenied("Your role may not open this page.")
            return view(request, *args, **kwargs)

        return gated

    return decorate


def _to_sign_in(request: HttpRequest) -> HttpResponse:
    """The sign-in page, coming back here afterwards only if here answers a GET.

    A POST (a form sent after the session expired) is not repeated: coming back to its
    address would be a 405, so the person lands on their home page. An htmx request gets
    HX-Redirect, so the whole page goes to sign in rather than one card of it.
    """
    if request.method in ("GET", "HEAD"):
        target = redirect_to_login(request.get_full_path())
    else:
        target = redirect_to_login("/")
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(target["Location"])
    return target


def actor(request: HttpRequest) -> User:
    """The signed-in user of a page that role_required has already gated."""
    return cast(User, request.user)


# The API's field names that its messages mention, as a page says them: a page said "Must be
# after started_at" (issue 15). The API keeps its names; the CSV import's own column names
# stay too, as they are what a file's header holds.
PAGE_WORDS = {
    "started_at": "the start",
    "ended_at": "the end",
    "task_count": "the task count",
    "effective_from": "the start date",
    "hourly_rate": "the hourly rate",
    "task_rate": "the task rate",
    "minimum_hourly": "the fair-pay floor",
    "period_from": "the first week",
    "period_to": "the last week",
    "paid_on": "the payment date",
    "payment_reference": "the payment reference",
    "applies_to_period": "the week",
}
_API_NAMES = re.compile(r"\b(" + "|".join(PAGE_WORDS) + r")\b")


def in_plain_words(text: str) -> str:
    """A service's message with the API's field names replaced by the page's words."""
    return _API_NAMES.sub(lambda match: PAGE_WORDS[match.group(1)], text)


def form_errors_from(form: forms.Form, error: InvalidInput, aliases: dict[str, str] | None = None) -> None:
    """Put a service's field errors on the form, in plain words: unknown fields become form-wide errors."""
    aliases = aliases or {}
    for field, reasons in error.errors.items():
        name = aliases.get(field, field)
        for reason in reasons:
            text = in_plain_words(reason) if isinstance(reason, str) else _row_text(reason)
            form.add_error(name if name in form.fields else None, text)


@contextmanager
def refusals_shown(request: HttpRequest, form: forms.Form) -> Iterator[None]:
    """Run a service call: its InvalidInput lands on the form, any other refusal is a message.

    A refused call leaves the block and the page goes on (to show the form again).
    """
    try:
        yield
    except InvalidInput as error:
        form_errors_from(form, error)
    except DomainError as error:
        refusal_message(request, error)


def form_errors_as_messages(request: HttpRequest, form: forms.Form) -> None:
    """A form's errors as messages (as refusal_message words them), for a reply that redirects."""
    errors = {
        ("detail" if name == NON_FIELD_ERRORS else name): list(reasons)
        for name, reasons in form.errors.items()
    }
    refusal_message(request, InvalidInput(errors))


def _row_text(row: Any) -> str:
    if isinstance(row, dict) and "line" in row:
        reasons = "; ".join(f"{field}: {' '.join(texts)}" for field, texts in row.get("errors", {}).items())
        return f"Line {row['line']}: {reasons}"
    return str(row)


def refusal_message(request: HttpRequest, error: DomainError) -> None:
    """Show a refusal that has no form field as a message, in the API's words made plain."""
    if isinstance(error, NotFound):
        raise Http404(error.message)
    if isinstance(error, InvalidInput):
        for field, reasons in error.errors.items():
            for reason in reasons:
                said = in_plain_words(str(reason))
                label = in_plain_words(field).replace("_", " ")
                messages.error(
                    request,
                    f"{label[:1].upper()}{label[1:]}: {said}" if field not in ("detail", "note") else said,
                )
        return
    if isinstance(error, Conflict | Forbidden):
        messages.error(request, in_plain_words(error.message))
        return
    messages.error(request, in_plain_words(str(error)))


def safe_next(request: HttpRequest) -> str:
    """The ?next= (or posted next) address if it stays on this site, else ''."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return ""


def back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Redirect to ?next= (same site only) or to the fallback page."""
    target = safe_next(request)
    return HttpResponseRedirect(target) if target else redirect(fallback)


def with_messages(request: HttpRequest, html: str) -> HttpResponse:
    """An htmx fragment plus the pending messages, swapped out of band into the page."""
    oob = render_to_string("partials/messages.html", {"oob": True}, request=request)
    return HttpResponse(html + oob)


def paginate(request: HttpRequest, rows: Any) -> Page:
    """The ?page= page of a list or queryset, PAGE_SIZE rows each (a bad number shows the last)."""
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def field_errors(form: forms.Form, name: str) -> str:
    """A field's error messages as one sentence, for a message."""
    return " ".join(str(reason) for reason in form.errors.get(name, []))


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
