"""The API's sign-in: tokens (django-rest-knox), signing out, and a person's own password."""

from typing import Any, cast

from django.contrib.auth import authenticate, update_session_auth_hash
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput
from trainers.authentication import TokenAuthentication
from trainers.models import User
from trainers.serializers import (
    DetailSerializer,
    PasswordChangeSerializer,
    PasswordResetRequestSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from trainers.services import accounts, tokens

BAD_CREDENTIALS = "Unable to log in with these credentials."
WRONG_OLD_PASSWORD = "This is not your current password."  # noqa: S105 - a message
RESET_SENT = "If an account has this email, a link to reset its password is on its way."


class TokenView(APIView):
    """POST: a username and password for a new API token (brute-force protected); DELETE: sign it out."""

    def get_authenticators(self) -> list[Any]:
        """Signing in reads no credentials (a stale token must not stand in the way);
        signing out needs the token itself."""
        return [] if self._signing_in() else [TokenAuthentication()]

    def get_permissions(self) -> list[Any]:
        return [AllowAny()] if self._signing_in() else [IsAuthenticated()]

    def _signing_in(self) -> bool:
        # The schema generator asks with no request.
        return getattr(getattr(self, "request", None), "method", None) == "POST"

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer, auth=[])
    def post(self, request: Request) -> Response:
        """Return a new token and when it expires; django-axes counts failures and locks out."""
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # axes needs Django's own request to record the attempt and flag a lockout.
        user = authenticate(request=request._request, **form.validated_data)
        if user is None:
            return Response(
                {"detail": BAD_CREDENTIALS},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Token"},
            )
        token, key = tokens.token_issue(cast(User, user))
        return Response(TokenSerializer({"token": key, "expiry": token.expiry}).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        """Sign out the token this request came with."""
        tokens.token_end(cast(AuthToken, request.auth))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokensView(APIView):
    """DELETE: sign out every token of the caller (every device and script)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        tokens.tokens_end(cast(User, request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordView(APIView):
    """POST: change the caller's password; their other tokens end, this one stays."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        form = PasswordChangeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = cast(User, request.user)
        # Through authenticate(), so django-axes counts wrong guesses here too: a stolen
        # token must not be a way to try passwords until one takes the account.
        checked = authenticate(
            request=request._request,
            username=user.get_username(),
            password=form.validated_data["old_password"],
        )
        if checked is None or checked.pk != user.pk:
            raise InvalidInput({"old_password": [WRONG_OLD_PASSWORD]})
        keep = request.auth if isinstance(request.auth, AuthToken) else None
        accounts.password_change(user, form.validated_data["new_password"], keep=keep)
        if keep is None:  # a web session (the browsable API) stays signed in
            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(APIView):
    """POST an email: its accounts get a link to the web page that sets a new password."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(request=PasswordResetRequestSerializer, responses={202: DetailSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        """202 whether or not an account has the address, so the answer tells nobody which exist."""
        form = PasswordResetRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        accounts.password_reset_send(form.validated_data["email"], request._request)
        return Response({"detail": RESET_SENT}, status=status.HTTP_202_ACCEPTED)
