from __future__ import annotations

from typing import Any

from django.db import transaction

from engagements import events, permissions
from engagements.actions.tokens import revoke_tokens_of_departed
from engagements.audit import record_event
from engagements.errors import DomainError
from engagements.models import (
    Engagement,
    Membership,
)
from raci.models import Party


def check_membership(engagement: Engagement, user, *, party: Party) -> None:
    """Raises DomainError when the person cannot join that party of the engagement.

    A subscriber's people can only join the subscriber side of their own
    organisation's engagement; the vendor's people only the vendor side.
    """
    profile = getattr(user, "profile", None)
    if profile is None:
        raise DomainError(f"{user} belongs to no organisation; give them a profile first.")
    org = profile.organization
    if party.is_vendor and not org.is_vendor:
        raise DomainError(
            f"{user} works for {org.name}, not the vendor; they cannot join {party.name}."
        )
    if not party.is_vendor and org.pk != engagement.organization_id:
        raise DomainError(
            f"{user} works for {org.name}; only {engagement.organization.name}'s people "
            f"can join {party.name} on this engagement."
        )
    if not engagement.template_version.columns.filter(party=party).exists():
        raise DomainError(f"{party.name} is not a party of this engagement's template.")


@transaction.atomic
def add_member(
    engagement: Engagement,
    user,
    *,
    party: Party,
    actor=None,
    role_title: str = "",
    is_manager: bool = False,
) -> Membership:
    """Puts a person in one party of the engagement (or moves them) and derives their permissions."""
    check_membership(engagement, user, party=party)
    existing = (
        Membership.objects.select_for_update().filter(engagement=engagement, user=user).first()
    )
    if existing is not None:
        before = {
            "party": existing.party.name,
            "role_title": existing.role_title,
            "is_manager": existing.is_manager,
        }
        existing.party = party
        existing.role_title = role_title
        existing.is_manager = is_manager
        existing.save(update_fields=["party", "role_title", "is_manager"])
        membership = existing
        data: dict[str, Any] = {"before": before}
        verb = events.MEMBER_CHANGED
    else:
        membership = Membership.objects.create(
            engagement=engagement,
            user=user,
            party=party,
            role_title=role_title,
            is_manager=is_manager,
        )
        data = {}
        verb = events.MEMBER_ADDED
    permissions.sync_member_permissions(engagement, user)
    data.update(
        user=user.get_username(), party=party.name, role_title=role_title, is_manager=is_manager
    )
    record_event(engagement, verb, actor=actor, data=data)
    revoke_tokens_of_departed(engagement, user, actor=actor)
    return membership


@transaction.atomic
def remove_member(engagement: Engagement, user, *, actor=None) -> None:
    membership = (
        Membership.objects.select_for_update().filter(engagement=engagement, user=user).first()
    )
    if membership is None:
        raise DomainError(f"{user} is not a member of this engagement.")
    party = membership.party.name
    membership.delete()
    permissions.sync_member_permissions(engagement, user)
    record_event(
        engagement,
        events.MEMBER_REMOVED,
        actor=actor,
        data={"user": user.get_username(), "party": party},
    )
    revoke_tokens_of_departed(engagement, user, actor=actor)
