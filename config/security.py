"""Who is asking, behind the TLS proxy of the README's production notes ("Configuration")."""

import ipaddress

from django.conf import settings
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
