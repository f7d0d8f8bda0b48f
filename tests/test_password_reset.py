"""Password reset by email: the link arrives, works once, demands a good password, ends the
old sessions, and lifts a sign-in lockout so the owner of the account can recover."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.conftest import register_secret
from tests.factories import PASSWORD
from tests.integration.conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset_task_runs_here():
    """The reset email is sent by a task after the page answered; here it runs in-process."""
    from psaas_portal.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


NEW_PASSWORD = "a-fresh-reset-passphrase-2026"
LINK = re.compile(r"https?://[^\s\"<>]+/accounts/reset/[^\s\"<>]+/")


def ask_for_link(client, email: str, ip: str = "10.0.0.1") -> str:
    response = client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    return response


def link_in(message) -> str:
    link = LINK.search(message.body).group(0)
    register_secret(link.rstrip("/").rsplit("/", 1)[1], "reset token")
    return link


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def set_password(client, link: str, password: str, ip: str = "10.0.0.1"):
    """Follows the emailed link (Django moves the token out of the URL into the session),
    then posts the new password twice."""
    response = client.get(path_of(link), REMOTE_ADDR=ip)
    assert response.status_code == 302  # to …/set-password/, so the token is not in a Referer
    form_url = response["Location"]
    return client.post(
        form_url, {"new_password1": password, "new_password2": password}, REMOTE_ADDR=ip
    )


def test_the_login_page_offers_the_reset(client):
    body = client.get(reverse("login")).content.decode()
    assert "Forgot your password?" in body
    assert reverse("password_reset") in body


def test_the_reset_email_is_sent_with_a_link_on_the_site_url(
    client, engineer_a, mailoutbox, settings
):
    ask_for_link(client, engineer_a.email)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [engineer_a.email]
    assert message.subject == "Reset your PSaaS Portal password"
    link = link_in(message)
    assert link.startswith(f"{settings.SITE_URL}/accounts/reset/")
    html = message.alternatives[0][0]
    assert link in html and engineer_a.username in message.body
    page = client.get(reverse("password_reset_done")).content.decode()
    assert "Check your email" in page


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, engineer_a, mailoutbox):
    ask_for_link(client, "nobody@example.com")
    assert mailoutbox == []


def test_a_malformed_address_is_a_clear_message(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "not an address"})
    assert response.status_code == 200
    assert "Please enter a valid email address." in response.content.decode()
    assert mailoutbox == []


def test_the_link_sets_a_password_that_meets_the_rules_and_works_once(
    client, engineer_a, mailoutbox
):
    ask_for_link(client, engineer_a.email)
    link = link_in(mailoutbox[0])

    for weak, rule in [
        ("short-pw", "too short"),
        ("123456789012345", "entirely numeric"),
        ("password1234", "too common"),
    ]:
        response = set_password(client, link, weak)
        assert response.status_code == 200
        assert rule in response.content.decode()
    mismatch = client.get(path_of(link))
    assert mismatch.status_code == 302
    response = client.post(
        mismatch["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"}
    )
    assert "The two password fields didn\u2019t match." in response.content.decode()
    engineer_a.refresh_from_db()
    assert engineer_a.check_password(PASSWORD)

    response = set_password(client, link, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    engineer_a.refresh_from_db()
    assert engineer_a.check_password(NEW_PASSWORD)

    again = Client().get(path_of(link), follow=True)
    assert "This link does not work" in again.content.decode()


def test_a_reset_ends_the_sessions_signed_in_with_the_old_password(
    client, client_for, engineer_a, mailoutbox
):
    signed_in_elsewhere = client_for(engineer_a)
    assert signed_in_elsewhere.get(reverse("engagements:my-work")).status_code == 200
    browser = Client()
    ask_for_link(browser, engineer_a.email)
    assert set_password(browser, link_in(mailoutbox[0]), NEW_PASSWORD).status_code == 302
    assert signed_in_elsewhere.get(reverse("engagements:my-work")).status_code == 302


def test_a_locked_out_user_recovers_through_the_reset_and_signs_in(
    client, engineer_a, mailoutbox, settings
):
    ip = "10.0.9.9"
    for i in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": engineer_a.username, "password": f"typo-{i}"},
            REMOTE_ADDR=ip,
        )
    locked = client.post(
        reverse("login"), {"username": engineer_a.username, "password": PASSWORD}, REMOTE_ADDR=ip
    )
    assert locked.status_code == 429

    ask_for_link(client, engineer_a.email, ip)
    response = set_password(client, link_in(mailoutbox[0]), NEW_PASSWORD, ip)
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=engineer_a.username).exists()
    assert not AccessAttempt.objects.filter(ip_address=ip).exists()

    response = client.post(
        reverse("login"),
        {"username": engineer_a.username, "password": NEW_PASSWORD},
        REMOTE_ADDR=ip,
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("engagements:my-work")
    assert client.get(reverse("engagements:my-work")).status_code == 200


def test_a_smtp_failure_still_answers_the_page_and_is_logged(client, engineer_a, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    # Nothing listens there: the connection is refused.
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    ask_for_link(client, engineer_a.email)
    assert any("could not send the password reset email" in r.getMessage() for r in caplog.records)


def test_the_reset_form_cannot_flood_a_mailbox(client, engineer_a, mailoutbox, settings, caplog):
    settings.RESET_EMAILS_PER_USER = 3
    for i in range(8):
        ask_for_link(client, engineer_a.email, ip=f"10.0.1.{i}")
    assert len(mailoutbox) == 3  # the page answered the same each time
    assert "limit reached" in caplog.text


def test_one_address_cannot_spray_the_reset_form(client, engineer_a, mailoutbox, settings):
    settings.RESET_REQUESTS_PER_IP = 4
    for _ in range(4):
        ask_for_link(client, "nobody@example.com", ip="10.0.2.1")
    ask_for_link(client, engineer_a.email, ip="10.0.2.1")
    assert mailoutbox == []
    ask_for_link(client, engineer_a.email, ip="10.0.2.2")
    assert len(mailoutbox) == 1


def test_known_and_unknown_addresses_take_the_same_path(
    client, engineer_a, mailoutbox, monkeypatch
):
    """Issue 17, item 8: the request does the same work for both (a per-address check and one
    published task, the same queries); the account lookup and the email happen in the task."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from psaas_portal import tasks

    published = []
    monkeypatch.setattr(tasks.send_password_reset, "delay", lambda *a: published.append(a))
    counts = []
    for i, email in enumerate([engineer_a.email, "nobody@example.com"]):
        with CaptureQueriesContext(connection) as queries:
            ask_for_link(client, email, ip=f"10.0.3.{i}")
        counts.append([q["sql"].split()[0] for q in queries.captured_queries])
    assert counts[0] == counts[1]
    assert mailoutbox == []  # before the fix: the known address was mailed inside the request
    assert [p[0] for p in published] == [engineer_a.email, "nobody@example.com"]
    tasks.send_password_reset(*published[0])
    tasks.send_password_reset(*published[1])
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [engineer_a.email]
