"""The members page of an engagement: its managers see the members with their party and
named roles, invite people by email, change roles and remove members. Every change goes
through engagements.actions.membership / invitations, which check the member.* rules."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from engagements.actions.invitations import invite_member, resend_invitation, revoke_invitation
from engagements.actions.membership import change_member, remove_member
from engagements.errors import DomainError
from engagements.forms import InviteForm, MemberChangeForm
from engagements.lookups import get_engagement_for_view, get_owned_for_view
from engagements.models import Invitation, Membership
from engagements.selectors.membership import members_page, offered_member_rules
from engagements.views.common import act
from raci.models import Party

# Removing, resending and revoking take no input: an empty, always valid form for `act`.
NO_INPUT = forms.Form({})


def _managed_engagement(user, engagement_id: int):
    """The engagement (404 if not visible) and the member rules the person holds (403 if
    none: only its managers see the members page)."""
    engagement = get_engagement_for_view(user, engagement_id)
    offered = offered_member_rules(user, engagement)
    if not offered:
        raise PermissionDenied("Only the engagement's managers and portal admins manage members.")
    return engagement, offered


def _render(request, engagement, offered, *, status=200, invite_form=None):
    context = members_page(engagement, user=request.user, offered=offered)
    context["invite_form"] = invite_form or InviteForm()
    return render(request, "engagements/members.html", context, status=status)


def _again(request, engagement, offered, **kwargs):
    return lambda status: _render(request, engagement, offered, status=status, **kwargs)


def _members_url(engagement) -> str:
    return reverse("engagements:members", args=[engagement.pk])


@require_GET
def members(request, engagement_id: int):
    engagement, offered = _managed_engagement(request.user, engagement_id)
    return _render(request, engagement, offered)


@require_POST
def member_invite(request, engagement_id: int):
    engagement, offered = _managed_engagement(request.user, engagement_id)
    form = InviteForm(request.POST)

    def call(d):
        party = Party.objects.filter(pk=d["party"]).first()
        if party is None:
            raise DomainError("Choose a party of this engagement.")
        invite_member(
            engagement,
            email=d["email"],
            party=party,
            roles=d["roles"],
            is_manager=d["is_manager"],
            actor=request.user,
        )

    return act(
        request,
        form,
        call,
        success=f"Invitation sent to {request.POST.get('email', '').strip().lower()}.",
        render_again=_again(request, engagement, offered, invite_form=form),
        done_url=_members_url(engagement),
    )


def _membership(user, membership_id: int) -> Membership:
    return get_owned_for_view(user, Membership, membership_id, related=("user", "party"))


@require_POST
def member_change(request, membership_id: int):
    membership = _membership(request.user, membership_id)
    engagement, offered = _managed_engagement(request.user, membership.engagement_id)
    form = MemberChangeForm(request.POST)

    def call(d):
        change_member(membership, actor=request.user, roles=d["roles"], is_manager=d["is_manager"])

    return act(
        request,
        form,
        call,
        success=f"{membership.user.get_full_name() or membership.user.username}'s membership saved.",
        render_again=_again(request, engagement, offered),
        done_url=_members_url(engagement),
    )


@require_POST
def member_remove(request, membership_id: int):
    membership = _membership(request.user, membership_id)
    engagement, offered = _managed_engagement(request.user, membership.engagement_id)

    def call(d):
        remove_member(engagement, membership.user, actor=request.user)

    return act(
        request,
        NO_INPUT,
        call,
        success=f"{membership.user.get_full_name() or membership.user.username} removed.",
        render_again=_again(request, engagement, offered),
        done_url=_members_url(engagement),
    )


@require_POST
def invitation_action(request, invitation_id: int, action: str):
    invitation = get_owned_for_view(request.user, Invitation, invitation_id, related=("party",))
    engagement, offered = _managed_engagement(request.user, invitation.engagement_id)
    if action == "resend":
        service, success = resend_invitation, f"Invitation resent to {invitation.email}."
    elif action == "revoke":
        service, success = revoke_invitation, f"Invitation to {invitation.email} revoked."
    else:
        raise Http404("No such action.")
    return act(
        request,
        NO_INPUT,
        lambda d: service(invitation, actor=request.user),
        success=success,
        render_again=_again(request, engagement, offered),
        done_url=_members_url(engagement),
    )
