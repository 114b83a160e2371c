"""Signing in: tokens, who am I, brute-force lockout, CSRF on cookie sessions."""

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import UserFactory, WorkerFactory
from trainers.models import Role

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"


def test_token_for_good_credentials_and_me(client_for):
    # given
    worker = WorkerFactory(user__username="carlos", time_zone="America/Chicago")
    client = APIClient()
    # when
    response = client.post(
        TOKEN_URL, {"username": "carlos", "password": "correct-horse-battery"}, format="json"
    )
    # then the token works and /me describes the caller
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    me = client.get("/api/v1/me/").json()
    assert me == {
        "id": worker.user.pk,
        "username": "carlos",
        "role": "contractor",
        "worker": worker.pk,
        "time_zone": "America/Chicago",
    }


def test_me_for_a_person_without_worker_profile(client_for):
    finance = UserFactory(role=Role.FINANCE)
    assert client_for(finance).get("/api/v1/me/").json()["worker"] is None


def test_bad_password_is_a_clear_401_and_no_token():
    UserFactory(username="dana")
    response = APIClient().post(TOKEN_URL, {"username": "dana", "password": "wrong"}, format="json")
    assert response.status_code == 401
    assert "credentials" in response.json()["detail"]


def test_missing_fields_are_400_by_field():
    response = APIClient().post(TOKEN_URL, {"username": "dana"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_inactive_user_gets_no_token():
    UserFactory(username="gone", is_active=False)
    response = APIClient().post(
        TOKEN_URL, {"username": "gone", "password": "correct-horse-battery"}, format="json"
    )
    assert response.status_code == 401


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_login_even_with_the_right_password():
    # given
    UserFactory(username="target")
    client = APIClient(REMOTE_ADDR="10.9.8.7")
    for _ in range(3):
        client.post(TOKEN_URL, {"username": "target", "password": "guess"}, format="json")
    # when the right password comes after the limit
    response = client.post(
        TOKEN_URL, {"username": "target", "password": "correct-horse-battery"}, format="json"
    )
    # then it is refused with 429 and the attempts are on record
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.json()["detail"]
    assert AccessAttempt.objects.filter(username="target").exists()


@override_settings(AXES_FAILURE_LIMIT=3)
def test_lockout_of_one_user_does_not_lock_another():
    UserFactory(username="target")
    UserFactory(username="bystander")
    client = APIClient()
    for _ in range(4):
        client.post(TOKEN_URL, {"username": "target", "password": "guess"}, format="json")
    response = client.post(
        TOKEN_URL, {"username": "bystander", "password": "correct-horse-battery"}, format="json"
    )
    assert response.status_code == 200


def test_anonymous_requests_are_401():
    assert APIClient().get("/api/v1/sessions/").status_code == 401
    assert APIClient().get("/api/v1/me/").status_code == 401


def test_cookie_session_writes_need_csrf(world, frozen_now):
    # given a browser-style session without a CSRF token
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.contractor_a)
    body = {
        "project": world.project_a.pk,
        "started_at": "2026-11-16T09:00:00-06:00",
        "ended_at": "2026-11-16T10:00:00-06:00",
    }
    # when / then: refused
    response = client.post("/api/v1/sessions/", body, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    # and reads still work
    assert client.get("/api/v1/sessions/").status_code == 200


def test_a_token_of_a_deactivated_user_or_an_unknown_token_is_refused(world, client_for):
    # given
    client = client_for(world.contractor_a)
    world.contractor_a.is_active = False
    world.contractor_a.save()
    # when / then
    assert client.get("/api/v1/me/").json() == {"detail": "User inactive or deleted."}
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get("/api/v1/me/")
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})


def test_a_token_with_a_nul_byte_is_unknown_not_a_500(world, client_for):
    # given a header a server let through with a NUL byte in the key (PostgreSQL cannot read it as text)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Token abc\x00def")
    # when
    response = client.get("/api/v1/me/")
    # then
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})


def test_the_token_check_reads_the_callers_worker_profile_with_the_token(world, client_for):
    # given
    client = client_for(world.contractor_a)
    # when
    with CaptureQueriesContext(connection) as queries:
        me = client.get("/api/v1/me/").json()
    # then: one query for the token, its user and their worker profile, which /me/ reuses
    assert me["worker"] == world.worker_a.pk
    assert len(queries) == 1, [query["sql"] for query in queries.captured_queries]


# --- the per-address limit: a password spray -----------------------------------------------


def spray(client: APIClient, count: int, *, start: int = 0) -> None:
    """One wrong guess for each of `count` usernames, from the client's one address (the
    guess that reaches a limit is itself answered 429, as axes locks out on it)."""
    for number in range(start, start + count - 1):
        response = client.post(
            TOKEN_URL, {"username": f"someone{number}", "password": "Summer2026!"}, format="json"
        )
        assert response.status_code == 401, (number, response.status_code)
    last = {"username": f"someone{start + count - 1}", "password": "Summer2026!"}
    assert client.post(TOKEN_URL, last, format="json").status_code in (401, 429)


def test_thirty_usernames_from_one_address_lock_that_address_out():
    # given a real user, and an address that has tried 30 other usernames once each
    UserFactory(username="dana")
    sprayer = APIClient(REMOTE_ADDR="203.0.113.9")
    spray(sprayer, 30)
    # when the right password for dana comes from that address, or any guess
    from_sprayer = sprayer.post(
        TOKEN_URL, {"username": "dana", "password": "correct-horse-battery"}, format="json"
    )
    web_page = Client(REMOTE_ADDR="203.0.113.9").post(
        reverse("trainers:sign-in"), {"username": "dana", "password": "correct-horse-battery"}
    )
    # then the address is locked out, on the API and the web sign-in alike; another address is not
    assert from_sprayer.status_code == 429
    assert web_page.status_code == 429
    elsewhere = APIClient(REMOTE_ADDR="198.51.100.4")
    assert (
        elsewhere.post(TOKEN_URL, {"username": "dana", "password": "correct-horse-battery"}).status_code
        == 200
    )


def test_an_address_below_its_limit_still_signs_in_and_a_success_clears_only_that_username():
    # given an address with 29 failures over 29 usernames, and one on dana's
    UserFactory(username="dana")
    sprayer = APIClient(REMOTE_ADDR="203.0.113.9")
    spray(sprayer, 28)
    guess = {"username": "dana", "password": "guess"}
    assert sprayer.post(TOKEN_URL, guess, format="json").status_code == 401
    # when it signs in to an account of its own on the web, it may (29 < 30) ...
    own = Client(REMOTE_ADDR="203.0.113.9").post(
        reverse("trainers:sign-in"), {"username": "dana", "password": "correct-horse-battery"}
    )
    assert own.status_code == 302
    assert not AccessAttempt.objects.filter(username="dana").exists()  # AXES_RESET_ON_SUCCESS
    # ... but that success cleared only dana's one failure: the other 28 stay, and two more lock it
    spray(sprayer, 2, start=28)
    again = sprayer.post(TOKEN_URL, {"username": "dana", "password": "correct-horse-battery"}, format="json")
    assert again.status_code == 429


@override_settings(AXES_ADDRESS_FAILURE_LIMIT=4)
def test_the_address_limit_is_a_setting():
    UserFactory(username="dana")
    sprayer = APIClient(REMOTE_ADDR="203.0.113.9")
    spray(sprayer, 4)
    response = sprayer.post(
        TOKEN_URL, {"username": "dana", "password": "correct-horse-battery"}, format="json"
    )
    assert response.status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_the_forwarded_address_is_the_one_counted():
    # given a spray through the TLS proxy (REMOTE_ADDR is the proxy's for everyone)
    UserFactory(username="dana")
    spray(APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9"), 30)
    # when / then: the sprayer's address is locked out, another client through the same proxy is not
    body = {"username": "dana", "password": "correct-horse-battery"}
    sprayer = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    other = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert sprayer.post(TOKEN_URL, body, format="json").status_code == 429
    assert other.post(TOKEN_URL, body, format="json").status_code == 200
