"""The idle timeout without a session write on every request.

A session ends SESSION_COOKIE_AGE seconds after it was last refreshed. Instead of saving
it on every request (three queries and a commit each time), it is refreshed, and so saved,
only when SESSION_REFRESH_SECONDS have passed since the last refresh: an active person is
never signed out, and an idle one is signed out between AGE - REFRESH and AGE after their
last request.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

KEY = "_refreshed_at"


def mark_refreshed(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """Signing in writes the session anyway: it counts as a refresh (user_logged_in)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[KEY] = int(time.time())


class SessionIdleRefreshMiddleware:
    """After SessionMiddleware: touches the session when a refresh is due, so that Django
    saves it (and moves its expiry and the cookie's) in the response."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only a session this request already read (a signed-in person): never a read for it.
        if session is None or not session.accessed or session.session_key is None:
            return response
        now = int(time.time())
        last = session.get(KEY)
        if not isinstance(last, int) or now - last >= settings.SESSION_REFRESH_SECONDS:
            session[KEY] = now
        return response
