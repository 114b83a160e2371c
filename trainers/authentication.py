"""API token authentication that reads the caller's worker profile in the same query."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check; the user's worker profile is joined in, so `worker_of` needs no query.

    The token is read on every request (no cache), so a deleted token or a deactivated
    user stops working at once.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        """Return (user, token) for a valid key; the same refusals and words as DRF's."""
        if "\x00" in key:  # PostgreSQL cannot take it as text (a 500); no token has one
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            token = Token.objects.select_related("user", "user__worker").get(key=key)
        except Token.DoesNotExist as error:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from error
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
