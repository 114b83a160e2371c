"""A person's own password: changing it, and the reset mail (the web pages and the API share these)."""

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from knox.models import AuthToken

from core.errors import InvalidInput
from trainers.models import User

RESET_SUBJECT_TEMPLATE = "trainers/emails/password_reset_subject.txt"
RESET_BODY_TEMPLATE = "trainers/emails/password_reset.txt"


def reset_email_context() -> dict[str, str]:
    """The reset mail links to SITE_URL, never to the Host of the request that asked for it
    (an attacker's Host header would otherwise put their own site in the link)."""
    return {"site_url": settings.SITE_URL}


def password_change(user: User, new_password: str, *, keep: AuthToken | None = None) -> None:
    """Set a new password (Django's validators apply); every API token ends but `keep`.

    User.save ends all the user's tokens; the one the change came with stays signed in,
    as Django keeps the web session that changed it (update_session_auth_hash).
    """
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise InvalidInput({"new_password": list(error.messages)}) from error
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        if keep is not None:
            AuthToken.objects.bulk_create([keep])


def password_reset_send(email: str, request: HttpRequest) -> None:
    """Mail a reset link to each active account with this address; nothing tells whether one exists."""
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(
            request=request,
            subject_template_name=RESET_SUBJECT_TEMPLATE,
            email_template_name=RESET_BODY_TEMPLATE,
            extra_email_context=reset_email_context(),
        )
