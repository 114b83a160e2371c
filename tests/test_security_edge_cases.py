"""Security edge cases of signing in, accounts and the production settings the other tests
do not reach: malformed token headers, tokens after a role
or password change, the Django admin's staff flags, the lockout behind the documented TLS
proxy, session fixation, cookie flags, and where generated files can be fetched."""

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import api_token
from tests.processes import run_python
from trainers.models import LabellingSession, Role, User, Worker

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # UserFactory's password
TOKEN_URL = "/api/v1/auth/token/"
SESSIONS_URL = "/api/v1/sessions/"
ENTRY = {"started_at": "2026-11-16T09:00:00-06:00", "ended_at": "2026-11-16T10:00:00-06:00"}


PRODUCTION = {
    "SECRET_KEY": "k3Jd9-q8Zx!vR2mW7pLt0sYb4NfHc6UeGa1oTiXwQz5EyBn_Vr",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "fairhour.example",
    "CSRF_TRUSTED_ORIGINS": "https://fairhour.example",
    "STATICFILES_STORAGE": "whitenoise.storage.CompressedManifestStaticFilesStorage",
}


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(reverse("trainers:sign-in"), {"username": username, "password": password}, **extra)


# --- malformed Authorization headers: DRF's token check answers each, and nothing is written


def _key(world: Any) -> str:
    return api_token(world.contractor_a)


SPACES = "Invalid token header. Token string should not contain spaces."
HEADERS = [
    pytest.param(lambda key: f"token {key}", 201, None, id="lowercase-scheme"),
    pytest.param(lambda key: f"TOKEN   {key}  ", 201, None, id="extra-spaces"),
    pytest.param(lambda key: f"Token {key} {key}", 401, SPACES, id="two-tokens"),
    pytest.param(lambda key: "Token", 401, "Invalid token header. No credentials provided.", id="no-key"),
    pytest.param(
        lambda key: f"Bearer {key}", 401, "Authentication credentials were not provided.", id="another-scheme"
    ),
    pytest.param(
        lambda key: f"Token {key}é",
        401,
        "Invalid token header. Token string should not contain invalid characters.",
        id="non-ascii",
    ),
    pytest.param(lambda key: f"Token {key[:-1]}", 401, "Invalid token.", id="one-character-short"),
    pytest.param(lambda key: f"Token {key.upper()}", 401, "Invalid token.", id="key-in-upper-case"),
    pytest.param(lambda key: f"Token {key}' OR '1'='1", 401, SPACES, id="sql-in-key"),
    pytest.param(lambda key: f"Token {key[:20]}\x00{key[21:]}", 401, "Invalid token.", id="nul-byte"),
]


@pytest.mark.parametrize(("header", "status", "detail"), HEADERS)
def test_a_malformed_token_header_gets_drfs_answer_and_writes_nothing(
    world, frozen_now, header, status, detail
):
    """DRF's token check decides (trainers.authentication): its status and words, never a 500."""
    # given
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header(_key(world)))
    body = {**ENTRY, "project": world.project_a.pk}
    before = LabellingSession.objects.count()
    # when
    response = client.post(SESSIONS_URL, body, format="json")
    # then
    assert response.status_code == status, response.content
    if status == 401:
        assert response.json() == {"detail": detail}
        assert response.headers["WWW-Authenticate"] == "Token"
        assert LabellingSession.objects.count() == before
    else:
        assert LabellingSession.objects.count() == before + 1


def test_a_token_in_the_query_string_is_never_read(world, frozen_now):
    """README "API": only `Authorization: Token` authenticates; a key in a URL would leak to logs."""
    key = _key(world)
    body = {**ENTRY, "project": world.project_a.pk}
    for query in (f"?token={key}", f"?auth_token={key}", f"?key={key}"):
        assert APIClient().get(f"/api/v1/me/{query}").status_code == 401
        assert APIClient().post(f"{SESSIONS_URL}{query}", body, format="json").status_code == 401
    assert not LabellingSession.objects.filter(worker=world.worker_a).exclude(pk=world.session_a.pk).exists()


# --- tokens after a role or password change -----------------------------------------------


def test_a_role_change_takes_effect_at_once_on_an_existing_token_and_web_session(world, frozen_now):
    """authentication.py: the token and user are read on every request, so a role change is immediate."""
    # given a contractor with a live token and a live web session
    api_client = APIClient()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {_key(world)}")
    web = Client()
    web.force_login(world.contractor_a)
    assert api_client.get("/api/v1/users/").status_code == 403
    # when an admin promotes them to admin, then demotes them to manager
    User.objects.filter(pk=world.contractor_a.pk).update(role=Role.ADMIN)
    as_admin = api_client.get("/api/v1/users/")
    User.objects.filter(pk=world.contractor_a.pk).update(role=Role.MANAGER)
    # then each request sees the role of that moment (a manual entry included)
    assert as_admin.status_code == 200
    assert api_client.get("/api/v1/users/").status_code == 403
    logged = api_client.post(SESSIONS_URL, {**ENTRY, "project": world.project_a.pk}, format="json")
    assert logged.status_code == 403
    assert web.get(reverse("trainers:sessions")).status_code == 403


def test_a_password_change_ends_the_old_token_as_it_ends_web_sessions(world):
    """LESSONS "Access" (token leaks): resetting a password must lock out whoever holds the old secret."""
    # given a token and a web session taken before the password change
    api_client = APIClient()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {_key(world)}")
    web = Client()
    assert sign_in(web, "contractor_a").status_code == 302
    # when an admin resets the password (the Django admin's "change password" form does this)
    user = User.objects.get(pk=world.contractor_a.pk)
    user.set_password("a-new-long-passphrase-42")
    user.save()
    # then the web session is over (Django's session hash) ...
    assert web.get(reverse("trainers:sessions")).status_code == 302
    # ... and so is the old token
    assert api_client.get("/api/v1/me/").status_code == 401


# --- users and staff flags ----------------------------------------------------------------


def test_no_api_sets_staff_or_superuser_flags(world, client_for):
    """users/: role is the only authority field; is_staff and is_superuser follow it and nothing else."""
    # when an admin sends the flags beside a contractor role
    response = client_for(world.admin).post(
        "/api/v1/users/",
        {
            "username": "sneaky",
            "password": "a-long-passphrase-77",
            "email": "s@example.com",
            "role": "contractor",
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
        },
        format="json",
    )
    # then they are ignored
    assert response.status_code == 201, response.content
    user = User.objects.get(username="sneaky")
    assert (user.role, user.is_staff, user.is_superuser, user.is_active) == ("contractor", False, False, True)
    # and finance cannot create an admin
    refused = client_for(world.finance).post(
        "/api/v1/users/",
        {"username": "boss", "password": "a-long-passphrase-77", "email": "", "role": "admin"},
        format="json",
    )
    assert refused.status_code == 403
    assert not User.objects.filter(username="boss").exists()


def _admin_change_form(user: User, **changes: Any) -> dict[str, Any]:
    """The Django admin's user change form as the page shows it, with `changes` made."""
    form = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "role": user.role,
        "_save": "Save",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value != ""}


def test_an_admin_demoted_in_the_django_admin_loses_the_django_admin(world):
    """services/people.py: is_staff and is_superuser are `role == admin`; a demotion must take them too."""
    # given a second admin, made through the API's rule
    second = User.objects.create_user("second_admin", password=PASSWORD, role=Role.ADMIN)
    User.objects.filter(pk=second.pk).update(is_staff=True, is_superuser=True)
    second.refresh_from_db()
    admin = Client()
    admin.force_login(world.admin)
    # when the first admin changes their role to contractor on the admin's change form
    response = admin.post(
        f"/admin/trainers/user/{second.pk}/change/", _admin_change_form(second, role=Role.CONTRACTOR)
    )
    assert response.status_code == 302, response.content[:2000]
    second.refresh_from_db()
    assert second.role == Role.CONTRACTOR
    # then the demoted user has no Django admin any more
    demoted = Client()
    demoted.force_login(second)
    assert demoted.get("/admin/trainers/user/").status_code == 302


def test_the_django_admin_cannot_move_a_worker_profile_to_another_user(world):
    """admin.py: the admin cannot go around worker_update's checks (the user link never changes)."""
    # given an admin on the worker's change form
    admin = Client()
    admin.force_login(world.admin)
    worker = world.worker_a
    form = {
        "user": str(world.manager_a.pk),
        "full_name": worker.full_name,
        "email": worker.email,
        "team": str(worker.team_id),
        "overtime_multiplier": "1.50",
        "tax_rate": "0",
        "is_active": "on",
        "_save": "Save",
    }
    # when
    response = admin.post(f"/admin/trainers/worker/{worker.pk}/change/", form)
    # then the link has not moved
    assert response.status_code in (200, 302, 403)
    assert Worker.objects.get(pk=worker.pk).user_id == world.contractor_a.pk


def test_a_worker_profile_never_moves_to_another_user_through_the_api(world, client_for):
    """services/people.py worker_update: the user link never changes (a contractor's pay to another)."""
    finance = client_for(world.finance)
    url = f"/api/v1/workers/{world.worker_a.pk}/"
    for body in ({"user": world.contractor_b.pk}, {"user": world.manager_a.pk}):
        response = finance.patch(url, body, format="json")
        assert response.status_code == 400, response.content
    assert Worker.objects.get(pk=world.worker_a.pk).user_id == world.contractor_a.pk
    # and a new profile cannot be made for someone who is not a contractor
    made = finance.post(
        "/api/v1/workers/",
        {"user": world.manager_a.pk, "full_name": "M", "email": "m@example.com", "time_zone": "UTC"},
        format="json",
    )
    assert made.status_code == 400
    assert not Worker.objects.filter(user=world.manager_a).exists()


def test_a_manager_cannot_make_themself_a_manager_of_another_team(world, client_for):
    """teams/: admin writes; a manager only reads their own teams."""
    manager = client_for(world.manager_a)
    url = f"/api/v1/teams/{world.team_b.pk}/"
    patched = manager.patch(url, {"managers": [world.manager_a.pk, world.manager_b.pk]}, format="json")
    own = manager.patch(
        f"/api/v1/teams/{world.team_a.pk}/",
        {"managers": [world.manager_a.pk, world.manager_b.pk]},
        format="json",
    )
    assert patched.status_code in (403, 404) and own.status_code == 403
    assert list(world.team_b.managers.all()) == [world.manager_b]
    assert list(world.team_a.managers.all()) == [world.manager_a]


# --- web sessions --------------------------------------------------------------------------


def test_signing_in_gives_a_new_session_key(world):
    """Session fixation: a key planted before sign-in must not be the signed-in session's key."""
    # given a browser holding a session key chosen before sign-in
    client = Client()
    client.get(reverse("trainers:sign-in"))
    session = client.session
    session["planted"] = "yes"
    session.save()
    planted = session.session_key
    # when
    assert sign_in(client, "contractor_a").status_code == 302
    # then
    assert client.session.session_key != planted
    assert client.session[SESSION_KEY] == str(world.contractor_a.pk)


def test_signing_out_ends_the_session_on_the_server(world):
    """Sign out (POST) deletes the session: a copied cookie no longer works afterwards."""
    client = Client()
    assert sign_in(client, "contractor_a").status_code == 302
    stolen = Client()  # another browser with a copy of the session cookie
    cookie = django_settings.SESSION_COOKIE_NAME
    stolen.cookies[cookie] = client.cookies[cookie].value
    assert stolen.get(reverse("trainers:sessions")).status_code == 200
    client.post(reverse("trainers:sign-out"))
    assert stolen.get(reverse("trainers:sessions")).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_web_and_api_failures_add_up_to_one_lockout(world):
    """docs/deployment.md (AXES_FAILURE_LIMIT): N failures for one username from one
    address lock it out, whichever door they used."""
    web = Client(REMOTE_ADDR="10.1.1.1")
    api_client = APIClient(REMOTE_ADDR="10.1.1.1")
    sign_in(web, "contractor_a", "wrong-1")
    api_client.post(TOKEN_URL, {"username": "contractor_a", "password": "wrong-2"}, format="json")
    sign_in(web, "contractor_a", "wrong-3")
    # then both doors are shut, even with the right password
    locked_api = api_client.post(TOKEN_URL, {"username": "contractor_a", "password": PASSWORD}, format="json")
    locked_web = sign_in(web, "contractor_a")
    assert locked_api.status_code == 429 and locked_api.json()["detail"].startswith("Too many")
    assert locked_web.status_code == 429 and b"Too many failed login attempts" in locked_web.content
    # and the admin's login too
    locked_admin = Client(REMOTE_ADDR="10.1.1.1").post(
        "/admin/login/", {"username": "contractor_a", "password": PASSWORD}
    )
    assert locked_admin.status_code == 429


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_lockout_does_not_end_tokens_already_issued(world):
    """A lockout guards the password, not tokens: an attacker guessing cannot cut a working client off."""
    api_client = APIClient()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {_key(world)}")
    for _ in range(4):
        APIClient().post(TOKEN_URL, {"username": "contractor_a", "password": "guess"}, format="json")
    assert api_client.get("/api/v1/me/").status_code == 200


@override_settings(AXES_FAILURE_LIMIT=3, TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_a_stranger_cannot_lock_a_user_out(world):
    """docs/deployment.md (behind a TLS proxy) and README "API": a lockout is per username and address."""
    proxy = "10.0.0.2"  # every request reaches gunicorn from the proxy
    attacker = APIClient(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")
    for _ in range(3):
        attacker.post(TOKEN_URL, {"username": "finance", "password": "guess"}, format="json")
    # when the real person signs in from their own address
    owner = APIClient(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    response = owner.post(TOKEN_URL, {"username": "finance", "password": PASSWORD}, format="json")
    # then
    assert response.status_code == 200, response.content
    assert AccessAttempt.objects.exists()


# --- production settings -------------------------------------------------------------------


def test_production_settings_default_to_debug_off_and_secure_cookies():
    """docs/deployment.md: DEBUG defaults to false; cookies are Secure, the session's HttpOnly."""
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SESSION_COOKIE_SAMESITE, s.X_FRAME_OPTIONS, s.SECURE_CONTENT_TYPE_NOSNIFF)"
    )
    env = {key: value for key, value in PRODUCTION.items() if key != "DEBUG"}
    result = run_python(code, **env)
    assert result.stdout.split() == ["False", "True", "True", "True", "Lax", "DENY", "True"], result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "",
        " ",
    ],
)
def test_a_blank_secret_key_is_refused_in_production(key):
    """ARCHITECTURE "Settings": production refuses to start without a secret key (a space is none)."""
    result = run_python("import django; django.setup()", **{**PRODUCTION, "SECRET_KEY": key})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@override_settings(
    ALLOWED_HOSTS=["fairhour.example"], SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
)
def test_behind_the_tls_proxy_the_apis_links_stay_on_https(world, client_for):
    """docs/deployment.md: gunicorn runs behind a TLS proxy, which says so in X-Forwarded-Proto."""
    client = client_for(world.finance)
    response = client.get(
        f"{SESSIONS_URL}?page_size=1", HTTP_HOST="fairhour.example", HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.status_code == 200
    assert response.json()["next"].startswith("https://fairhour.example/"), response.json()["next"]


def test_production_settings_pass_the_deploy_check():
    """docs/deployment.md: a production environment can pass `check --deploy`.

    docs/deployment.md documents the variables (HSTS for subdomains and the
    preload list are the domain owner's choice; a deploy that makes it passes).
    """
    result = run_python(
        "import sys, django; django.setup(); from django.core.management import call_command;"
        "call_command('check', deploy=True, fail_level='WARNING')",
        **PRODUCTION,
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
        SECURE_SSL_REDIRECT="true",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )
    assert result.returncode == 0, result.stderr[-2000:]


# --- files ----------------------------------------------------------------------------------


def test_generated_files_are_never_served_by_address(world, settings, tmp_path):
    """LESSONS "Access": invoices and exports only through their permission-checked endpoints."""
    # given files where Fairhour stores them
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "invoices").mkdir()
    (tmp_path / "invoices" / "FH-2026-000001.pdf").write_bytes(b"%PDF-1.7 secret")
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "export-1.csv").write_text("worker,amount\nA,100.00\n")
    client = Client()
    client.force_login(world.contractor_b)
    # when / then: no address serves them, signed in or not
    for path in (
        "/media/invoices/FH-2026-000001.pdf",
        "/invoices/FH-2026-000001.pdf",
        "/static/../media/exports/export-1.csv",
        "/exports/export-1.csv",
        "/media/exports/export-1.csv",
    ):
        for who in (client, Client()):
            response = who.get(path)
            assert response.status_code in (302, 404), (path, response.status_code)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert b"secret" not in body and b"100.00" not in body


def test_a_password_hash_upgrade_keeps_the_tokens(world):
    """Django rewrites an old hash on a successful check: that is no password change."""
    user = world.finance
    key = api_token(user)
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="md5"))
    user.refresh_from_db()
    with override_settings(
        PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "django.contrib.auth.hashers.MD5PasswordHasher",
        ]
    ):
        assert user.check_password(PASSWORD)
    api_client = APIClient()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/me/").status_code == 200


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_forwarded_address_that_is_not_one_is_ignored(world):
    """A garbage X-Forwarded-For (gunicorn reached directly) is the proxy's address, not a 500."""
    client = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip")
    response = client.post(TOKEN_URL, {"username": "finance", "password": "guess"}, format="json")
    assert response.status_code == 401
