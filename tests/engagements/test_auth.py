from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from psaas_portal.models import PortalSession as Session
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_lands_on_my_work(client, engineer_a):
    response = client.post(
        reverse("login"), {"username": engineer_a.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("engagements:my-work")


def test_wrong_password_is_a_clear_message(client, engineer_a):
    response = client.post(reverse("login"), {"username": engineer_a.username, "password": "wrong"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


@pytest.mark.parametrize(
    "name",
    [
        "engagements:my-work",
        "engagements:engagement-list",
        "engagements:portfolio",
        "raci:template-list",
    ],
)
def test_every_page_requires_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_out_is_a_post_and_ends_the_session(client_for, engineer_a):
    client = client_for(engineer_a)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("engagements:my-work")).status_code == 302


def test_sign_in_issues_a_new_session_id(client, engineer_a):
    before = client.session  # an anonymous session (as a visit that stored something has)
    before["seen"] = True
    before.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = before.session_key
    response = client.post(
        reverse("login"), {"username": engineer_a.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    after = response.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != before.session_key
    assert not Session.objects.filter(session_key=before.session_key).exists()
    # The id an attacker might have planted before sign-in opens nothing afterwards.
    planted = Client()
    planted.cookies[settings.SESSION_COOKIE_NAME] = before.session_key
    assert planted.get(reverse("engagements:my-work")).status_code == 302


def test_sign_out_deletes_the_session_and_is_post_only(client, engineer_a):
    client.post(reverse("login"), {"username": engineer_a.username, "password": PASSWORD})
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get(reverse("logout")).status_code == 405  # a link or an image cannot sign out
    assert Session.objects.filter(session_key=key).exists()
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()  # the old cookie, replayed: signed out
    replay.cookies[settings.SESSION_COOKIE_NAME] = key
    assert replay.get(reverse("engagements:my-work")).status_code == 302


def test_password_change(client_for, engineer_a):
    client = client_for(engineer_a)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-new-passphrase",
            "new_password2": "a-much-longer-new-passphrase",
        },
    )
    assert response.status_code == 302
    engineer_a.refresh_from_db()
    assert engineer_a.check_password("a-much-longer-new-passphrase")
