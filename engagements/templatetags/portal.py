"""Template helpers: an event's words come from its declaration in engagements.events."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from engagements import events

register = template.Library()


@register.simple_tag
def event_title(event: Any, task: Any = None) -> str:
    """One line for an event: email subjects, the notification list, digests."""
    return events.title(event, task)


@register.simple_tag
def event_timeline(event: Any) -> SafeString:
    """The phrase after the actor's name on a timeline (HTML, values escaped)."""
    return events.timeline(event)


@register.simple_tag
def event_details(event: Any) -> list[tuple[str, str]]:
    """The reason, comment or note a person wrote with the change."""
    return events.details(event)
