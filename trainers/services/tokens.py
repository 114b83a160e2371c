"""API tokens (django-rest-knox): issued at sign-in, kept only as a SHA-512 digest, expiring.

The key is shown once, in the sign-in answer; the database holds its digest, so a copy of
the database signs nobody in. A token ends when it expires (REST_KNOX["TOKEN_TTL"] after
its last use: trainers.authentication refreshes it), when its holder signs it out, when
they sign out everywhere, or when their password changes (User.save).
"""

from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from trainers.models import User

# Live tokens one person may hold (a script that signs in on every run never signs out):
# past it, the oldest ends.
MAX_TOKENS_PER_USER = 20


def token_issue(user: User) -> tuple[AuthToken, str]:
    """A new token for `user` and its key (the only time the key exists outside the caller)."""
    with transaction.atomic():
        AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
        token, key = AuthToken.objects.create(user=user)
        surplus = AuthToken.objects.filter(user=user).order_by("-created", "-pk")[MAX_TOKENS_PER_USER:]
        AuthToken.objects.filter(pk__in=list(surplus.values_list("pk", flat=True))).delete()
    return token, key


def token_end(token: AuthToken) -> None:
    """Sign one token out."""
    AuthToken.objects.filter(pk=token.pk).delete()


def tokens_end(user: User) -> int:
    """Sign every token of `user` out; returns how many ended."""
    count, _ = AuthToken.objects.filter(user=user).delete()
    return count
