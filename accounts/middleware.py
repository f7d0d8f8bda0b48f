"""Dates shown in the person's time zone: kept in the session when they sign in (or save
it on the account page), activated for each of their requests without a query."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.utils import timezone

from engagements.models import Profile

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
