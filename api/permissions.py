from __future__ import annotations

from rest_framework import permissions

from .models import ApiToken


class TokenScope(permissions.BasePermission):
    """Signed in (session or token); a read-only token only reads."""

    message = "This token is read-only; make a read-write token to change anything."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        auth = request.auth
        return not isinstance(auth, ApiToken) or auth.can_write
