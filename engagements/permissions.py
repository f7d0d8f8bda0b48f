"""Object permissions on engagements, in one module: every django-guardian call lives here.

Membership is the one source of truth. Object permissions on engagements are derived
from it by `sync_member_permissions` and never granted by hand:

- view_engagement: every member (what they may do then follows from their party's
  letters, see engagements.policy);
- administer_engagement: members marked as managers.

Portal admins hold the global `engagements.administer_portal` permission (given
through a group, not the superuser flag) and see every engagement. Guardian's
shortcuts are called with `with_superuser=False` and `accept_global_perms=False`
so a superuser flag or a global permission never widens access silently.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from guardian.shortcuts import assign_perm, get_user_perms, remove_perm

from psaas_portal.auth import holds_permission

from .identity import identity
from .models import Engagement, EngagementUserObjectPermission, Membership
from .querysets import PORTAL_ADMIN, VIEW, visible_engagements_q

ADMINISTER = "administer_engagement"
OBJECT_PERMS = (VIEW, ADMINISTER)

__all__ = [
    "ADMINISTER",
    "OBJECT_PERMS",
    "PORTAL_ADMIN",
    "VIEW",
    "can_administer",
    "engagement_perms",
    "is_portal_admin",
    "is_vendor_staff",
    "sync_member_permissions",
    "visible_engagements_q",
]


def is_portal_admin(user: Any) -> bool:
    """Portal admins hold the global permission (through the "Portal admins" group);
    the superuser flag alone does not make one (see psaas_portal.auth)."""
    return holds_permission(user, PORTAL_ADMIN)


def perms_for(membership: Membership) -> set[str]:
    perms = {VIEW}
    if membership.is_manager:
        perms.add(ADMINISTER)
    return perms


def sync_member_permissions(engagement: Engagement, user: Any) -> None:
    """Makes the user's object permissions on the engagement match their membership."""
    membership = Membership.objects.filter(engagement=engagement, user=user).first()
    wanted = perms_for(membership) if membership else set()
    held = set(get_user_perms(user, engagement).values_list("codename", flat=True))
    for codename in wanted - held:
        assign_perm(codename, user, engagement)
    for codename in (held & set(OBJECT_PERMS)) - wanted:
        remove_perm(codename, user, engagement)


def with_viewer_perms(engagements: QuerySet[Engagement], user: Any) -> QuerySet[Engagement]:
    """Reads whether the viewer administers each engagement with the engagements themselves
    (an Exists on the rows visibility reads); `remember_viewer_perms` then keeps the answer,
    so that `engagement_perms` does not read the permission rows a second time."""
    if not user.is_authenticated or not user.is_active:
        return engagements
    return engagements.annotate(viewer_administers=administers_exists(user))


def administers_exists(user: Any, ref: str = "pk") -> Exists:
    """Whether the viewer administers the engagement `ref` names, as an annotation."""
    return Exists(
        EngagementUserObjectPermission.objects.filter(
            user=user, permission__codename=ADMINISTER, content_object=OuterRef(ref)
        )
    )


def remember_owner_perms(obj: Any, user: Any) -> Any:
    """For an object of an engagement read with `viewer_administers` (administers_exists on
    its engagement_id): its engagement keeps the answer, as remember_viewer_perms does."""
    if hasattr(obj, "viewer_administers"):
        obj.engagement.viewer_administers = obj.viewer_administers
        remember_viewer_perms(obj.engagement, user)
    return obj


def remember_viewer_perms(engagement: Engagement, user: Any) -> Engagement:
    """After `with_viewer_perms` and the visibility check: the viewer's perms are known."""
    if hasattr(engagement, "viewer_administers"):
        perms = {VIEW, ADMINISTER} if engagement.viewer_administers else {VIEW}
        engagement.__dict__["_known_perms"] = (user.pk, perms)
    return engagement


def engagement_perms(user: Any, engagement: Engagement) -> set[str]:
    """The user's own object permissions on one engagement (one query unless already read
    with the engagement; no superuser shortcut)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if is_portal_admin(user):
        return set(OBJECT_PERMS)
    known = engagement.__dict__.get("_known_perms")
    if known is not None and known[0] == user.pk:
        return set(known[1])
    return set(get_user_perms(user, engagement).values_list("codename", flat=True))


def can_administer(user: Any, engagement: Engagement) -> bool:
    return ADMINISTER in engagement_perms(user, engagement)


def is_vendor_staff(user: Any) -> bool:
    """People of the vendor organisation (CSEs, admins): they have the portfolio."""
    return identity(user).vendor_staff  # read with the viewer's other facts
