"""API tokens (django-rest-knox): stored as digests, expiring, signed out one by one or all at once;
a person's own password through the API."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory, api_token
from trainers.models import User
from trainers.services.tokens import MAX_TOKENS_PER_USER

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # UserFactory's password
TOKEN_URL = "/api/v1/auth/token/"
TOKENS_URL = "/api/v1/auth/tokens/"
PASSWORD_URL = "/api/v1/auth/password/"
RESET_URL = "/api/v1/auth/password/reset/"
ME_URL = "/api/v1/me/"


def signed_in(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def sign_in(username: str, password: str = PASSWORD) -> dict:
    response = APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


# --- issuing -------------------------------------------------------------------------------


def test_a_token_is_kept_only_as_a_digest_and_expires_in_thirty_days():
    # given
    UserFactory(username="dana")
    # when
    body = sign_in("dana")
    # then the key is nowhere in the database, and the expiry is the default TTL
    key = body["token"]
    assert len(key) == 64
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest, token_key FROM knox_authtoken")
        rows = cursor.fetchall()
    assert len(rows) == 1
    digest, token_key = rows[0]
    assert key not in digest and len(token_key) < len(key)
    expiry = AuthToken.objects.get().expiry
    assert timedelta(days=30) - timedelta(minutes=1) < expiry - timezone.now() <= timedelta(days=30)
    assert body["expiry"] == expiry.isoformat().replace("+00:00", "Z")
    assert signed_in(key).get(ME_URL).json()["username"] == "dana"


def test_each_sign_in_is_a_token_of_its_own():
    UserFactory(username="dana")
    first, second = sign_in("dana")["token"], sign_in("dana")["token"]
    assert first != second
    assert signed_in(first).get(ME_URL).status_code == 200
    assert signed_in(second).get(ME_URL).status_code == 200


def test_signing_in_clears_expired_tokens_and_keeps_at_most_the_newest_twenty():
    # given a user with an expired token and a full set of live ones
    user = UserFactory(username="dana")
    expired = AuthToken.objects.create(user=user, expiry=timedelta(seconds=-1))[0]
    oldest_key = api_token(user)
    for _ in range(MAX_TOKENS_PER_USER - 1):
        api_token(user)
    # when the user signs in once more
    newest = sign_in("dana")["token"]
    # then the expired and the oldest live token are gone; the new one works
    assert not AuthToken.objects.filter(pk=expired.pk).exists()
    assert AuthToken.objects.filter(user=user).count() == MAX_TOKENS_PER_USER
    assert signed_in(oldest_key).get(ME_URL).status_code == 401
    assert signed_in(newest).get(ME_URL).status_code == 200


# --- expiry --------------------------------------------------------------------------------


def test_an_expired_token_is_refused_and_deleted():
    # given
    user = UserFactory()
    token, key = AuthToken.objects.create(user=user, expiry=timedelta(days=1))
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    # when
    response = signed_in(key).get(ME_URL)
    # then
    assert (response.status_code, response.json()) == (401, {"detail": "Token expired: sign in again."})
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_use_pushes_the_expiry_back_at_most_once_an_hour():
    # given a token last refreshed two hours ago
    user = UserFactory()
    token, key = AuthToken.objects.create(user=user)
    two_hours_ago = token.expiry - timedelta(hours=2)
    AuthToken.objects.filter(pk=token.pk).update(expiry=two_hours_ago)
    client = signed_in(key)
    # when it is used, then used again a moment later
    assert client.get(ME_URL).status_code == 200
    refreshed = AuthToken.objects.get(pk=token.pk).expiry
    assert client.get(ME_URL).status_code == 200
    # then the first use moved the expiry to a full TTL from now; the second wrote nothing new
    assert refreshed - two_hours_ago > timedelta(hours=1, minutes=59)
    assert AuthToken.objects.get(pk=token.pk).expiry == refreshed


@override_settings(REST_KNOX={"TOKEN_TTL": timedelta(days=2), "AUTH_HEADER_PREFIX": "Token"})
def test_the_ttl_is_a_setting():
    UserFactory(username="dana")
    sign_in("dana")
    remaining = AuthToken.objects.get().expiry - timezone.now()
    assert timedelta(days=2) - timedelta(minutes=1) < remaining <= timedelta(days=2)


# --- signing out ---------------------------------------------------------------------------


def test_delete_auth_token_signs_out_only_that_token():
    # given two tokens of one user
    UserFactory(username="dana")
    phone, laptop = sign_in("dana")["token"], sign_in("dana")["token"]
    # when the phone signs out
    response = signed_in(phone).delete(TOKEN_URL)
    # then the phone's token is over, the laptop's still works
    assert response.status_code == 204
    assert signed_in(phone).get(ME_URL).json() == {"detail": "Invalid token."}
    assert signed_in(laptop).get(ME_URL).status_code == 200
    assert signed_in(phone).delete(TOKEN_URL).status_code == 401


def test_delete_auth_token_needs_a_token(world):
    # neither anonymous nor a web session has a token to sign out
    assert APIClient().delete(TOKEN_URL).status_code == 401
    web = APIClient()
    web.force_login(world.contractor_a)
    assert web.delete(TOKEN_URL).status_code == 401


def test_delete_auth_tokens_signs_out_every_token_of_the_caller_only():
    # given two tokens of dana's and one of erin's
    UserFactory(username="dana")
    UserFactory(username="erin")
    phone, laptop = sign_in("dana")["token"], sign_in("dana")["token"]
    erins = sign_in("erin")["token"]
    # when dana signs out everywhere
    response = signed_in(laptop).delete(TOKENS_URL)
    # then
    assert response.status_code == 204
    assert signed_in(phone).get(ME_URL).status_code == 401
    assert signed_in(laptop).get(ME_URL).status_code == 401
    assert signed_in(erins).get(ME_URL).status_code == 200
    assert APIClient().delete(TOKENS_URL).status_code == 401


# --- the password through the API ----------------------------------------------------------


def test_a_password_change_keeps_this_token_and_ends_the_others():
    # given two tokens
    UserFactory(username="dana")
    this, other = sign_in("dana")["token"], sign_in("dana")["token"]
    # when
    response = signed_in(this).post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password": "a-new-long-passphrase-42"}, format="json"
    )
    # then
    assert response.status_code == 204, response.content
    assert signed_in(this).get(ME_URL).status_code == 200
    assert signed_in(other).get(ME_URL).status_code == 401
    sign_in("dana", "a-new-long-passphrase-42")
    old = APIClient().post(TOKEN_URL, {"username": "dana", "password": PASSWORD}, format="json")
    assert old.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"old_password": "not-it", "new_password": "a-new-long-passphrase-42"}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"old_password": PASSWORD, "new_password": "password123"}, "new_password"),
        ({"old_password": PASSWORD, "new_password": "12345678901234"}, "new_password"),
        ({"old_password": PASSWORD, "new_password": "dana@example.com"}, "new_password"),
        ({"old_password": PASSWORD}, "new_password"),
        ({"new_password": "a-new-long-passphrase-42"}, "old_password"),
    ],
)
def test_a_refused_password_change_names_the_field_and_changes_nothing(body, field):
    # given
    UserFactory(username="dana")
    key = sign_in("dana")["token"]
    other = sign_in("dana")["token"]
    # when
    response = signed_in(key).post(PASSWORD_URL, body, format="json")
    # then
    assert response.status_code == 400, response.content
    assert field in response.json() and response.json()[field]
    assert signed_in(other).get(ME_URL).status_code == 200
    sign_in("dana")


@override_settings(AXES_FAILURE_LIMIT=3)
def test_guessing_the_old_password_is_locked_out_like_a_sign_in():
    # given someone holding dana's token but not her password
    UserFactory(username="dana")
    thief = signed_in(sign_in("dana")["token"])
    for _ in range(3):
        thief.post(PASSWORD_URL, {"old_password": "guess", "new_password": "a-new-long-passphrase-42"})
    # when the right one comes after the limit
    response = thief.post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password": "a-new-long-passphrase-42"}, format="json"
    )
    # then it is refused and the password is unchanged
    assert response.status_code == 429
    assert User.objects.get(username="dana").check_password(PASSWORD)


def test_anonymous_password_change_is_401():
    body = {"old_password": PASSWORD, "new_password": "a-new-long-passphrase-42"}
    assert APIClient().post(PASSWORD_URL, body, format="json").status_code == 401


@override_settings(SITE_URL="https://fairhour.example", ALLOWED_HOSTS=["testserver", "other.example"])
def test_a_reset_request_is_202_whether_or_not_the_address_has_an_account():
    # given
    UserFactory(username="dana", email="dana@example.com")
    # when
    known = APIClient(HTTP_HOST="other.example").post(RESET_URL, {"email": "DANA@example.com"}, format="json")
    unknown = APIClient().post(RESET_URL, {"email": "nobody@example.com"}, format="json")
    # then both answers are the same; one mail went, to dana, linking to the site (not the Host sent)
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 202
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dana@example.com"]
    assert "https://fairhour.example/password/reset/" in mail.outbox[0].body
    assert "other.example" not in mail.outbox[0].body


@pytest.mark.parametrize("body", [{}, {"email": "not-an-address"}, {"email": ["a@example.com"]}])
def test_a_malformed_reset_request_is_400_by_field(body):
    response = APIClient().post(RESET_URL, body, format="json")
    assert response.status_code == 400
    assert "email" in response.json()
    assert mail.outbox == []
