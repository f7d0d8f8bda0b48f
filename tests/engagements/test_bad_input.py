"""Edge cases: retired tasks, odd ids, redirects, messages once, outages that must not count."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements import tasks
from engagements.actions.tasks import transition_task
from engagements.actions.templates import apply_template_version
from engagements.choices import Channel, TaskStatus
from engagements.errors import NotAllowed
from engagements.models import Notification
from raci import services as raci_services
from tests.conftest import task_of

pytestmark = pytest.mark.django_db


def test_a_retired_task_is_read_only(
    client_for, engagement_a, engineer_a, cse, admin_user, template_version
):
    migration = task_of(engagement_a, "user_migration")
    transition_task(migration, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    draft = raci_services.start_draft(template_version, actor=admin_user)
    raci_services.remove_task(
        draft, task_id=draft.tasks.get(key="user_migration").pk, actor=admin_user
    )
    apply_template_version(
        engagement_a, raci_services.publish_version(draft, actor=admin_user), actor=cse
    )
    client = client_for(engineer_a)
    assert client.get(reverse("engagements:task-detail", args=[migration.pk])).status_code == 200
    migration.refresh_from_db()
    response = client.post(
        reverse("engagements:task-transition", args=[migration.pk]),
        {"to": "done", "revision": migration.revision},
    )
    assert response.status_code == 403
    with pytest.raises(NotAllowed, match="dropped by a newer template version"):
        transition_task(migration, to=TaskStatus.DONE, actor=engineer_a)


def test_a_not_applicable_task_that_becomes_mandatory_applies_again(
    engagement_a, engineer_a, cse, admin_user, template_version
):
    migration = task_of(engagement_a, "user_migration")
    transition_task(migration, to=TaskStatus.NOT_APPLICABLE, actor=engineer_a)
    draft = raci_services.start_draft(template_version, actor=admin_user)
    task = draft.tasks.get(key="user_migration")
    raci_services.update_task(draft, task_id=task.pk, actor=admin_user, is_optional=False)
    apply_template_version(
        engagement_a, raci_services.publish_version(draft, actor=admin_user), actor=cse
    )
    migration.refresh_from_db()
    assert (migration.status, migration.is_optional) == (TaskStatus.NOT_STARTED, False)
    assert migration.events.filter(data__via="template").exists()


@pytest.mark.parametrize("value", ["²", "-1", "1e3", "99999999999999999999", ""])
def test_odd_ids_are_refused_cleanly(client_for, admin_user, template_version, value):
    client = client_for(admin_user)
    draft = raci_services.start_draft(template_version, actor=admin_user)
    response = client.post(
        reverse("raci:toggle-letter", args=[draft.pk]),
        {"task": value, "party": value, "letter": "R"},
    )
    assert response.status_code == 400
    assert (
        client.get(
            reverse("engagements:portfolio") + f"?cse={value}&subscriber={value}"
        ).status_code
        == 200
    )
    assert client.get(reverse("raci:compare") + f"?a={value}&b={value}").status_code == 302
    offset = client.post(
        reverse("raci:update-task", args=[draft.pk]),
        {
            "task": draft.tasks.first().pk,
            "name": "X",
            "tracking": "once",
            "due_offset_days": value or "4000",
        },
    )
    assert offset.status_code == 400


def test_mark_read_redirects_only_to_our_own_pages(client_for, engagement_a, engineer_a, cse):
    transition_task(
        task_of(engagement_a, "monitoring"), to=TaskStatus.IN_PROGRESS, actor=engineer_a
    )
    note = Notification.objects.get(recipient=cse, channel=Channel.PORTAL)
    client = client_for(cse)
    url = reverse("engagements:notification-read", args=[note.pk])
    for target in ("foo", "https://evil.example/", "//evil.example/"):
        response = client.post(url, {"next": target})
        assert response.status_code == 302 and response["Location"] == reverse(
            "engagements:notifications"
        )
    assert client.post(url, {"next": "/engagements/"})["Location"] == "/engagements/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert client_for(engineer_a).post(url).status_code == 404  # not theirs


def test_a_message_is_shown_once_on_the_full_page(client_for, engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    response = client_for(engineer_a).post(
        reverse("engagements:task-transition", args=[task.pk]),
        {"to": "done", "revision": task.revision},
    )
    assert response.status_code == 400
    assert response.content.decode().count("cannot go from not started to done") == 1


def test_an_smtp_outage_does_not_use_up_attempts(engagement_a, engineer_a, settings):
    from tests.integration.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    transition_task(
        task_of(engagement_a, "monitoring"), to=TaskStatus.IN_PROGRESS, actor=engineer_a
    )
    pending = Notification.objects.filter(channel=Channel.EMAIL)
    for _ in range(settings.NOTIFY_MAX_ATTEMPTS + 2):
        with pytest.raises(tasks.RETRYABLE):
            tasks.deliver(tasks.claim(pending, 10))
    row = pending.get()
    assert (row.attempts, row.sent_at, row.claimed_at) == (0, None, None)
    assert "Connection refused" in row.last_error
