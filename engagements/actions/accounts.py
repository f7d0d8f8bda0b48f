"""A person's own account: name, email address and time zone (the account page)."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from engagements.errors import DomainError
from engagements.models import Profile


@cache
def time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


@transaction.atomic
def update_account(
    user: Any, *, first_name: str, last_name: str, email: str, time_zone: str, actor: Any
) -> Any:
    """Saves the person's own name, address and time zone ("" is the portal's)."""
    if actor is None or actor.pk != user.pk:
        raise DomainError("People change their own account only.")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(f"{email!r} is not a valid email address.") from None
    others = get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk)
    if others.exists():
        raise DomainError(f"Another account uses {email}; choose another address.")
    # Single sign-on matches accounts by address: an address of a provider's domains comes
    # with an invitation (sent to it) or from an admin, never from this page, or whoever
    # typed it here would receive that person's sign-ins.
    domain = email.rsplit("@", 1)[-1]
    sso_domains = {d for provider in settings.SSO_PROVIDERS for d in provider.domains}
    if email != (user.email or "").lower() and domain in sso_domains:
        raise DomainError(
            f"Addresses at {domain} sign in through single sign-on; they come with an "
            "invitation to that address, not from this page."
        )
    if time_zone and time_zone not in time_zones():
        raise DomainError(f"{time_zone!r} is not a time zone the portal knows.")
    user.first_name, user.last_name, user.email = first_name.strip(), last_name.strip(), email
    user.save(update_fields=["first_name", "last_name", "email"])
    Profile.objects.filter(user=user).update(time_zone=time_zone)
    return user
