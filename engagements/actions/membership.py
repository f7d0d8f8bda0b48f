"""Memberships: who is in which party of an engagement, with which named roles, and who
manages it. Every path that changes a membership (the members page, invitations, the
Django admin, commands) comes through here, so permissions, events and the consequences
of leaving (tokens revoked, sessions and the calendar feed of someone left with no
engagement ended) always follow.

`actor=None` is the portal itself (a command, the demo): no rule is checked for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from engagements import events, permissions, policy
from engagements.actions.feeds import revoke_calendar_feed
from engagements.actions.tokens import revoke_tokens_of_departed
from engagements.audit import record_event
from engagements.errors import DomainError
from engagements.models import (
    Engagement,
    MemberRole,
    Membership,
)
from engagements.rules import RuleName
from psaas_portal.sessions import end_sessions
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
    check_party_of(engagement, party)


def check_party_of(engagement: Engagement, party: Party) -> None:
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


def check_manager_rule(actor: Any, name: RuleName, engagement: Engagement, party: Party) -> None:
    """The member.* rule, and the party the actor may manage (nothing for the system)."""
    if actor is None:
        return
    policy.check(actor, name, engagement, seat=None)
    policy.check_party_scope(actor, engagement, party)


def _lock_managers(engagement: Engagement, party_id: int) -> list[Membership]:
    return list(
        Membership.objects.select_for_update()
        .filter(engagement=engagement, party_id=party_id, is_manager=True)
        .order_by("pk")
    )


def _locked_membership(engagement: Engagement, user: Any) -> Membership | None:
    """The person's membership, locked after the managers of its party (in id order): two
    managers removing or demoting each other at once wait for one another instead of
    deadlocking, and cannot leave the party with none."""
    party_id = (
        Membership.objects.filter(engagement=engagement, user=user)
        .values_list("party_id", flat=True)
        .first()
    )
    if party_id is None:
        return None
    _lock_managers(engagement, party_id)
    membership = (
        Membership.objects.select_for_update()
        .select_related("party", "user", "engagement")
        .filter(engagement=engagement, user=user)
        .first()
    )
    if membership is not None and membership.party_id != party_id:  # moved meanwhile
        _lock_managers(engagement, membership.party_id)
    return membership


def _guard_last_manager(membership: Membership, *, actor: Any, doing: str) -> None:
    """Refuses to leave the member's party without a manager (its managers are locked)."""
    if not membership.is_manager:
        return
    others = Membership.objects.filter(
        engagement_id=membership.engagement_id, party_id=membership.party_id, is_manager=True
    ).exclude(pk=membership.pk)
    if others.exists():
        return
    party = membership.party.name
    who = (
        "You are"
        if actor is not None and actor.pk == membership.user_id
        else f"{_name(membership.user)} is"
    )
    raise DomainError(
        f"{who} the last manager of {party} on this engagement: make another member of "
        f"{party} a manager before {doing}."
    )


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


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
    they hold, and derives their permissions: the engagement's managers (member.invite for
    a newcomer, member.change for a member), within the parties they manage."""
    return _put_member(
        engagement, user, party=party, actor=actor, roles=roles, is_manager=is_manager
    )


def admit_invited(invitation: Any, user) -> Membership:
    """The invited person joins as the invitation says (its inviter's rights were checked
    when it was made and when it was resent); they are the actor of the event. Someone
    already a member is refused: an invitation never changes an existing membership."""
    if Membership.objects.filter(engagement_id=invitation.engagement_id, user=user).exists():
        raise DomainError("You are already a member of this engagement.")
    return _put_member(
        invitation.engagement,
        user,
        party=invitation.party,
        actor=user,
        roles=invitation.roles,
        is_manager=invitation.is_manager,
        checked=True,
        extra={"invitation_id": invitation.pk},
    )


def _put_member(
    engagement: Engagement,
    user,
    *,
    party: Party,
    actor: Any,
    roles: Sequence[str],
    is_manager: bool,
    checked: bool = False,
    extra: dict[str, Any] | None = None,
) -> Membership:
    existing = _locked_membership(engagement, user)
    if not checked:
        rule: RuleName = "member.change" if existing else "member.invite"
        check_manager_rule(actor, rule, engagement, party)
    check_membership(engagement, user, party=party)
    titles = clean_roles(engagement, party, roles)
    if existing is not None:
        if existing.party_id != party.pk and not checked:
            check_manager_rule(actor, "member.change", engagement, existing.party)
        if existing.party_id != party.pk or not is_manager:
            _guard_last_manager(existing, actor=actor, doing="they stop managing it")
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
        user=_name(user),  # the timeline's words: the full name (the username alongside)
        username=user.get_username(),
        party=party.name,
        roles=titles,
        role_title=", ".join(titles),
        is_manager=is_manager,
        **(extra or {}),
    )
    record_event(engagement, verb, actor=actor, data=data)
    revoke_tokens_of_departed(engagement, user, actor=actor)
    return membership


@transaction.atomic
def change_member(
    membership: Membership, *, actor, roles: Sequence[str], is_manager: bool
) -> Membership:
    """Changes a member's named roles and manager flag (same party)."""
    membership = Membership.objects.select_related("engagement", "party", "user").get(
        pk=membership.pk
    )
    check_manager_rule(actor, "member.change", membership.engagement, membership.party)
    return add_member(
        membership.engagement,
        membership.user,
        party=membership.party,
        roles=roles,
        is_manager=is_manager,
        actor=actor,
    )


@transaction.atomic
def remove_member(engagement: Engagement, user, *, actor=None) -> None:
    """Takes the person off the engagement at once: their object permissions in this
    transaction, their attestation tokens revoked; left with no engagement at all, their
    sessions end and their calendar feed stops. The last manager of a party stays."""
    membership = _locked_membership(engagement, user)
    if membership is None:
        raise DomainError(f"{user} is not a member of this engagement.")
    check_manager_rule(actor, "member.remove", engagement, membership.party)
    _guard_last_manager(membership, actor=actor, doing="removing them")
    party = membership.party.name
    membership.delete()
    permissions.sync_member_permissions(engagement, user)
    record_event(
        engagement,
        events.MEMBER_REMOVED,
        actor=actor,
        data={"user": _name(user), "username": user.get_username(), "party": party},
    )
    revoke_tokens_of_departed(engagement, user, actor=actor)
    if not Membership.objects.filter(user=user).exists() and not permissions.is_portal_admin(user):
        end_sessions(user.pk)
        revoke_calendar_feed(user)


def add_founding_members(engagement: Engagement, *, cse, actor) -> list[Membership]:
    """When an engagement is started in the portal (the caller checked the start
    permission): the CSE joins the vendor's party as a manager, with the template's Customer
    Success Engineer role where it has one; the person who started it, if not a portal
    admin, joins too as a manager so the new engagement is theirs to open."""
    column = engagement.template_version.columns.select_related("party").filter(
        party__is_vendor=True
    )
    vendor = column.order_by("position").first()
    if vendor is None:
        raise DomainError("The template version has no vendor party for the CSE to join.")
    party = vendor.party
    cse_roles = [
        r
        for r in party_roles(engagement.template_version_id, party.pk)
        if "customer success engineer" in r.casefold()
    ]
    joined = [
        _put_member(
            engagement,
            cse,
            party=party,
            actor=actor,
            roles=cse_roles,
            is_manager=True,
            checked=True,
        )
    ]
    if actor is not None and actor.pk != cse.pk and not permissions.is_portal_admin(actor):
        joined.append(
            _put_member(
                engagement,
                actor,
                party=party,
                actor=actor,
                roles=(),
                is_manager=True,
                checked=True,
            )
        )
    return joined
