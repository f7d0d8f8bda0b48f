"""Responses that belong to one person are never stored by a browser or a shared cache."""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import patch_cache_control

from .logs import loaded_user_id

# Pages reached with a secret in the URL instead of a session (the calendar feed).
PRIVATE_URL_NAMES = {"calendar-feed"}


class PrivateCacheControlMiddleware:
    """`Cache-Control: private, no-store` on every response to a signed-in person (pages,
    exports, fragments) and on the calendar feed. A view's own stricter header is kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        private = (
            bool(loaded_user_id(request))
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or (match is not None and match.url_name in PRIVATE_URL_NAMES)
        )
        if private:
            response.headers.pop("Expires", None)
            patch_cache_control(response, private=True, no_store=True)  # drops "public"
        return response
