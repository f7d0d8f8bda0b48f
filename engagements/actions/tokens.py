from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from engagements import events, policy
from engagements.audit import record_event
from engagements.cleaning import clean_text, sha256_hex
from engagements.errors import Conflict
from engagements.models import (
    AttestationToken,
    Engagement,
)


@transaction.atomic
def create_attestation_token(
    engagement: Engagement, *, actor, name: str
) -> tuple[AttestationToken, str]:
    """A token for the backup job: returns the row and the value, which is never shown again."""
    policy.check(actor, "token.create", engagement)
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
        events.TOKEN_CREATED,
        actor=actor,
        data={"summary": f"created the attestation token {name!r} ({token.prefix}…)"},
    )
    return token, raw


@transaction.atomic
def revoke_attestation_token(token: AttestationToken, *, actor) -> AttestationToken:
    token = (
        AttestationToken.objects.select_for_update().select_related("engagement").get(pk=token.pk)
    )
    policy.check(actor, "token.revoke", token)
    if token.revoked_at:
        raise Conflict("That token is already revoked.")
    token.revoked_at, token.revoked_by = timezone.now(), actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    record_event(
        token.engagement,
        events.TOKEN_REVOKED,
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


@transaction.atomic
def revoke_tokens_of_departed(engagement: Engagement, user: Any, *, actor: Any = None) -> int:
    """Tokens outlive no one's role: after a membership change, `user`'s active tokens on
    the engagement are revoked (each with a `token.revoked` event) unless they may still
    create tokens. A token does not come back to life if the role does. Returns how many."""
    tokens = list(
        AttestationToken.objects.select_for_update().filter(
            engagement=engagement, created_by=user, revoked_at__isnull=True
        )
    )
    if not tokens or "token.create" in policy.offered(user, engagement, names=["token.create"]):
        return 0
    now = timezone.now()
    for token in tokens:
        token.revoked_at, token.revoked_by = now, actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        record_event(
            engagement,
            events.TOKEN_REVOKED,
            actor=actor,
            data={
                "summary": f"revoked the attestation token {token.name!r} ({token.prefix}…): "
                f"its creator {events.person(user)} is no longer Responsible for backups",
                "reason": "creator left the role",
            },
        )
    return len(tokens)
