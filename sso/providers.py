"""Which provider a person signs in with: by short name (the start URL) or by the domain of
their email address. Read from settings.SSO_PROVIDERS (see sso/config.py), and the
endpoints of a provider from its discovery document, kept for SSO_DISCOVERY_SECONDS."""

from __future__ import annotations

import threading
import time

import requests
from django.conf import settings

from .config import ENDPOINTS, OPTIONAL_ENDPOINTS, Provider


class Unavailable(Exception):
    """The provider's discovery document could not be read, or does not fit its settings."""


def configured() -> tuple[Provider, ...]:
    return tuple(settings.SSO_PROVIDERS)


def by_slug(slug: str) -> Provider | None:
    return next((p for p in configured() if p.slug == slug), None)


def domain_of(email: str) -> str:
    return (email or "").rsplit("@", 1)[-1].strip().lower() if "@" in (email or "") else ""


def for_email(email: str) -> Provider | None:
    """The provider whose domains include this address's domain (exact match)."""
    domain = domain_of(email)
    if not domain:
        return None
    return next((p for p in configured() if domain in p.domains), None)


_cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}
_lock = threading.Lock()


def endpoints(provider: Provider) -> dict[str, str]:
    """The provider's authorization, token, userinfo and JWKS endpoints (and its end-session
    endpoint where it has one): those configured, the rest from
    `<issuer>/.well-known/openid-configuration`, whose `issuer` must be the configured one
    (OpenID Connect Discovery 1.0, section 4.3)."""
    if all(key in provider.endpoints for key in ENDPOINTS):
        return dict(provider.endpoints)
    key = (provider.slug, provider.issuer)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return {**hit[1], **provider.endpoints}
    url = f"{provider.issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.SSO_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError):
        raise Unavailable(
            f"{provider.name} did not answer, so signing in with it is not possible just now. "
            "Try again in a few minutes."
        ) from None
    if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != provider.issuer:
        raise Unavailable(
            f"{provider.name} describes itself with another issuer than the portal is set up "
            "for; an administrator must correct the portal's configuration."
        )
    found = {k: document[k] for k in ENDPOINTS if isinstance(document.get(k), str)}
    if len(found) < len(ENDPOINTS):
        raise Unavailable(
            f"{provider.name}'s discovery document lacks an endpoint the portal needs."
        )
    found.update(
        (k, document[k])
        for k in OPTIONAL_ENDPOINTS
        if isinstance(document.get(k), str) and document[k].startswith(("https://", "http://"))
    )
    with _lock:
        _cache[key] = (now + settings.SSO_DISCOVERY_SECONDS, found)
    return {**found, **provider.endpoints}
