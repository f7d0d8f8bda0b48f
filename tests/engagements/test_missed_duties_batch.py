"""Duties newly past grace are reported per sweep batch (engagements.actions.duties.
report_missed): the same queries for one miss as for several, each miss once, each with
its event and the vendor's and subscriber's notifications."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagements import reminders
from engagements.choices import DutyKind
from engagements.models import Event, Notification, StandingDuty

pytestmark = pytest.mark.django_db


def sweep(now) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as ctx:
        result = reminders.sweep_duties(now=now)
    return result, len(ctx.captured_queries)


def test_one_miss_and_two_cost_the_same_queries(engagement_a, engagement_b):
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    past_grace = now - dt.timedelta(days=3)
    backups = StandingDuty.objects.filter(kind=DutyKind.BACKUP)
    a = backups.get(engagement=engagement_a)
    b = backups.get(engagement=engagement_b)

    StandingDuty.objects.filter(pk=a.pk).update(due_at=past_grace)
    one, one_queries = sweep(now)
    assert one["missed"] == 1

    StandingDuty.objects.filter(pk=a.pk).update(due_at=past_grace - dt.timedelta(days=1))
    StandingDuty.objects.filter(pk=b.pk).update(due_at=past_grace)
    two, two_queries = sweep(now + dt.timedelta(days=1))
    assert two["missed"] == 2
    assert one_queries == two_queries, (one_queries, two_queries)

    # Once per missed due time: the same day again reports nothing.
    again, _ = sweep(now + dt.timedelta(days=1, hours=1))
    assert again["missed"] == 0
    events = Event.objects.filter(verb="duty.missed").order_by("pk")
    assert [(e.engagement_id, e.data["duty"]) for e in events] == [
        (engagement_a.pk, a.pk),
        (engagement_a.pk, a.pk),
        (engagement_b.pk, b.pk),
    ]
    for event in events:
        assert event.task.key == "backup" and event.task.engagement_id == event.engagement_id
        told = Notification.objects.filter(event=event)
        assert told.exists()
        assert {n.engagement_id for n in told} == {event.engagement_id}
        members = set(event.engagement.memberships.values_list("user_id", flat=True))
        assert set(told.values_list("recipient_id", flat=True)) <= members
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.missed_reported_for == a.due_at and b.missed_reported_for == b.due_at
