"""The security headers of every answer: Content-Security-Policy (django-csp) and
Permissions-Policy (django-permissions-policy). tests/browser/test_csp.py checks that the
pages work under them."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _policy(response: Any) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(directive.strip().split(" ", 1) for directive in header.split(";"))


def test_pages_and_the_api_carry_the_content_security_and_permissions_policies(world, client_for):
    """No inline script or eval anywhere; no device or sensor for any page."""
    web = Client()
    web.force_login(world.contractor_a)
    for response in (
        Client().get(reverse("trainers:sign-in")),
        web.get(reverse("trainers:sessions")),
        client_for(world.contractor_a).get("/api/v1/me/"),
        Client().get("/api/docs/"),
    ):
        assert response.status_code == 200
        policy = _policy(response)
        assert policy["default-src"] == "'self'"
        assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == "'none'"
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        assert "'unsafe-inline'" not in policy["style-src"]
        features = response.headers["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
            assert feature in features


def test_only_the_api_docs_inline_script_runs_with_a_fresh_nonce():
    """The nonce is per response, and only a page that uses it names it."""
    docs = [Client().get("/api/docs/") for _ in range(2)]
    nonces = [_policy(response)["script-src"].split("'nonce-")[1].rstrip("'") for response in docs]
    assert nonces[0] != nonces[1]
    assert f'<script nonce="{nonces[1]}">' in docs[1].content.decode()
    assert "nonce-" not in _policy(Client().get(reverse("trainers:sign-in")))["script-src"]
