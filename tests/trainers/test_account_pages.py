"""The password pages: change it signed in, or reset it through a mailed link (Django's views)."""

import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import UserFactory, WorkerFactory, api_token

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # UserFactory's password
NEW_PASSWORD = "a-new-long-passphrase-42"
SITE = "https://fairhour.example"


def sign_in(client: Client, username: str, password: str) -> int:
    response = client.post(reverse("trainers:sign-in"), {"username": username, "password": password})
    return response.status_code


def token_works(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/me/").status_code == 200


def mailed_path() -> str:
    """The path of the one reset link mailed, checked to be on SITE_URL."""
    assert len(mail.outbox) == 1, [message.subject for message in mail.outbox]
    links = re.findall(r"https?://\S+", mail.outbox[0].body)
    assert len(links) == 1, mail.outbox[0].body
    assert links[0].startswith(f"{SITE}/password/reset/"), links[0]
    return links[0].removeprefix(SITE)


def test_the_sign_in_page_offers_a_reset_and_the_menu_a_change():
    user = WorkerFactory(user__username="dana").user
    page = Client().get(reverse("trainers:sign-in")).content.decode()
    assert f'href="{reverse("trainers:password-reset")}"' in page and "Forgot your password?" in page
    client = Client()
    client.force_login(user)
    home = client.get(reverse("trainers:sessions")).content.decode()
    assert f'href="{reverse("trainers:password-change")}"' in home and "Change password" in home


@override_settings(SITE_URL=SITE)
def test_a_mailed_link_sets_a_new_password_once_and_ends_the_tokens():
    # given dana with an API token, asking for a reset
    UserFactory(username="dana", email="dana@example.com")
    UserFactory(username="erin", email="erin@example.com")
    key = api_token(UserFactory._meta.model.objects.get(username="dana"))
    client = Client()
    asked = client.post(reverse("trainers:password-reset"), {"email": "dana@example.com"})
    assert asked.status_code == 302 and asked["Location"] == reverse("trainers:password-reset-sent")
    assert mail.outbox[0].to == ["dana@example.com"]
    assert mail.outbox[0].subject == "Reset your Fairhour password"
    # when she follows the link (Django swaps the token out of the address first) ...
    link = mailed_path()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    form_path = form_page.redirect_chain[-1][0]
    # ... a weak password is refused by the validators, then a good one is set
    weak = client.post(form_path, {"new_password1": "password", "new_password2": "password"})
    assert weak.status_code == 200 and weak.context["form"].errors["new_password2"]
    done = client.post(form_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    # then she signs in with it, not with the old one; her token ended; the link is spent
    assert done.status_code == 302 and done["Location"] == reverse("trainers:sign-in")
    assert sign_in(Client(), "dana", PASSWORD) == 200
    assert sign_in(Client(), "dana", NEW_PASSWORD) == 302
    assert not token_works(key)
    again = Client().get(link, follow=True)
    assert not again.context["validlink"]
    assert "This link no longer works" in again.content.decode()


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing():
    UserFactory(username="dana", email="dana@example.com")
    known = Client().post(reverse("trainers:password-reset"), {"email": "dana@example.com"})
    unknown = Client().post(reverse("trainers:password-reset"), {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    sent = Client().get(unknown["Location"]).content.decode()
    assert "If an account has this address" in sent


def test_a_forged_or_tampered_link_sets_nothing():
    user = UserFactory(username="dana", email="dana@example.com")
    Client().post(reverse("trainers:password-reset"), {"email": "dana@example.com"})
    uid = re.search(r"/password/reset/([^/]+)/", mail.outbox[0].body).group(1)
    for path in (
        reverse("trainers:password-reset-confirm", args=[uid, "set-password"]),
        reverse("trainers:password-reset-confirm", args=[uid, "cz1234-0123456789abcdef0123456789abcdef"]),
        reverse("trainers:password-reset-confirm", args=["MQ", "set-password"]),
        reverse("trainers:password-reset-confirm", args=["not-base64", "abc-123"]),
    ):
        page = Client().get(path, follow=True)
        assert page.status_code == 200 and not page.context["validlink"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_change_password_needs_the_old_one_keeps_the_session_and_ends_the_tokens():
    # given dana signed in on the web, with an API token
    user = WorkerFactory(user__username="dana").user
    key = api_token(user)
    client = Client()
    assert sign_in(client, "dana", PASSWORD) == 302
    url = reverse("trainers:password-change")
    new = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    # when the old password is wrong, nothing changes
    wrong = client.post(url, {"old_password": "nope", **new})
    assert wrong.status_code == 200 and wrong.context["form"].errors["old_password"]
    assert token_works(key)
    # when it is right
    done = client.post(url, {"old_password": PASSWORD, **new})
    # then this browser stays signed in, the token is over, and the new password signs in
    assert done.status_code == 302 and done["Location"] == reverse("trainers:home")
    assert client.get(reverse("trainers:sessions")).status_code == 200
    assert not token_works(key)
    assert sign_in(Client(), "dana", NEW_PASSWORD) == 302


def test_change_password_is_for_the_signed_in_only():
    response = Client().get(reverse("trainers:password-change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("trainers:sign-in"))
