"""One framework-light helper shared by the apps' permission modules."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import Q


def holds_permission(user, perm: str) -> bool:
    """Whether the user holds a global permission directly or through a group.

    Read from the permission tables rather than `user.has_perm`, which answers
    True for any superuser: the superuser flag is break-glass access to the
    Django admin, not a portal role. Cached on the user object per request.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    cache = user.__dict__.setdefault("_held_permissions", {})
    if perm not in cache:
        app_label, codename = perm.split(".", 1)
        cache[perm] = Permission.objects.filter(
            Q(user=user) | Q(group__user=user), content_type__app_label=app_label, codename=codename
        ).exists()
    return cache[perm]
