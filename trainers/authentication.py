"""API token authentication that reads the caller's worker profile in the same query."""

from hmac import compare_digest
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox import auth
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

INVALID = _("Invalid token.")


class TokenAuthentication(auth.TokenAuthentication):
    """knox's token check (`Authorization: Token <key>`, the key stored only as a digest).

    One query reads the token, its user and the user's worker profile, so `worker_of`
    needs no other; knox's own check also reads every other token of the user to delete
    the expired ones, which the sign-in does here instead (services.tokens.token_issue).
    The token is read on every request (no cache), so a signed-out token or a deactivated
    user stops working at once. Use pushes the expiry back (REST_KNOX["AUTO_REFRESH"]),
    written at most once per MIN_REFRESH_INTERVAL.
    """

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        """Return (user, token) for a live key; DRF's refusals and words otherwise."""
        try:
            key = token.decode("utf-8")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header. Token string should not contain invalid characters.")
            ) from error
        if "\x00" in key:  # PostgreSQL cannot take it as text (a 500); no token has one
            raise exceptions.AuthenticationFailed(INVALID)
        digest = hash_token(key)
        candidates = AuthToken.objects.select_related("user", "user__worker").filter(
            token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH]
        )
        for candidate in candidates:
            if compare_digest(digest, candidate.digest):
                return self._live(candidate)
        raise exceptions.AuthenticationFailed(INVALID)

    def _live(self, token: AuthToken) -> tuple[Any, AuthToken]:
        """The token's user, unless the token has expired (then it is deleted)."""
        if token.expiry is not None and token.expiry <= timezone.now():
            token.delete()
            raise exceptions.AuthenticationFailed(_("Token expired: sign in again."))
        if knox_settings.AUTO_REFRESH and token.expiry is not None:
            self.renew_token(token)
        return self.validate_user(token)


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's name and words for it: `tokenAuth`, `Authorization: Token <key>`."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> Any:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )
