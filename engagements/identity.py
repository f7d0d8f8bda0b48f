"""Who the signed-in person is in the portal, read once per request.

A page needs the same few facts about its viewer in several places: whether they are a
portal admin (visibility, the header's link), vendor staff (the portfolio), a template
editor (the RACI pages) and how many portal notifications they have not read (the
header). They are read in one query, the first time any is asked, and kept on the user
object, which Django loads afresh for every request. A change made later in the same
request (marking notifications read) answers with a redirect, so the cached count is
never shown after it.

The models are read through the app registry: this module sits under the models and the
querysets that use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from psaas_portal.auth import cache_of

PORTAL_ADMIN = "engagements.administer_portal"
EDIT_TEMPLATES = "raci.change_templateversion"
KEY = "_portal_identity"


@dataclass(frozen=True)
class Identity:
    portal_admin: bool = False
    template_editor: bool = False
    vendor_staff: bool = False
    unread: int = 0


NOBODY = Identity()


def _holds(perm: str) -> Exists:
    app_label, codename = perm.split(".", 1)
    permission = apps.get_model("auth", "Permission")
    return Exists(
        permission.objects.filter(
            Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk")),
            content_type__app_label=app_label,
            codename=codename,
        )
    )


def facts() -> dict[str, Any]:
    """The viewer's facts as expressions over a user row (OuterRef("pk") is the user): read
    with the user (identity below) or with the session (psaas_portal.signed_in)."""
    profile = apps.get_model("engagements", "Profile")
    notification = apps.get_model("engagements", "Notification")
    unread = (
        notification.objects.filter(recipient=OuterRef("pk"), channel="portal", read_at=None)
        .order_by()
        .values("recipient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return {
        "admin": _holds(PORTAL_ADMIN),
        "editor": _holds(EDIT_TEMPLATES),
        "vendor": Exists(profile.objects.filter(user=OuterRef("pk"), organization__kind="vendor")),
        "unread": Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
    }


def remember(user: Any, values: dict[str, Any]) -> Identity:
    """Keeps the facts read (`facts`' names) on the user object for this request."""
    admin, editor = bool(values.get("admin")), bool(values.get("editor"))
    known = Identity(admin, editor, admin or bool(values.get("vendor")), values.get("unread") or 0)
    cache_of(user)[KEY] = known
    # What psaas_portal.auth.holds_permission would read again: already known.
    held = cache_of(user).setdefault("_held_permissions", {})
    held.setdefault(PORTAL_ADMIN, admin)
    held.setdefault(EDIT_TEMPLATES, editor)
    return known


def identity(user: Any) -> Identity:
    """The viewer's portal facts (one query per request, none when they were read with the
    session; none for an anonymous visitor).

    Global permissions are read from the permission tables, not `user.has_perm`, which
    answers True for any superuser (see psaas_portal.auth)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOBODY
    known = cache_of(user).get(KEY)
    if known is not None:
        return known
    names = list(facts())
    row = (
        get_user_model().objects.filter(pk=user.pk).annotate(**facts()).values_list(*names).first()
    )
    return remember(user, dict(zip(names, row or (), strict=False)))
