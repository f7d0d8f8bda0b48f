"""Who may do what, in one module: every django-guardian call of the portal lives here.

Membership is the one source of truth. Object permissions on engagements are
derived from it by `sync_member_permissions` and never granted by hand:

- view_engagement: every member;
- act_on_engagement: every member (what they may do on a task then follows
  from their party's letters, see `engagements.workflow`);
- administer_engagement: members marked as managers.

Portal admins hold the global `engagements.administer_portal` permission (given
through a group, not the superuser flag) and see every engagement. Guardian's
shortcuts are called with `with_superuser=False` and `accept_global_perms=False`
so a superuser flag or a global permission never widens access silently.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from guardian.shortcuts import assign_perm, get_user_perms, remove_perm

from psaas_portal.auth import holds_permission

VIEW = "view_engagement"
ACT = "act_on_engagement"
ADMINISTER = "administer_engagement"
PORTAL_ADMIN = "engagements.administer_portal"
OBJECT_PERMS = (VIEW, ACT, ADMINISTER)


def is_portal_admin(user) -> bool:
    """Portal admins hold the global permission (through the "Portal admins" group);
    the superuser flag alone does not make one (see psaas_portal.auth)."""
    return holds_permission(user, PORTAL_ADMIN)


def perms_for(membership) -> set[str]:
    perms = {VIEW, ACT}
    if membership.is_manager:
        perms.add(ADMINISTER)
    return perms


def sync_member_permissions(engagement, user) -> None:
    """Makes the user's object permissions on the engagement match their membership."""
    from .models import Membership

    membership = Membership.objects.filter(engagement=engagement, user=user).first()
    wanted = perms_for(membership) if membership else set()
    held = set(get_user_perms(user, engagement).values_list("codename", flat=True))
    for codename in wanted - held:
        assign_perm(codename, user, engagement)
    for codename in (held & set(OBJECT_PERMS)) - wanted:
        remove_perm(codename, user, engagement)


def engagement_perms(user, engagement) -> set[str]:
    """The user's own object permissions on one engagement (one query; no superuser shortcut)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if is_portal_admin(user):
        return set(OBJECT_PERMS)
    return set(get_user_perms(user, engagement).values_list("codename", flat=True))


def _user_perm_rows(user, codename: str):
    from .models import EngagementUserObjectPermission

    return EngagementUserObjectPermission.objects.filter(user=user, permission__codename=codename)


def visible_engagements_q(user, ref: str = "pk") -> Q:
    """A filter for the engagements the user may view: an id subquery, not a list in Python."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if is_portal_admin(user):
        return Q()
    return Q(Exists(_user_perm_rows(user, VIEW).filter(content_object=OuterRef(ref))))


def can_view(user, engagement) -> bool:
    return VIEW in engagement_perms(user, engagement)


def can_act(user, engagement) -> bool:
    return ACT in engagement_perms(user, engagement)


def can_administer(user, engagement) -> bool:
    return ADMINISTER in engagement_perms(user, engagement)


def is_vendor_staff(user) -> bool:
    """People of the vendor organisation (CSEs, admins): they have the portfolio."""
    if not user.is_authenticated or not user.is_active:
        return False
    from .choices import OrganizationKind
    from .models import Profile

    return (
        is_portal_admin(user)
        or Profile.objects.filter(user=user, organization__kind=OrganizationKind.VENDOR).exists()
    )
