"""Who is asking, behind the TLS proxy of docs/deployment.md ("Production"),
and how many failed logins their address has: django-axes' wiring."""

import ipaddress
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, for axes' lockouts (per username and address).

    Behind TRUSTED_PROXY_COUNT proxies REMOTE_ADDR is the nearest proxy's, the same for
    everyone, so the address is read from X-Forwarded-For, counting from the right: each
    trusted proxy appends the address it saw, and whatever a client sends sits further left.
    """
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote
    return forwarded[-hops] if _is_address(forwarded[-hops]) else remote  # never a 500 on garbage


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class AddressLimitedHandler(AxesDatabaseHandler):
    """axes' database handler, with a second, higher limit for an address alone.

    axes locks out a username at one address after AXES_FAILURE_LIMIT failures
    (AXES_LOCKOUT_PARAMETERS); a password spray tries many usernames once each, so this
    also counts every failure from the address, whatever the username, within the
    cool-off, and past AXES_ADDRESS_FAILURE_LIMIT the address is locked out for all. A
    success resets only its own username's count (AXES_RESET_ON_SUCCESS), so one account
    of the sprayer's own does not wipe the address's.
    """

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        """The username's failures at this address, or the limit itself once the address is past its own."""
        failures = super().get_failures(request, credentials)
        if address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures


def address_failures(request: Any) -> int:
    """Failed logins from the request's address within the cool-off, for every username."""
    attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
