from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from engagements.selectors.notifications import unread_count

from . import permissions


def portal(request) -> dict:
    """Navigation flags for the base layout, computed only when a template asks."""
    user = request.user
    return {
        "is_vendor_staff": SimpleLazyObject(lambda: permissions.is_vendor_staff(user)),
        "is_portal_admin": SimpleLazyObject(lambda: permissions.is_portal_admin(user)),
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
    }
