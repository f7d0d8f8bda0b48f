from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from engagements.choices import (
    Channel,
    Delivery,
)
from engagements.errors import DomainError
from engagements.models import (
    Notification,
    Profile,
)


def mark_read(user, notification_id: int) -> bool:
    """Marks one of the user's own portal notifications read; False if it is not theirs."""
    found = Notification.objects.filter(pk=notification_id, recipient=user, channel=Channel.PORTAL)
    if not found.exists():
        return False
    found.filter(read_at__isnull=True).update(read_at=timezone.now())
    return True


def mark_all_read(user) -> int:
    return Notification.objects.filter(
        recipient=user, channel=Channel.PORTAL, read_at__isnull=True
    ).update(read_at=timezone.now())


@transaction.atomic
def set_delivery_preferences(user, *, email: str, portal: str) -> Profile:
    if email not in Delivery.values or portal not in (Delivery.IMMEDIATE, Delivery.OFF):
        raise DomainError(
            "Choose immediately, daily digest or off for email, and immediately or off in the portal."
        )
    profile = Profile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        raise DomainError("Your account belongs to no organisation; ask an admin.")
    profile.email_delivery, profile.portal_delivery = email, portal
    profile.save(update_fields=["email_delivery", "portal_delivery"])
    return profile
