"""Two-factor sign-in for local accounts: an authenticator app (TOTP, django-otp) with
single-use recovery codes. Required for the vendor's staff and portal admins where
TWO_FACTOR_REQUIRED_FOR_STAFF is on (the default wherever DEBUG is off), optional for
subscribers.

Where a person stands is kept in their session (`STATE`), set when they sign in, so that
checking it costs no query on each request:

- "off": no second factor (none enrolled, none required);
- "pending": signed in with the password, the second step not done yet;
- "enrol": the second factor is required and none is enrolled yet;
- "verified": the second step done (or enrolled in this session);
- "sso": signed in through an identity provider (sso/) that did the multi-factor part
  (its ID token's `amr` names a second factor), or with no second factor required or
  enrolled: no local second step is asked for. Where the provider's token names no second
  factor, the portal's own policy applies as after a password ("pending" or "enrol").

Wrong codes count as failed sign-ins for django-axes under the account's second-step key,
so the second step is throttled like the first, and a new password sign-in does not reset
it. django-otp's own per-device throttling (growing delays) applies as well.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from engagements import permissions

STATE = "_two_factor"
OFF, PENDING, ENROL, VERIFIED, SSO = "off", "pending", "enrol", "verified", "sso"
RECOVERY_CODES = 10


def required(user: Any) -> bool:
    return settings.TWO_FACTOR_REQUIRED_FOR_STAFF and permissions.is_vendor_staff(user)


def authenticator(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def state_at_sign_in(user: Any) -> str:
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return PENDING
    return ENROL if required(user) else OFF


# Authentication Method Reference values (RFC 8176) that are more than a password.
SECOND_FACTOR_AMR = frozenset(
    {"mfa", "otp", "hwk", "swk", "sms", "tel", "fpt", "face", "iris", "retina", "vbm", "sc"}
)


def state_after_sso(user: Any, amr: Any) -> str:
    """Where a person signed in through a provider stands: the provider's second factor
    counts when its ID token says one was used; else the portal asks for its own where it
    is required or enrolled, as after a password."""
    methods = {m for m in amr if isinstance(m, str)} if isinstance(amr, list) else set()
    if methods & SECOND_FACTOR_AMR:
        return SSO
    state = state_at_sign_in(user)
    return SSO if state == OFF else state


def throttle_key(user: Any) -> str:
    """The username django-axes counts second-step failures under."""
    return f"{user.get_username()} (second step)"


def pending_authenticator(user: Any) -> TOTPDevice:
    """The authenticator being set up (unconfirmed until a code from it is entered)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def secret_of(device: TOTPDevice) -> str:
    """The key as authenticator apps take it typed in (base32, in groups of four)."""
    raw = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _new_recovery_codes(user: Any) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def confirm_authenticator(user: Any, code: str) -> list[str] | None:
    """Confirms the authenticator being set up with a code from it: it replaces any earlier
    one, and new recovery codes are made (returned once). None if the code is wrong."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(code.replace(" ", "")):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return _new_recovery_codes(user)


@transaction.atomic
def renew_recovery_codes(user: Any) -> list[str]:
    return _new_recovery_codes(user)


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user).count()


@transaction.atomic
def turn_off(user: Any) -> None:
    """Removes the authenticator and the recovery codes (not for whom it is required)."""
    if required(user):
        raise PermissionError("Two-factor sign-in is required for the vendor's staff.")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def verify_second_step(request: Any, user: Any, code: str) -> bool:
    """A code from the authenticator, or an unused recovery code (used up by this). A wrong
    one is a failed sign-in for django-axes (its middleware answers with the pause page
    once the limit is reached)."""
    code = (code or "").strip().replace(" ", "").lower()
    if code:
        device = authenticator(user)
        if device is not None and code.isdigit() and device.verify_token(code):
            return True
        for static in StaticDevice.objects.filter(user=user, confirmed=True):
            if static.verify_token(code):
                return True
    user_login_failed.send(
        sender=__name__, credentials={"username": throttle_key(user)}, request=request
    )
    return False
