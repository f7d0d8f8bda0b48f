"""Appending to an engagement's audit trail: one Event row per change, and the
notifications it causes (the outbox), in the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from . import notifications
from .events import EventKind
from .models import Engagement, EngagementTask, Event

# Sent with `events` (a list: one, or a batch recorded together) inside the transaction that
# records them: the cross-app hook the webhooks app uses to write its outbox rows in the
# same transaction (engagements never imports it).
event_recorded = Signal()


def record_event(
    engagement: Engagement,
    kind: EventKind,
    *,
    actor: Any = None,
    task: EngagementTask | None = None,
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Appends one event of a declared kind and writes the notifications it causes,
    inside the caller's transaction; delivery starts after commit."""
    event = Event.objects.create(
        engagement=engagement,
        task=task,
        actor=actor,
        verb=kind.verb,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )
    if task is not None or notifications.listed(event):
        notifications.fan_out(event, task)
    event_recorded.send(sender=Event, events=[event])
    return event


def record_events(
    kind: EventKind,
    items: list[tuple[EngagementTask, dict[str, Any]]],
    *,
    members: dict[int, list[notifications.MemberRow]],
    actor: Any = None,
) -> list[Event]:
    """Appends one event of a kind per (task, data) in one INSERT and writes the
    notifications they cause in one more (notifications.fan_out_many: the members of their
    engagements read by the caller), inside the caller's transaction."""
    created = Event.objects.bulk_create(
        [
            Event(
                engagement_id=task.engagement_id,
                task=task,
                actor=actor,
                verb=kind.verb,
                data=data,
            )
            for task, data in items
        ]
    )
    notifications.fan_out_many(
        [(event, task) for event, (task, _) in zip(created, items, strict=True)], members
    )
    event_recorded.send(sender=Event, events=created)
    return created
