"""One framework-light helper shared by the apps' permission modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Q

# Functions that read several of a person's facts at once (engagements.identity) and fill
# the cache below: registered by the apps, tried before a permission is read alone.
PRELOADERS: list[Callable[[Any], Any]] = []


def cache_of(user) -> dict:
    """Where facts about the user are kept for this request: the user object's own
    attributes, the same whether it is reached through request.user's lazy wrapper or not
    (the wrapper's attributes are its own)."""
    inner = user.__dict__.get("_wrapped")
    if inner is not None and hasattr(inner, "__dict__") and inner.__class__ is not object:
        return inner.__dict__
    return user.__dict__


def holds_permission(user, perm: str) -> bool:
    """Whether the user holds a global permission directly or through a group.

    Read from the permission tables rather than `user.has_perm`, which answers
    True for any superuser: the superuser flag is break-glass access to the
    Django admin, not a portal role. Cached on the user object per request.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    cache = cache_of(user).setdefault("_held_permissions", {})
    for preload in PRELOADERS:
        if perm in cache:
            break
        preload(user)
    if perm not in cache:
        app_label, codename = perm.split(".", 1)
        cache[perm] = Permission.objects.filter(
            Q(user=user) | Q(group__user=user), content_type__app_label=app_label, codename=codename
        ).exists()
    return cache[perm]
