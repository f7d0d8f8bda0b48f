from __future__ import annotations

from typing import Any

from engagements import notifications
from engagements.models import (
    Engagement,
    EngagementTask,
    Event,
)


def record_event(
    engagement: Engagement,
    verb: str,
    *,
    actor=None,
    task: EngagementTask | None = None,
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Appends one event to the engagement's audit trail and writes the notifications it
    causes (the outbox), inside the caller's transaction; delivery starts after commit."""
    event = Event.objects.create(
        engagement=engagement,
        task=task,
        actor=actor,
        verb=verb,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )
    if task is not None:
        notifications.fan_out(event, task)
    return event
