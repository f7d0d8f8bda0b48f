"""Template helpers: an event's words come from its declaration in engagements.events."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html
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


@register.filter
def person(user: Any) -> str:
    """A person's full name, their username only when they have none: `{{ x|person }}`."""
    return events.person(user)


@register.filter
def place(where: str) -> SafeString | str:
    """A meeting's place: a link when it is an http(s) address (nothing else becomes a link,
    so no javascript: or data: address is ever clickable), its text otherwise."""
    where = (where or "").strip()
    try:
        parts = urlsplit(where)
    except ValueError:
        return where
    if parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() for c in where):
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', where, where)
    return where
