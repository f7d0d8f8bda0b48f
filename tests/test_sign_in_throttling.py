"""Sign-in throttling (django-axes, attempts in the database): after AXES_FAILURE_LIMIT failures
for a username or from an address, sign-in is refused with a 429 page, the right password
included and without computing a single password hash; the lockout is logged."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import RequestFactory
from django.urls import reverse

from psaas_portal import logs
from psaas_portal.security import client_ip
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


class CountingHasher(MD5PasswordHasher):
    """The tests' fast hasher, counting every hash it computes (checking a password computes
    one; so does Django's dummy hash for an unknown username)."""

    computed = 0

    def encode(self, password, salt):
        CountingHasher.computed += 1
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]  # same "md5" hashes verify
    CountingHasher.computed = 0
    return CountingHasher


def sign_in(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail_until_locked(client, username: str, limit: int, ip: str = "10.0.0.1") -> None:
    for i in range(limit - 1):
        response = sign_in(client, username, f"wrong-guess-{i}", ip)
        assert response.status_code == 200
        assert "did not match" in response.content.decode()
    assert sign_in(client, username, "wrong-guess-last", ip).status_code == 429


def test_after_the_limit_the_right_password_is_refused_and_no_password_is_hashed(
    client, engineer_a, settings, counting_hasher
):
    limit = settings.AXES_FAILURE_LIMIT
    fail_until_locked(client, engineer_a.username, limit)
    assert counting_hasher.computed == limit  # each failure before the lock checked one hash

    # 1,000 guesses would be 1,000 hashes without the lock; 50 right and 200 wrong here:
    for i in range(250):
        password = PASSWORD if i % 5 == 0 else f"guess-{i}"
        response = sign_in(client, engineer_a.username, password)
        assert response.status_code == 429
        assert not signed_in(client)
    assert counting_hasher.computed == limit


def test_the_lockout_page_is_a_clear_429_with_the_way_out(client, engineer_a, settings):
    fail_until_locked(client, engineer_a.username, settings.AXES_FAILURE_LIMIT)
    response = sign_in(client, engineer_a.username, PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Sign-in paused" in body
    assert f"paused for {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in body
    assert reverse("password_reset") in body
    assert "Traceback" not in body and PASSWORD not in body
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_username_is_locked_whatever_address_the_guesses_come_from(
    client, engineer_a, engineer_b, settings
):
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit):
        sign_in(client, engineer_a.username, "wrong-guess", ip=f"10.0.1.{i}")
    assert sign_in(client, engineer_a.username, PASSWORD, ip="10.0.2.1").status_code == 429
    assert sign_in(client, engineer_b.username, PASSWORD, ip="10.0.2.2").status_code == 302


def test_an_address_is_locked_whatever_usernames_it_tries(
    client, engineer_a, engineer_b, settings, counting_hasher
):
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit):
        sign_in(client, f"no-such-user-{i}", "wrong-guess", ip="10.0.3.1")
    assert counting_hasher.computed == limit  # Django's dummy hash for unknown usernames
    assert sign_in(client, engineer_a.username, PASSWORD, ip="10.0.3.1").status_code == 429
    assert counting_hasher.computed == limit
    assert sign_in(client, engineer_b.username, PASSWORD, ip="10.0.3.2").status_code == 302


def test_a_successful_sign_in_resets_the_count(client, engineer_a, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit - 1):
        sign_in(client, engineer_a.username, f"wrong-{i}")
    assert sign_in(client, engineer_a.username, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()
    client.post(reverse("logout"))
    for i in range(limit - 1):
        assert sign_in(client, engineer_a.username, f"wrong-again-{i}").status_code == 200
    assert sign_in(client, engineer_a.username, PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, engineer_a, settings):
    fail_until_locked(client, engineer_a.username, settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, engineer_a.username, PASSWORD).status_code == 429
    # The cool-off passes: the recorded failures are older than it.
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)
    )
    assert sign_in(client, engineer_a.username, PASSWORD).status_code == 302


def test_every_locked_attempt_is_logged_with_the_username_and_never_the_password(
    client, engineer_a, settings, caplog
):
    caplog.handler.addFilter(logs.ContextFilter())
    with caplog.at_level(logging.INFO):
        fail_until_locked(client, engineer_a.username, settings.AXES_FAILURE_LIMIT)
        sign_in(client, engineer_a.username, PASSWORD)
        sign_in(client, engineer_a.username, "another-guess-xyz")
    ours = [r for r in caplog.records if r.name == "psaas_portal.security"]
    assert len(ours) == 3  # the lock, then each refused attempt
    assert all(r.levelno == logging.WARNING for r in ours)
    assert all(f"username='{engineer_a.username}'" in r.getMessage() for r in ours)
    assert all("ip=10.0.0.1" in r.getMessage() for r in ours)
    axes_lines = [r.getMessage() for r in caplog.records if r.name.startswith("axes")]
    assert any("Locking out" in line and engineer_a.username in line for line in axes_lines)
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (PASSWORD, "wrong-guess", "another-guess-xyz"):
        assert secret not in text
    # Propagates to the root logger, where the console handler of LOGGING writes it.
    assert logging.getLogger("psaas_portal.security").isEnabledFor(logging.WARNING)
    assert any(type(h) is logging.StreamHandler for h in logging.getLogger().handlers)


def test_the_stored_attempts_mask_the_password_and_the_csrf_token(client, engineer_a):
    client.post(
        reverse("login"),
        {"username": engineer_a.username, "password": "wrong-guess", "csrfmiddlewaretoken": "t0k"},
    )
    attempt = AccessAttempt.objects.get()
    assert attempt.username == engineer_a.username
    assert "wrong-guess" not in attempt.post_data and "t0k" not in attempt.post_data


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "203.0.113.9", "192.0.2.1"),  # no proxy: the header is the client's claim
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the left entry is forgeable
        (2, "198.51.100.7, 203.0.113.9", "198.51.100.7"),
        (2, "203.0.113.9", "192.0.2.1"),  # fewer hops than proxies: not from our proxies
        (1, "", "192.0.2.1"),
    ],
)
def test_the_client_address_behind_trusted_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post(
        "/accounts/login/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded
    )
    assert client_ip(request) == expected


def test_the_test_client_signs_in_with_a_request_or_force_login(client, engineer_a):
    """Axes needs the request: `client.login(...)` alone raises; pass one, or use
    `force_login` as tests/conftest.py's client_for does."""
    from axes.exceptions import AxesBackendRequestParameterRequired
    from django.http import HttpRequest

    with pytest.raises(AxesBackendRequestParameterRequired):
        client.login(username=engineer_a.username, password=PASSWORD)
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "10.0.0.7"
    assert client.login(request=request, username=engineer_a.username, password=PASSWORD)
    assert client.get(reverse("engagements:my-work")).status_code == 200
