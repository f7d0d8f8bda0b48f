"""What the members page shows: the members with their party and named roles, the
invitations, the roles each party has in the template version, and what the person may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engagements import policy
from engagements.models import Engagement, Invitation, Membership
from engagements.rules import RuleName
from raci.models import Party, VersionParty
from raci.roles import roles_by_party

MEMBER_RULES: tuple[RuleName, ...] = ("member.invite", "member.change", "member.remove")


@dataclass
class PartyRoles:
    """A party of the engagement's template, the roles its cells name, and whether the
    person may manage its members."""

    party: Party
    roles: list[str]
    manageable: bool
    members: list[Membership] = field(default_factory=list)


def offered_member_rules(user: Any, engagement: Engagement) -> set[RuleName]:
    return policy.offered(user, engagement, names=MEMBER_RULES, seat=None)


def members_page(engagement: Engagement, *, user: Any, offered: set[RuleName]) -> dict:
    """Everything the members page shows, in a constant number of queries whatever the
    number of members: columns (1), roles of the version (1), members with their users and
    parties (1) and roles (1), invitations (1), the actor's party scope (1-2)."""
    columns = list(
        VersionParty.objects.filter(version_id=engagement.template_version_id)
        .select_related("party")
        .order_by("position")
    )
    roles = roles_by_party(engagement.template_version_id)
    every = policy.manages_every_party(user, engagement)
    mine = None if every else policy.member_party_id(engagement.pk, user)
    parties = [
        PartyRoles(
            party=c.party,
            roles=roles.get(c.party_id, []),
            manageable=every or c.party_id == mine,
        )
        for c in columns
    ]
    by_id = {p.party.pk: p for p in parties}
    members = list(
        Membership.objects.filter(engagement=engagement)
        .select_related("user", "party")
        .prefetch_related("roles")
        .order_by("party__name", "user__last_name", "user__first_name", "user__username")
    )
    for member in members:
        group = by_id.get(member.party_id)
        if group is not None:
            group.members.append(member)
    invitations = list(
        Invitation.objects.filter(engagement=engagement)
        .select_related("party", "invited_by")
        .order_by("-created_at", "-pk")
    )
    for invitation in invitations:
        group = by_id.get(invitation.party_id)
        invitation.manageable = bool(group and group.manageable)  # type: ignore[attr-defined]
    return {
        "engagement": engagement,
        "parties": parties,
        "invite_parties": [p for p in parties if p.manageable],
        "member_count": len(members),
        "invitations": invitations,
        "offered": offered,
    }
