from __future__ import annotations

from django.core.paginator import Paginator

from engagements.choices import (
    Channel,
    Delivery,
)
from engagements.identity import identity
from engagements.models import (
    Notification,
    Profile,
)
from engagements.selectors.common import PAGE_SIZE


def unread_count(user) -> int:
    """The header's count: read with the viewer's other facts, once per request."""
    return identity(user).unread


def inbox(user, *, page: int | str = 1, unread_only: bool = False) -> dict:
    """Grouped by engagement, newest first in each (the page's template regroups them).
    Queries: the page count (1) and the page with its events, tasks and engagements (1)."""
    qs = Notification.objects.filter(recipient=user, channel=Channel.PORTAL).select_related(
        "event__actor", "task", "engagement__organization"
    )
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return {
        "page_obj": Paginator(
            qs.order_by("engagement__organization__name", "engagement__name", "-created_at", "-id"),
            PAGE_SIZE,
        ).get_page(page),
        "unread_only": unread_only,
    }


def preferences(user) -> dict:
    profile = Profile.objects.filter(user=user).first()
    return {
        "profile": profile,
        "email_choices": Delivery.choices,
        "portal_choices": [
            (Delivery.IMMEDIATE, Delivery.IMMEDIATE.label),
            (Delivery.OFF, Delivery.OFF.label),
        ],
    }
