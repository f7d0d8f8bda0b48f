"""Invitations: an engagement's manager asks an email address to join one party, with its
named roles and manager flag; the email goes through the outbox (a Notification row of
the invitation event, delivered by the worker after commit). Following the link creates
the account (or takes the signed-in one whose address matches) and adds the membership
through the membership service, all in one transaction: nothing is half-done.

Resending draws a new nonce (the earlier link stops working) and a new expiry; revoking is
possible until the invitation is accepted."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from engagements import events
from engagements.actions.membership import (
    admit_invited,
    check_manager_rule,
    check_membership,
    check_party_of,
    clean_roles,
)
from engagements.audit import record_event
from engagements.choices import Channel, InvitationState, OrganizationKind
from engagements.errors import Conflict, DomainError
from engagements.models import (
    Engagement,
    Event,
    Invitation,
    Membership,
    Notification,
    Organization,
    Profile,
    read_invitation_token,
)
from engagements.notifications import enqueue_delivery
from engagements.states import INVITATION
from raci.models import Party


class InvitationUnusable(DomainError):
    """The link cannot be used: changed, superseded, used, withdrawn or expired."""


def clean_email(raw: str) -> str:
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(f"{raw!r} is not a valid email address.") from None
    return email


def account_for_email(email: str) -> Any:
    """The one account using this address, None if there is none (DomainError if several:
    the portal cannot tell which person is meant)."""
    accounts = list(
        get_user_model().objects.filter(email__iexact=email).select_related("profile")[:2]
    )
    if len(accounts) > 1:
        raise DomainError(
            f"Several accounts use {email}; an administrator adds this member in the admin."
        )
    return accounts[0] if accounts else None


def _queue_email(invitation: Invitation, event: Event) -> None:
    """The outbox row of the invitation email; delivered after commit (or by the sweep)."""
    Notification.objects.create(
        engagement_id=invitation.engagement_id,
        event=event,
        invitation=invitation,
        channel=Channel.EMAIL,
        kind=event.verb,
    )
    transaction.on_commit(enqueue_delivery)


def _new_link(invitation: Invitation, now: dt.datetime) -> None:
    invitation.nonce = secrets.token_urlsafe(24)
    invitation.sent_at = now
    invitation.expires_at = now + dt.timedelta(days=settings.INVITATION_VALID_DAYS)


@transaction.atomic
def invite_member(
    engagement: Engagement,
    *,
    email: str,
    party: Party,
    roles: Sequence[str] = (),
    is_manager: bool = False,
    actor: Any,
) -> Invitation:
    """Invites an address to the engagement (managers, within the parties they manage)."""
    check_manager_rule(actor, "member.invite", engagement, party)
    email = clean_email(email)
    check_party_of(engagement, party)
    titles = clean_roles(engagement, party, roles)
    account = account_for_email(email)
    if account is not None:
        if Membership.objects.filter(engagement=engagement, user=account).exists():
            raise DomainError(
                f"{email} is already a member of this engagement; change their roles instead."
            )
        if getattr(account, "profile", None) is not None:
            check_membership(engagement, account, party=party)
    if Invitation.objects.filter(
        engagement=engagement, email=email, state=InvitationState.PENDING
    ).exists():
        raise Conflict(f"{email} has already been invited; resend or revoke that invitation.")
    invitation = Invitation(
        engagement=engagement,
        email=email,
        party=party,
        roles=titles,
        is_manager=is_manager,
        invited_by=actor,
    )
    _new_link(invitation, timezone.now())
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:  # invited at the same moment by someone else
        raise Conflict(
            f"{email} has already been invited; resend or revoke that invitation."
        ) from None
    event = record_event(
        engagement,
        events.MEMBER_INVITED,
        actor=actor,
        data={
            "email": email,
            "party": party.name,
            "roles": titles,
            "role_title": ", ".join(titles),
            "is_manager": is_manager,
            "invitation_id": invitation.pk,
        },
    )
    _queue_email(invitation, event)
    return invitation


def _locked(invitation: Invitation) -> Invitation:
    return (
        Invitation.objects.select_for_update()
        .select_related("engagement__organization", "party")
        .get(pk=invitation.pk)
    )


@transaction.atomic
def resend_invitation(invitation: Invitation, *, actor: Any) -> Invitation:
    """A new link with a new expiry, sent again; the earlier link stops working."""
    invitation = _locked(invitation)
    check_manager_rule(actor, "member.invite", invitation.engagement, invitation.party)
    if invitation.state != InvitationState.PENDING:
        raise Conflict(
            f"The invitation to {invitation.email} was {invitation.get_state_display().lower()}; "
            "it cannot be resent."
        )
    _new_link(invitation, timezone.now())
    invitation.sent_count += 1
    invitation.save(update_fields=["nonce", "sent_at", "expires_at", "sent_count"])
    event = record_event(
        invitation.engagement,
        events.MEMBER_INVITATION_RESENT,
        actor=actor,
        data={"email": invitation.email, "invitation_id": invitation.pk},
    )
    _queue_email(invitation, event)
    return invitation


@transaction.atomic
def revoke_invitation(invitation: Invitation, *, actor: Any) -> Invitation:
    """Withdraws a pending invitation: its link says so from now on."""
    invitation = _locked(invitation)
    check_manager_rule(actor, "member.invite", invitation.engagement, invitation.party)
    INVITATION.apply(
        invitation, InvitationState.REVOKED, what=f"The invitation to {invitation.email}"
    )
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["state", "revoked_at"])
    record_event(
        invitation.engagement,
        events.MEMBER_INVITATION_REVOKED,
        actor=actor,
        data={"email": invitation.email, "invitation_id": invitation.pk},
    )
    return invitation


# --- Following the link ------------------------------------------------------------------

TAMPERED = (
    "This invitation link is not valid: it was changed or cut short. Open the link from "
    "the email again, or ask for a new invitation."
)


def open_invitation(token: str, *, lock: bool = False) -> Invitation:
    """The invitation a link stands for, if it can still be accepted; InvitationUnusable
    saying plainly why not otherwise."""
    try:
        pk, nonce = read_invitation_token(token)
    except signing.BadSignature:
        raise InvitationUnusable(TAMPERED) from None
    rows = Invitation.objects.select_related(
        "engagement__organization", "engagement__template_version", "party", "invited_by"
    )
    if lock:
        rows = rows.select_for_update(of=("self",))
    invitation = rows.filter(pk=pk).first()
    if invitation is None:
        raise InvitationUnusable(TAMPERED)
    if invitation.state == InvitationState.ACCEPTED:
        raise InvitationUnusable(
            "This invitation has already been used. Sign in to reach the engagement."
        )
    if invitation.state == InvitationState.REVOKED:
        raise InvitationUnusable(
            "This invitation was withdrawn. Ask the person who invited you for a new one."
        )
    if not constant_time_compare(invitation.nonce, nonce):
        raise InvitationUnusable(
            "A newer invitation was sent to this address, so this link no longer works. "
            "Use the link in the latest email."
        )
    if invitation.is_expired:
        raise InvitationUnusable(
            f"This invitation expired on {timezone.localtime(invitation.expires_at):%d %b %Y}. "
            "Ask the person who invited you to send it again."
        )
    return invitation


def account_problem(invitation: Invitation, user: Any) -> str:
    """Why this person (signed in, or None) cannot accept here ("" if they can)."""
    if user is not None and user.is_authenticated:
        if (user.email or "").casefold() != invitation.email:
            return (
                f"This invitation is for {invitation.email}, but you are signed in as "
                f"{user.email or user.get_username()}. Sign out, then open the link again."
            )
        return ""
    if account_for_email(invitation.email) is not None:
        return (
            f"An account with the address {invitation.email} already exists: sign in, "
            "then open the link again to accept."
        )
    return ""


def organization_for(invitation: Invitation) -> Organization:
    if not invitation.party.is_vendor:
        return invitation.engagement.organization
    vendor = Organization.objects.filter(kind=OrganizationKind.VENDOR).order_by("pk").first()
    if vendor is None:
        raise DomainError("The portal has no vendor organisation; ask an administrator.")
    return vendor


@transaction.atomic
def accept_invitation(
    token: str,
    *,
    user: Any = None,
    password: str = "",
    first_name: str = "",
    last_name: str = "",
) -> tuple[Invitation, Any]:
    """Accepts the invitation: with the signed-in account whose address it was sent to, or
    with a new account (this password) for someone who has none. Returns the invitation
    and the account; the membership is added by the membership service."""
    invitation = open_invitation(token, lock=True)
    problem = account_problem(invitation, user)
    if problem:
        raise DomainError(problem)
    if user is None or not user.is_authenticated:
        User = get_user_model()
        if User.objects.filter(username__iexact=invitation.email).exists():
            raise DomainError(
                f"The user name {invitation.email} is taken; ask an administrator to add you."
            )
        user = User(
            username=invitation.email,
            email=invitation.email,
            first_name=first_name.strip()[:150],
            last_name=last_name.strip()[:150],
        )
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages)) from None
        user.set_password(password)
        user.save()
    if getattr(user, "profile", None) is None:
        user.profile = Profile.objects.create(user=user, organization=organization_for(invitation))
    if not INVITATION.system_moves("accepted", invitation.state, InvitationState.ACCEPTED):
        raise InvitationUnusable("This invitation can no longer be accepted.")
    admit_invited(invitation, user)
    invitation.state = InvitationState.ACCEPTED
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["state", "accepted_at", "accepted_by"])
    return invitation, user
