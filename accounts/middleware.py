"""What a signed-in person's requests carry from their session, without a query each:
their time zone (dates shown in it), and whether they still owe the second step of
two-factor sign-in."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import urlencode

from engagements.models import Profile

from . import two_factor

SESSION_KEY = "_time_zone"


def remember_time_zone(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """user_logged_in: the profile's time zone into the session (one query at sign-in)."""
    session = getattr(request, "session", None)
    if session is None or user is None:
        return
    zone = Profile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    set_session_zone(request, zone or "")


def set_session_zone(request: Any, zone: str) -> None:
    if zone:
        request.session[SESSION_KEY] = zone
    else:
        request.session.pop(SESSION_KEY, None)


class TimeZoneMiddleware:
    """After AuthenticationMiddleware: a signed-in person's zone for this request."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        zone = None
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            zone = session.get(SESSION_KEY)
        if zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        try:
            return self.get_response(request)
        finally:
            if zone:
                timezone.deactivate()


def remember_two_factor(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """user_logged_in: where the person stands with the second factor, kept in the session."""
    session = getattr(request, "session", None)
    if session is not None and user is not None:
        session[two_factor.STATE] = two_factor.state_at_sign_in(user)


# What a person who still owes the second step (or an enrolment) may open.
OPEN_WHILE = {
    two_factor.PENDING: {"accounts:two-factor-verify", "logout"},
    two_factor.ENROL: {"accounts:two-factor-enrol", "logout"},
}
STEP_URL = {
    two_factor.PENDING: "accounts:two-factor-verify",
    two_factor.ENROL: "accounts:two-factor-enrol",
}


class TwoFactorMiddleware:
    """After AuthenticationMiddleware: a signed-in person who has not done the second step
    (or must enrol one first) is sent there from every other page."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            state = request.session.get(two_factor.STATE)
            if state is None:  # a session from before two-factor sign-in: decided once
                state = request.session[two_factor.STATE] = two_factor.state_at_sign_in(user)
            if state in OPEN_WHILE:
                try:
                    name = resolve(request.path_info).view_name
                except Resolver404:
                    name = ""
                if name not in OPEN_WHILE[state]:
                    target = reverse(STEP_URL[state])
                    return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
