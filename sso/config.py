"""The identity providers, read from environment variables at start-up (settings.py calls
`providers_from_env`); a bad value stops start-up with ImproperlyConfigured naming the
variable. Framework-light: no models, so settings can import it.

    OIDC_PROVIDERS=customer,vendor              # short names: letters, digits, "_"
    OIDC_CUSTOMER_NAME=Customer Okta           # shown on "Sign in with …" (default: the short name)
    OIDC_CUSTOMER_ISSUER=https://customer.okta.com
    OIDC_CUSTOMER_CLIENT_ID=…
    OIDC_CUSTOMER_CLIENT_SECRET=…
    OIDC_CUSTOMER_DOMAINS=customer.example,customer.example.org
    OIDC_CUSTOMER_VENDOR=0                     # 1: the vendor's own provider (see README)

Optional: OIDC_<NAME>_SIGN_ALGO (RS256), and the four endpoints when the provider publishes
no discovery document: OIDC_<NAME>_AUTHORIZATION_ENDPOINT, _TOKEN_ENDPOINT,
_USERINFO_ENDPOINT, _JWKS_URI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

SLUG = re.compile(r"^[a-z0-9_]{1,30}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
# Read from discovery (or set) when the provider has it: signing out there too (OpenID
# Connect RP-Initiated Logout 1.0).
OPTIONAL_ENDPOINTS = ("end_session_endpoint",)
SIGN_ALGOS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")


@dataclass(frozen=True)
class Provider:
    """One OpenID Connect identity provider and the email domains whose people sign in there."""

    slug: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    domains: tuple[str, ...]
    vendor: bool = False
    sign_algo: str = "RS256"
    # The endpoints given by configuration; those missing are read from discovery.
    endpoints: Mapping[str, str] = field(default_factory=dict)


def _url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be an https:// URL, got {raw!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ImproperlyConfigured(f"{name} must be https:// (http only on loopback), got {raw!r}")
    return raw.rstrip("/") if name.endswith("_ISSUER") else raw


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def providers_from_env(environ: Mapping[str, str]) -> tuple[Provider, ...]:
    slugs = [s.strip().lower() for s in environ.get("OIDC_PROVIDERS", "").split(",") if s.strip()]
    found: list[Provider] = []
    owner: dict[str, str] = {}
    for slug in slugs:
        if not SLUG.match(slug):
            raise ImproperlyConfigured(
                f"OIDC_PROVIDERS: {slug!r} is not a short name (letters, digits, _; 30 at most)"
            )
        prefix = f"OIDC_{slug.upper()}_"

        def get(key: str, *, required: bool = True, prefix: str = prefix) -> str:
            value = environ.get(prefix + key, "").strip()
            if required and not value:
                raise ImproperlyConfigured(f"{prefix}{key} must be set (OIDC_PROVIDERS names it)")
            return value

        domains = tuple(d.strip().lower() for d in get("DOMAINS").split(",") if d.strip())
        for domain in domains:
            if not DOMAIN.match(domain):
                raise ImproperlyConfigured(f"{prefix}DOMAINS: {domain!r} is not a domain name")
            if domain in owner:
                raise ImproperlyConfigured(
                    f"{prefix}DOMAINS: {domain} is already covered by the provider {owner[domain]}"
                )
            owner[domain] = slug
        if not domains:
            raise ImproperlyConfigured(f"{prefix}DOMAINS must name at least one domain")
        algo = get("SIGN_ALGO", required=False) or "RS256"
        if algo not in SIGN_ALGOS:
            raise ImproperlyConfigured(f"{prefix}SIGN_ALGO must be one of {', '.join(SIGN_ALGOS)}")
        endpoints = {}
        for key in ENDPOINTS + OPTIONAL_ENDPOINTS:
            raw = get(key.upper(), required=False)
            if raw:
                endpoints[key] = _url(prefix + key.upper(), raw)
        found.append(
            Provider(
                slug=slug,
                name=get("NAME", required=False) or slug,
                issuer=_url(prefix + "ISSUER", get("ISSUER")),
                client_id=get("CLIENT_ID"),
                client_secret=get("CLIENT_SECRET"),
                domains=domains,
                vendor=_bool(prefix + "VENDOR", get("VENDOR", required=False)),
                sign_algo=algo,
                endpoints=endpoints,
            )
        )
    if len({p.slug for p in found}) != len(found):
        raise ImproperlyConfigured("OIDC_PROVIDERS names a provider twice")
    return tuple(found)
