from __future__ import annotations

import pytest
from django.urls import reverse

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
