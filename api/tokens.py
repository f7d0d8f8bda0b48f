"""Personal API tokens: made, looked up and revoked here, and nowhere else."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from engagements.cleaning import clean_text, sha256_hex
from engagements.errors import Conflict, DomainError

from .models import ApiToken, Scope

PREFIX = "psap_"
# last_used_at is written at most this often per token (not on every request).
TOUCH_EVERY = dt.timedelta(minutes=1)
MAX_LIFETIME = dt.timedelta(days=366)


@transaction.atomic
def create_api_token(
    user: Any, *, name: str, scope: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """A token for `user`: returns the row and the value, which is never shown again."""
    name = clean_text(name, "token name", required=True)[:80]
    if scope not in Scope.values:
        raise DomainError("Choose the scope: read or read-write.")
    now = timezone.now()
    if expires_at is not None and not now < expires_at <= now + MAX_LIFETIME:
        raise DomainError("The expiry must be in the future, at most a year ahead.")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        scope=scope,
        prefix=raw[:12],
        digest=sha256_hex(raw),
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def revoke_api_token(user: Any, token_id: int) -> ApiToken:
    """Revokes one of the user's own tokens (another person's is not found)."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
    if token is None:
        raise ApiToken.DoesNotExist
    if token.revoked_at is not None:
        raise Conflict("That token is already revoked.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


def token_for(raw: str) -> ApiToken | None:
    """The token with this value (by its SHA-256) and its owner, whatever its state."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    return ApiToken.objects.select_related("user").filter(digest=sha256_hex(raw)).first()


def why_unusable(token: ApiToken, now: dt.datetime) -> str:
    if token.revoked_at is not None:
        return "This token was revoked."
    if token.expires_at is not None and token.expires_at <= now:
        return "This token has expired."
    if not token.user.is_active:
        return "This token's owner is deactivated."
    return ""


def touch(token: ApiToken, now: dt.datetime) -> None:
    """Records the use, at most once per TOUCH_EVERY (a conditional update: no race)."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
