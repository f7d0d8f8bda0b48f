from __future__ import annotations

import datetime as dt
import hashlib

from django.utils import timezone

from engagements.errors import DomainError

COMMENT_MAX_LENGTH = 5000


def clean_text(text: str, what: str, *, required: bool) -> str:
    text = (text or "").strip()
    if "\x00" in text:
        raise DomainError(f"The {what} contains a NUL character.")
    if required and not text:
        raise DomainError(f"A {what} is required.")
    if len(text) > COMMENT_MAX_LENGTH:
        raise DomainError(
            f"The {what} is too long ({len(text)} characters; at most {COMMENT_MAX_LENGTH})."
        )
    return text


MAX_AHEAD = dt.timedelta(days=730)  # windows and meetings are planned at most two years ahead


MAX_BEHIND = dt.timedelta(days=366)  # and recorded at most a year back


MAX_SIZE = 2**63 - 1


CLOCK_SKEW = dt.timedelta(minutes=10)


def utc(value: dt.datetime | None, what: str) -> dt.datetime:
    """The time in UTC; a naive time is taken as UTC."""
    if value is None:
        raise DomainError(f"{what} is required.")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:  # year 1 or 9999 with an offset
        raise DomainError(f"{what} is out of range.") from None


def aware(value: dt.datetime | None, what: str) -> dt.datetime:
    """The time in UTC, within the range the portal plans and records."""
    value = utc(value, what)
    now = timezone.now()
    if not now - MAX_BEHIND <= value <= now + MAX_AHEAD:
        raise DomainError(f"{what} must be within a year back and two years ahead.")
    return value.astimezone(dt.UTC)


def sha256_hex(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
