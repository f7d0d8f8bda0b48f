"""Events (the audit trail, by cursor) and notifications over the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.actions.tasks import add_comment, transition_task
from engagements.choices import Channel, TaskStatus
from engagements.models import Event, Notification
from tests.conftest import task_of

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"api:{name}", args=args)


def test_events_by_cursor_with_filters(as_user, engagement_a, engagement_b, engineer_a, cse):
    task = task_of(engagement_a, "monitoring")
    transition_task(task, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    for n in range(5):
        add_comment(task, actor=engineer_a, body=f"note {n}")
    caller = as_user(engineer_a)
    first = caller.get(url("event-list"), {"kind": "task.commented", "page_size": 3}).json()
    assert [e["kind"] for e in first["results"]] == ["task.commented"] * 3
    assert first["next"] and "cursor=" in first["next"]
    second = caller.client.get(first["next"]).json()
    ids = [e["id"] for e in first["results"] + second["results"]]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)
    assert not second["next"]
    everything = caller.get(url("event-list"), {"page_size": 500}).json()["results"]
    assert {e["engagement"] for e in everything} == {engagement_a.pk}  # not B's
    moved = next(e for e in everything if e["kind"] == "task.status_changed")
    assert moved["actor"] == "engineer-a" and moved["to_state"] == "in_progress"
    assert moved["title"]
    later = (timezone.now() + dt.timedelta(minutes=1)).isoformat()
    assert caller.get(url("event-list"), {"since": later}).json()["results"] == []
    assert len(caller.get(url("event-list"), {"until": later}).json()["results"]) > 0
    assert caller.get(url("event-list"), {"engagement": engagement_b.pk}).json()["results"] == []
    bad = caller.get(url("event-list"), {"kind": "made.up"})
    assert bad.status_code == 400 and "kind" in bad.json()["fields"]
    assert caller.get(url("event-list"), {"cursor": "garbage"}).status_code == 404
    foreign = Event.objects.filter(engagement=engagement_b).first()
    assert caller.get(url("event-detail", foreign.pk)).status_code == 404


def test_notifications_read_and_read_all(as_user, engagement_a, engineer_a, cse, engineer_b):
    task = task_of(engagement_a, "deployment", "development")
    transition_task(task, to=TaskStatus.IN_PROGRESS, actor=cse)
    transition_task(task, to=TaskStatus.BLOCKED, actor=cse, reason="waiting on VMs")
    mine = Notification.objects.filter(recipient=engineer_a, channel=Channel.PORTAL)
    assert mine.count() >= 1
    caller = as_user(engineer_a)
    listed = caller.get(url("notification-list"), {"unread": "true"}).json()
    assert listed["count"] == mine.count() and listed["results"][0]["title"]
    first = mine.first()
    response = caller.post(url("notification-read", first.pk))
    assert response.status_code == 200 and response.json()["read_at"]
    assert as_user(engineer_b).post(url("notification-read", first.pk)).status_code == 404
    response = caller.post(url("notification-read-all"))
    assert response.status_code == 200 and response.json() == {"marked": mine.count() - 1}
    assert caller.get(url("notification-list"), {"unread": "true"}).json()["count"] == 0
