from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from engagements import events, permissions
from engagements.actions.tokens import revoke_tokens_of_departed
from engagements.audit import record_event
from engagements.errors import DomainError
from engagements.models import (
    Engagement,
    MemberRole,
    Membership,
)
from raci.models import Party
from raci.roles import party_roles


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


def clean_roles(engagement: Engagement, party: Party, roles: Sequence[str]) -> list[str]:
    """The roles asked for, each one a role of the party in the engagement's template
    version (DomainError naming the first that is not)."""
    known = party_roles(engagement.template_version_id, party.pk)
    out: list[str] = []
    for raw in roles:
        title = str(raw).strip()
        if not title or title in out:
            continue
        match = next((k for k in known if k.casefold() == title.casefold()), None)
        if match is None:
            offer = ", ".join(f'"{k}"' for k in known) or "none"
            raise DomainError(
                f'"{title}" is not a role of {party.name} in this engagement\'s template '
                f"(its roles: {offer})."
            )
        out.append(match)
    return sorted(out)


@transaction.atomic
def add_member(
    engagement: Engagement,
    user,
    *,
    party: Party,
    actor=None,
    roles: Sequence[str] = (),
    is_manager: bool = False,
) -> Membership:
    """Puts a person in one party of the engagement (or moves them), with the named roles
    they hold, and derives their permissions."""
    check_membership(engagement, user, party=party)
    titles = clean_roles(engagement, party, roles)
    existing = (
        Membership.objects.select_for_update().filter(engagement=engagement, user=user).first()
    )
    if existing is not None:
        before = {
            "party": existing.party.name,
            "roles": existing.role_titles,
            "is_manager": existing.is_manager,
        }
        existing.party = party
        existing.is_manager = is_manager
        existing.save(update_fields=["party", "is_manager"])
        existing.roles.exclude(title__in=titles).delete()
        membership = existing
        data: dict[str, Any] = {"before": before}
        verb = events.MEMBER_CHANGED
    else:
        membership = Membership.objects.create(
            engagement=engagement,
            user=user,
            party=party,
            is_manager=is_manager,
        )
        data = {}
        verb = events.MEMBER_ADDED
    held = set(membership.roles.values_list("title", flat=True))
    MemberRole.objects.bulk_create(
        [MemberRole(membership=membership, title=t) for t in titles if t not in held]
    )
    permissions.sync_member_permissions(engagement, user)
    data.update(
        user=user.get_username(),
        party=party.name,
        roles=titles,
        role_title=", ".join(titles),
        is_manager=is_manager,
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
