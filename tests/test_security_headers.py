"""Every response carries the security headers, and the CSP allows no inline script."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.actions.tasks import transition_task
from engagements.models import InfrastructureChecklist, Notification
from tests.conftest import task_of
from tests.test_isolation_walk import portal_patterns

pytestmark = pytest.mark.django_db


def assert_headers(response, where: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp, where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where


def test_every_url_pattern_answers_with_the_headers(
    client, engagement_a, engineer_a, cse, admin_user, template_version
):
    from engagements.choices import TaskStatus

    transition_task(
        task_of(engagement_a, "monitoring"), to=TaskStatus.IN_PROGRESS, actor=engineer_a
    )
    ids = {
        "engagement_id": engagement_a.pk,
        "task_id": task_of(engagement_a, "monitoring").pk,
        "checklist_id": InfrastructureChecklist.objects.filter(engagement=engagement_a).first().pk,
        "version_id": template_version.pk,
        "notification_id": Notification.objects.filter(recipient=cse, channel="portal").first().pk,
        # Operations objects: ids that exist nowhere still get their 404 with the headers.
        **dict.fromkeys(
            [
                *("cycle_id", "handover_id", "duty_id", "token_id", "issue_id"),
                *("membership_id", "invitation_id", "attachment_id"),
                *("endpoint_id", "delivery_id", "channel_id"),  # webhooks, chat channels
            ],
            999999,
        ),
        "pk": 999999,  # the API's routes (regular expressions: their groups name the ids)
        "action": "cancel",
        "uidb64": "MQ",  # the password reset link's parts (an invalid link is a page too)
        "token": "not-a-token",
        "slug": "customer",  # a single sign-on provider's short name (none configured: 404)
    }
    assert_headers(client.get(reverse("login")), "login, anonymous")
    client.force_login(admin_user)
    seen = 0
    for name, pattern in portal_patterns():
        url = reverse(name, kwargs={k: ids[k] for k in pattern.pattern.regex.groupindex})
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert_headers(response, f"{method.upper()} {url} ({name}) -> {response.status_code}")
            seen += 1
    assert seen >= 60
    assert_headers(client.get("/no-such-page/"), "404")


def test_passwords_are_hashed_with_argon2_in_production_settings():
    from django.conf import settings as django_settings

    from psaas_portal import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert django_settings.AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"] == {"min_length": 12}
