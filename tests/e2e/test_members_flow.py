"""Bringing people in, in a real browser: the CSE starts an engagement and invites an
engineer, the email arrives in an SMTP server on loopback, the engineer follows the link,
sets a password, turns on two-factor sign-in and sees only that engagement; the CSE
removes them and their next request is refused."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django.contrib.auth.models import Group, Permission
from django_otp.oath import totp
from playwright.sync_api import expect

from engagements import tasks
from engagements.models import Engagement, Membership
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.integration.conftest import SmtpServer, free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW = "nia.okafor@subscriber-a.example"
NEW_PASSWORD = "granite-lantern-orchard-77"


@pytest.fixture
def smtp_sink(settings, live_server, monkeypatch):
    """The portal's emails go to an SMTP server on loopback. The outbox task runs in the live
    server's thread right after commit, as a worker would run it (no broker in between: the
    integration tests cover the worker)."""
    server = SmtpServer(free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = (
        "127.0.0.1",
        server.port,
        False,
    )
    settings.SITE_URL = live_server.url
    monkeypatch.setattr(tasks.deliver_emails, "delay", tasks.deliver_emails)
    try:
        yield server
    finally:
        server.stop()


def test_cse_starts_an_engagement_invites_an_engineer_who_joins_then_is_removed(
    page, browser, live_server, smtp_sink, engagement_a, engagement_b, cse
):
    group, _ = Group.objects.get_or_create(name="Vendor managers")
    group.permissions.add(Permission.objects.get(codename="start_engagement"))
    cse.groups.add(group)
    sign_in(page, cse.username, PASSWORD)

    # The CSE starts an engagement for Subscriber A, seeing the due dates first.
    page.goto("/engagements/")
    page.get_by_role("link", name="Start an engagement").click()
    page.get_by_label("Subscriber", exact=True).select_option(label="Subscriber A")
    page.get_by_label("Engagement name").fill("Appliance A2")
    page.get_by_label("Production only").check()  # this subscriber runs no Development node
    page.get_by_role("button", name="Show due dates").click()
    expect(page.get_by_test_id("due-dates")).to_contain_text("Deployment")
    due_table = page.get_by_test_id("due-dates")
    expect(due_table.get_by_role("cell", name="Development", exact=True)).to_have_count(0)
    expect(due_table.get_by_role("cell", name="Production", exact=True)).to_have_count(3)
    # ...and moves one of them before starting.
    first_due = page.get_by_test_id("due-dates").locator("input[type=date]").first
    first_due.fill("2031-05-06")
    page.get_by_role("button", name="Start engagement").click()
    expect(page.get_by_role("heading", name="Appliance A2")).to_be_visible()
    started = Engagement.objects.get(name="Appliance A2")
    assert started.tasks.filter(due_date="2031-05-06").count() == 1
    assert started.environments == "production"
    expect(page.get_by_test_id("environments")).to_have_text("Production only")
    assert started.memberships.get().user == cse

    page.get_by_role("link", name="Members").click()
    invite = page.get_by_role("region", name="Invite someone")
    invite.get_by_label("Email address").fill(NEW)
    invite.get_by_role("radio", name="Subscriber").check()
    invite.get_by_label("subscriber's infrastructure engineer").check()
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to {NEW}.")).to_be_visible()
    expect(
        page.get_by_test_id(f"invitation-{NEW}").get_by_test_id("invitation-state")
    ).to_have_text("pending")

    message = wait_until(
        lambda: smtp_sink.recorder.messages and smtp_sink.recorder.messages[-1], 15, "the email"
    )
    assert message["To"] == NEW
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://\S+/accounts/invitation/\?token=\S+", body).group(0)
    assert link.startswith(live_server.url)

    # The engineer, in their own browser.
    engineer = browser.new_context(base_url=live_server.url)
    engineer.set_default_timeout(10_000)
    tab = engineer.new_page()
    tab.goto(link)
    expect(tab.get_by_role("heading", name="Join Appliance A2")).to_be_visible()
    tab.get_by_label("First name").fill("Nia")
    tab.get_by_label("Last name").fill("Okafor")
    tab.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    tab.get_by_label("Password again").fill(NEW_PASSWORD)
    tab.get_by_role("button", name="Create account and join").click()
    expect(tab.get_by_role("heading", name="Appliance A2")).to_be_visible()
    joined = Membership.objects.get(engagement=started, user__email=NEW)
    assert joined.role_titles == ["subscriber's infrastructure engineer"]
    # They turn on two-factor sign-in from their account page.
    tab.goto("/accounts/me/")
    tab.get_by_role("link", name="Set up two-factor sign-in").click()
    secret = tab.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    tab.get_by_label("Code from the app").fill(f"{totp(key):06d}")
    tab.get_by_role("button", name="Turn on").click()
    expect(tab.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    tab.get_by_role("link", name="Continue").click()

    tab.goto("/engagements/")
    expect(tab.get_by_role("link", name="Appliance A2")).to_be_visible()
    expect(tab.get_by_role("link", name="Appliance A", exact=True)).to_have_count(0)
    expect(tab.get_by_text("Appliance B")).to_have_count(0)
    for other in (engagement_a, engagement_b):
        assert tab.goto(f"/engagements/{other.pk}/").status == 404

    # The CSE sees the member and removes them.
    page.reload()
    expect(
        page.get_by_test_id(f"invitation-{NEW}").get_by_test_id("invitation-state")
    ).to_have_text("accepted")
    page.get_by_role("button", name="Remove Nia Okafor").click()
    expect(page.get_by_text("Nia Okafor removed.")).to_be_visible()

    # Their next request is refused: signed out (no engagement left), back at sign-in.
    tab.goto(f"/engagements/{started.pk}/")
    expect(tab).to_have_url(re.compile(r"/accounts/login/"))
    assert not Membership.objects.filter(engagement=started, user__email=NEW).exists()
    engineer.close()
