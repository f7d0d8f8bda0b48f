"""Who may edit RACI templates: holders of raci.change_templateversion (the "Portal admins" group)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from psaas_portal.auth import holds_permission

EDIT_TEMPLATES = "raci.change_templateversion"


def can_edit_templates(user) -> bool:
    return holds_permission(user, EDIT_TEMPLATES)


def require_template_editor(user) -> None:
    if not can_edit_templates(user):
        raise PermissionDenied("Only portal admins can see and edit RACI templates.")
