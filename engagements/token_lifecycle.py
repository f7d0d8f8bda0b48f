"""Attestation tokens outlive no one's role: when the person who made a token is no longer
Responsible for the engagement's backup duty (removed, or moved to another party), their
active tokens are revoked, each with a `token.revoked` event. A token does not come back to
life if the role does."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .choices import DutyKind
from .models import AttestationToken


@transaction.atomic
def revoke_tokens_of_departed(engagement, user, *, actor=None) -> int:
    """Called by the membership services after a change: revokes `user`'s active tokens on
    the engagement unless they may still create them. Returns how many were revoked."""
    from . import operations as ops
    from .services import DomainError, record_event

    tokens = list(
        AttestationToken.objects.select_for_update().filter(
            engagement=engagement, created_by=user, revoked_at__isnull=True
        )
    )
    if not tokens:
        return 0
    try:
        task = ops.seed_task(engagement, ops.DUTY_TASK[DutyKind.BACKUP])
    except DomainError:
        return 0
    try:
        ops.require(task, user, "responsible", doing="attest")
        return 0  # still in the role
    except DomainError:
        pass
    now = timezone.now()
    for token in tokens:
        token.revoked_at, token.revoked_by = now, actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        record_event(
            engagement,
            "token.revoked",
            actor=actor,
            data={
                "summary": f"revoked the attestation token {token.name!r} ({token.prefix}…): "
                f"its creator {user.get_username()} is no longer Responsible for backups",
                "reason": "creator left the role",
            },
        )
    return len(tokens)
