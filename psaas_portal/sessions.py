"""The idle timeout without a session write on every request.

A session ends SESSION_COOKIE_AGE seconds after it was last refreshed. Instead of saving
it on every request (three queries and a commit each time), it is refreshed, and so saved,
only when SESSION_REFRESH_SECONDS have passed since the last refresh: an active person is
never signed out, and an idle one is signed out between AGE - REFRESH and AGE after their
last request.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

from .models import PortalSession
from .security import client_ip

KEY = "_refreshed_at"
# Written at sign-in, shown on the account page's list of sessions.
SIGNED_IN_AT, CLIENT, ADDRESS = "_signed_in_at", "_client", "_address"


class SessionStore(DatabaseSessionStore):
    """SESSION_ENGINE: Django's database sessions in PortalSession, which keeps the person's
    id in a column so their sessions can be found and ended."""

    @classmethod
    def get_model_class(cls):
        return PortalSession

    def _get_session_from_db(self) -> PortalSession | None:
        """Django's read of the session row, carrying its user and their facts (one query;
        psaas_portal.signed_in)."""
        from .signed_in import person

        self.person = None
        try:
            row = self.model.objects.annotate(person=person()).get(
                session_key=self.session_key, expire_date__gt=timezone.now()
            )
        except (self.model.DoesNotExist, SuspiciousOperation) as exc:
            if isinstance(exc, SuspiciousOperation):
                logger = logging.getLogger(f"django.security.{exc.__class__.__name__}")
                logger.warning(str(exc))
            self._session_key = None
            return None
        self.person, self.person_db = row.person, row._state.db
        return row

    def create_model_instance(self, data: dict[str, Any]) -> PortalSession:
        obj = super().create_model_instance(data)
        try:
            obj.user_id = int(data.get("_auth_user_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            obj.user_id = None
        return obj


def mark_refreshed(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """Signing in writes the session anyway: it counts as a refresh (user_logged_in); the
    time, browser and address are kept for the account page's list of sessions."""
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[KEY] = now
        session[SIGNED_IN_AT] = now
        session[CLIENT] = request.META.get("HTTP_USER_AGENT", "")[:200]
        session[ADDRESS] = client_ip(request) or ""


@dataclass(frozen=True)
class SignedIn:
    """One of a person's live sessions, as the account page lists it."""

    key: str
    signed_in_at: dt.datetime | None
    expires_at: dt.datetime
    client: str
    address: str


def sessions_of(user_id: int) -> list[SignedIn]:
    """The person's sessions that have not expired, newest first."""
    rows = PortalSession.objects.filter(user_id=user_id, expire_date__gt=timezone.now())
    out = []
    for row in rows:
        data = row.get_decoded()
        since = data.get(SIGNED_IN_AT)
        out.append(
            SignedIn(
                key=row.session_key,
                signed_in_at=dt.datetime.fromtimestamp(since, dt.UTC)
                if isinstance(since, int)
                else None,
                expires_at=row.expire_date,
                client=str(data.get(CLIENT, "")),
                address=str(data.get(ADDRESS, "")),
            )
        )
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(out, key=lambda s: s.signed_in_at or epoch, reverse=True)


def end_sessions(user_id: int, *, keep: str | None = None) -> int:
    """Ends the person's sessions (all but `keep`): their next request is signed out."""
    rows = PortalSession.objects.filter(user_id=user_id)
    if keep:
        rows = rows.exclude(session_key=keep)
    return rows.delete()[0]


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
