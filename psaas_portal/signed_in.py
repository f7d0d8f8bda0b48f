"""Who is signed in, read with the session: one query instead of three.

Django reads the session row, then the user (ModelBackend.get_user), and the portal then
reads the viewer's facts (engagements.identity: portal admin, template editor, vendor
staff, unread count). Here the session's query carries the user row and those facts as one
JSON value (a subquery on the session row's `user_id` column), and the authentication
middleware takes the user from it, with the same checks as django.contrib.auth.get_user:
the session's user id and backend, an active user (ModelBackend.user_can_authenticate) and
the session's password hash. Anything unusual (another backend, a hash that verifies only
with a fallback secret, no user row) goes through Django's own get_user.

The facts are registered by the apps that define them (psaas_portal sits under them):
FACTS maps a name to a function returning an expression over a user row, REMEMBER keeps
the values read on the user object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.db.models import JSONField, OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

FACTS: dict[str, Callable[[], dict[str, Any]]] = {}
REMEMBER: list[Callable[[Any, dict[str, Any]], Any]] = []
PREFIX = "fact_"


def _user_fields() -> list:
    return list(auth.get_user_model()._meta.concrete_fields)


def person() -> Subquery:
    """The session's user row and the registered facts, as one JSON object (or NULL)."""
    user_model = auth.get_user_model()
    fields: dict[str, Any] = {f.attname: f.attname for f in _user_fields()}
    for builder in FACTS.values():
        fields |= {PREFIX + name: expr for name, expr in builder().items()}
    return Subquery(
        user_model._default_manager.filter(pk=OuterRef("user_id")).values(j=JSONObject(**fields)),
        output_field=JSONField(),
    )


def user_from(row: dict[str, Any], db: str) -> Any:
    """The user object the JSON describes, as the ORM would load it, with its facts kept."""
    fields = _user_fields()
    user = auth.get_user_model().from_db(
        db, [f.attname for f in fields], [f.to_python(row[f.attname]) for f in fields]
    )
    facts = {k[len(PREFIX) :]: v for k, v in row.items() if k.startswith(PREFIX)}
    for remember in REMEMBER:
        remember(user, facts)
    return user


def get_user(request: Any) -> Any:
    session = request.session
    user_id = session.get(SESSION_KEY)  # loads the session (and its person) if not yet
    row = getattr(session, "person", None)
    path = session.get(BACKEND_SESSION_KEY)
    if (
        row is None
        or user_id is None
        or str(row.get("id")) != str(user_id)
        or path not in settings.AUTHENTICATION_BACKENDS
        or not issubclass(auth.load_backend(path).__class__, ModelBackend)
    ):
        return auth.get_user(request)
    user = user_from(row, getattr(session, "person_db", "default"))
    if not auth.load_backend(path).user_can_authenticate(user):
        return auth.get_user(request)  # Django's answer for an inactive user (anonymous)
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return auth.get_user(request)  # fallback secrets, or a changed password: Django's way
    return user


class SessionUserAuthenticationMiddleware(AuthenticationMiddleware):
    """django.contrib.auth's middleware, taking the user from the session's own query."""

    def process_request(self, request: Any) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
