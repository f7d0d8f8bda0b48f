"""Single sign-on's one write: the account a verified address signs in to.

An account is matched by its email address (the identity provider has verified it). Nobody
is created without a reason the portal can point to: a pending invitation to that address
(the account is created without a password; accepting the invitation adds the membership
and the profile, as for any invitation), or the vendor's own provider, whose people get an
account in the vendor organisation with no membership and no permission: an admin or an
engagement's manager grants those."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from engagements.actions.invitations import account_for_email, clean_email, organization_for
from engagements.choices import InvitationState, OrganizationKind
from engagements.errors import DomainError
from engagements.models import Invitation, Organization, Profile


def _new_account(email: str, first_name: str, last_name: str) -> Any:
    User = get_user_model()
    if User.objects.filter(username__iexact=email).exists():
        raise DomainError(
            f"The user name {email} is taken by another account; ask an administrator to "
            "give that account this address."
        )
    user = User(
        username=email,
        email=email,
        first_name=(first_name or "").strip()[:150],
        last_name=(last_name or "").strip()[:150],
    )
    user.set_unusable_password()  # signs in through the identity provider only
    user.save()
    return user


@transaction.atomic
def account_for_sso(
    *, email: str, first_name: str = "", last_name: str = "", vendor_provider: bool
) -> Any:
    """The account for an address an identity provider has verified; created only for a
    pending invitation to it or by the vendor's provider. DomainError saying why not."""
    email = clean_email(email)
    account = account_for_email(email)
    if account is not None:
        if not account.is_active:
            raise DomainError(
                f"The account {email} is disabled in the portal; ask an administrator."
            )
        return account
    invited = (
        Invitation.objects.filter(
            email=email, state=InvitationState.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("party", "engagement__organization")
        .order_by("pk")
        .first()
    )
    if invited is not None:
        user = _new_account(email, first_name, last_name)
        # The profile of the party invited to; accepting the invitation adds the membership.
        Profile.objects.create(user=user, organization=organization_for(invited))
        return user
    if vendor_provider:
        vendor = Organization.objects.filter(kind=OrganizationKind.VENDOR).order_by("pk").first()
        if vendor is None:
            raise DomainError("The portal has no vendor organisation; ask an administrator.")
        user = _new_account(email, first_name, last_name)
        Profile.objects.create(user=user, organization=vendor)
        return user
    raise DomainError(
        f"There is no account for {email} in the portal, and no pending invitation to it. "
        "Ask the person who manages your engagement to invite you, then sign in again."
    )
