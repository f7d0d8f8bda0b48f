"""Who is calling: a personal token (Authorization: Bearer psap_…) or the browser's
session (with CSRF on writes, as DRF enforces)."""

from __future__ import annotations

import logging

from django.utils import timezone
from rest_framework import authentication, exceptions

from . import tokens

log = logging.getLogger(__name__)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != self.keyword:
            return None
        raw = raw.strip()
        token = tokens.token_for(raw) if raw else None
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown token.")
        now = timezone.now()
        reason = tokens.why_unusable(token, now)
        if reason:
            log.info("API token %s… refused: %s", token.prefix, reason)
            raise exceptions.AuthenticationFailed(reason)
        tokens.touch(token, now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="psaas-portal api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The signed-in browser (Swagger UI's "try it out"); DRF checks CSRF on writes."""
