"""The relying party's side of the protocol, from mozilla-django-oidc, set up for one
provider at a time (the library reads one provider from settings; the portal has several).

The library builds the authentication request (state, nonce, PKCE), exchanges the code,
fetches the provider's keys and checks the ID token's signature, expiry and nonce. It does
not check the token's issuer or audience: `verify_token` below does, and a verified email
of one of the provider's domains is required before an account is looked up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from engagements.actions.sso import account_for_sso
from engagements.errors import DomainError

from .config import Provider
from .providers import domain_of

SCOPES = "openid email profile"


class Refused(Exception):
    """The provider's answer was understood, and it does not let this person in (says why)."""


def provider_setting(provider: Provider, attr: str, *default: Any) -> Any:
    """The library's OIDC_* settings, answered for this provider."""
    own = {
        "OIDC_RP_CLIENT_ID": provider.client_id,
        "OIDC_RP_CLIENT_SECRET": provider.client_secret,
        "OIDC_RP_SIGN_ALGO": provider.sign_algo,
        "OIDC_RP_SCOPES": SCOPES,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "sso:callback",
        "OIDC_TIMEOUT": settings.SSO_TIMEOUT,
        "OIDC_CREATE_USER": False,
        "OIDC_STORE_ACCESS_TOKEN": False,
        # Kept in the (server-side) session as the hint of a sign-out at the provider.
        "OIDC_STORE_ID_TOKEN": True,
    }
    if attr in own:
        return own[attr]
    return import_from_settings(attr, *default)


def verified(claims: dict[str, Any]) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


class ProviderClient(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend for one provider; used directly by the callback view,
    not listed in AUTHENTICATION_BACKENDS (the session then names ModelBackend)."""

    def __init__(self, provider: Provider, endpoints: dict[str, str]) -> None:
        self.provider = provider
        self.OIDC_OP_TOKEN_ENDPOINT = endpoints["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = endpoints["userinfo_endpoint"]
        self.OIDC_OP_JWKS_ENDPOINT = endpoints["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = provider.client_id
        self.OIDC_RP_CLIENT_SECRET = provider.client_secret
        self.OIDC_RP_SIGN_ALGO = provider.sign_algo
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = get_user_model()
        self.id_claims: dict[str, Any] = {}

    def get_settings(self, attr: str, *args: Any) -> Any:
        return provider_setting(self.provider, attr, *args)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload = super().verify_token(token, **kwargs)
        name = self.provider.name
        if str(payload.get("iss", "")).rstrip("/") != self.provider.issuer:
            raise Refused(
                f"The sign-in answer was not issued by {name} (its issuer is "
                f"{payload.get('iss')!r}), so the portal did not accept it."
            )
        if not isinstance(payload.get("exp"), int | float) or not isinstance(
            payload.get("iat"), int | float
        ):
            # The signature checker enforces exp only when it is there (review finding).
            raise Refused(f"The sign-in answer from {name} has no expiry, so it was not accepted.")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.provider.client_id not in audiences:
            raise Refused(f"The sign-in answer from {name} was meant for another application.")
        self.id_claims = payload  # the callback reads how the person signed in (`amr`)
        return payload

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        name = self.provider.name
        if claims.get("sub") != payload.get("sub"):
            raise Refused(f"{name} answered about two different people; sign in again.")
        email = str(claims.get("email") or "").strip().lower()
        if not email:
            raise Refused(f"{name} did not tell the portal your email address.")
        if not verified(claims):
            raise Refused(
                f"{name} has not verified the address {email}, so the portal cannot match it "
                f"to an account. Verify it with {name}, then sign in again."
            )
        domain = domain_of(email)
        if domain not in self.provider.domains:
            raise Refused(
                f"{name} is not set up to sign in addresses at {domain} in this portal. "
                "Sign in with your own organisation's provider or your password."
            )
        try:
            return account_for_sso(
                email=email,
                first_name=str(claims.get("given_name") or ""),
                last_name=str(claims.get("family_name") or ""),
                vendor_provider=self.provider.vendor,
            )
        except DomainError as exc:
            raise Refused(str(exc)) from None
