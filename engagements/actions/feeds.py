from __future__ import annotations

import secrets

from django.utils import timezone

from engagements.cleaning import sha256_hex
from engagements.models import (
    CalendarFeed,
)


def rotate_calendar_feed(user) -> str:
    """A new private feed secret for the user (the old URL stops working); returns it once."""
    raw = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(user=user, defaults={"digest": sha256_hex(raw)})
    return raw


def revoke_calendar_feed(user) -> bool:
    return CalendarFeed.objects.filter(user=user).delete()[0] > 0


def feed_user(raw: str):
    if not raw or len(raw) > 200:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(digest=sha256_hex(raw)).first()
    if feed is None or not feed.user.is_active:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed.user
