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


def identity(user: Any) -> Identity:
    """The viewer's portal facts (one query per request; none for an anonymous visitor).

    Global permissions are read from the permission tables, not `user.has_perm`, which
    answers True for any superuser (see psaas_portal.auth)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOBODY
    known = user.__dict__.get(KEY)
    if known is not None:
        return known
    profile = apps.get_model("engagements", "Profile")
    notification = apps.get_model("engagements", "Notification")
    unread = (
        notification.objects.filter(recipient=OuterRef("pk"), channel="portal", read_at=None)
        .order_by()
        .values("recipient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            admin=_holds(PORTAL_ADMIN),
            editor=_holds(EDIT_TEMPLATES),
            vendor=Exists(profile.objects.filter(user=OuterRef("pk"), organization__kind="vendor")),
            unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
        )
        .values_list("admin", "editor", "vendor", "unread")
        .first()
    )
    admin, editor, vendor, count = row or (False, False, False, 0)
    known = Identity(admin, editor, admin or vendor, count)
    user.__dict__[KEY] = known
    # What psaas_portal.auth.holds_permission would read again: already known.
    held = user.__dict__.setdefault("_held_permissions", {})
    held.setdefault(PORTAL_ADMIN, admin)
    held.setdefault(EDIT_TEMPLATES, editor)
    return known
