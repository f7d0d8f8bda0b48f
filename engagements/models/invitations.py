from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import Q
from django.utils import timezone

from engagements.choices import InvitationState
from raci.models import Party

from .core import Engagement


class Invitation(models.Model):
    """An email address asked to join one party of an engagement, with the named roles and
    manager flag the membership will have once the link is followed.

    The link is signed with SECRET_KEY over the row's id and `nonce` (built when the email
    is sent, never stored): resending draws a new nonce, so an older link stops working;
    accepting or revoking ends it for good. A pending invitation past `expires_at` is
    expired (read off the time, not stored)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(help_text="Stored lower-case.")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    roles = models.JSONField(default=list, blank=True, help_text="Role titles of the party.")
    is_manager = models.BooleanField(default=False)
    state = models.CharField(
        max_length=10, choices=InvitationState.choices, default=InvitationState.PENDING
    )
    nonce = models.CharField(max_length=64)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(help_text="When the current link was issued (sent or resent).")
    sent_count = models.PositiveSmallIntegerField(default=1)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["engagement", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "email"],
                condition=Q(state=InvitationState.PENDING),
                name="invitation_one_pending_per_address",
            ),
            models.CheckConstraint(
                condition=Q(state__in=InvitationState.values), name="invitation_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.party} on {self.engagement_id}"

    @property
    def is_expired(self) -> bool:
        return self.state == InvitationState.PENDING and self.expires_at <= timezone.now()

    @property
    def display_state(self) -> str:
        """Pending, accepted, revoked, or expired (a pending one past its time)."""
        return "expired" if self.is_expired else self.state

    @property
    def role_title(self) -> str:
        return ", ".join(self.roles)


LINK_SALT = "psaas.invitation"


def sign_invitation(invitation: Invitation) -> str:
    """The secret part of the invitation link: the row's id and current nonce, signed with
    SECRET_KEY (built when the email is sent; a stored copy never exists)."""
    return signing.dumps([invitation.pk, invitation.nonce], salt=LINK_SALT)


def read_invitation_token(token: str) -> tuple[int, str]:
    """(id, nonce) from a link; signing.BadSignature for a changed or cut token."""
    value = signing.loads(token, salt=LINK_SALT)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or not isinstance(value[1], str)
    ):
        raise signing.BadSignature("malformed invitation token")
    return value[0], value[1]
