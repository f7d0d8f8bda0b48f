from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    """The claims the portal reads. A user whose name starts with "unverified" has an
    address the provider has not verified; "vera" signs in here with a second factor (the
    `amr` of RFC 8176 says so), the others with a password only."""

    # How the person authenticated (RFC 8176) goes in the ID token with the openid scope.
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "amr": "openid"}

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": not user.username.startswith("unverified"),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "amr": ["pwd", "otp", "mfa"] if user.username == "vera" else ["pwd"],
        }
