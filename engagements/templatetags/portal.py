from __future__ import annotations

from django import template

from engagements.choices import TaskStatus

register = template.Library()

_LABELS = dict(TaskStatus.choices)


@register.filter
def status_label(value: str) -> str:
    """ "in_progress" -> "in progress", for event lines."""
    return str(_LABELS.get(value, value)).lower()
