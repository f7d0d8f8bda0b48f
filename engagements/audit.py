"""Appending to an engagement's audit trail: one Event row per change, and the
notifications it causes (the outbox), in the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from . import notifications
from .events import EventKind
from .models import Engagement, EngagementTask, Event

# Sent with `event` inside the transaction that records it: the cross-app hook the webhooks
# app uses to write its outbox rows in the same transaction (engagements never imports it).
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
    event_recorded.send(sender=Event, event=event)
    return event
