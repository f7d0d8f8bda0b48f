from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from engagements.actions.duties import DUTY_TASK
from engagements.choices import (
    DutyKind,
)
from engagements.cleaning import clean_text, sha256_hex
from engagements.errors import Conflict
from engagements.events import record_event
from engagements.models import (
    AttestationToken,
    Engagement,
)
from engagements.policy import require, seed_task


@transaction.atomic
def create_attestation_token(
    engagement: Engagement, *, actor, name: str
) -> tuple[AttestationToken, str]:
    """A token for the backup job: returns the row and the value, which is never shown again."""
    task = seed_task(engagement, DUTY_TASK[DutyKind.BACKUP])
    require(task, actor, "responsible", doing="create attestation tokens")
    name = clean_text(name, "token name", required=True)[:80]
    raw = "psat_" + secrets.token_urlsafe(32)
    token = AttestationToken.objects.create(
        engagement=engagement,
        name=name,
        prefix=raw[:12],
        digest=sha256_hex(raw),
        created_by=actor,
    )
    record_event(
        engagement,
        "token.created",
        actor=actor,
        data={"summary": f"created the attestation token {name!r} ({token.prefix}…)"},
    )
    return token, raw


@transaction.atomic
def revoke_attestation_token(token: AttestationToken, *, actor) -> AttestationToken:
    token = (
        AttestationToken.objects.select_for_update().select_related("engagement").get(pk=token.pk)
    )
    task = seed_task(token.engagement_id, DUTY_TASK[DutyKind.BACKUP])
    require(task, actor, "responsible", doing="revoke attestation tokens")
    if token.revoked_at:
        raise Conflict("That token is already revoked.")
    token.revoked_at, token.revoked_by = timezone.now(), actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    record_event(
        token.engagement,
        "token.revoked",
        actor=actor,
        data={"summary": f"revoked the attestation token {token.name!r} ({token.prefix}…)"},
    )
    return token


def token_for(raw: str) -> AttestationToken | None:
    """The active token with this value (looked up by its SHA-256), or None."""
    if not raw or len(raw) > 200:
        return None
    return (
        AttestationToken.objects.select_related("created_by", "engagement")
        .filter(digest=sha256_hex(raw), revoked_at__isnull=True)
        .first()
    )
