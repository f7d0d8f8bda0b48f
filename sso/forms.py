"""The sign-in page's two forms: the address first (sent to its identity provider), and the
password form, which refuses an address of a single sign-on domain."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm

from . import providers


def sso_message(provider) -> str:
    return (
        f"Accounts at {', '.join(provider.domains)} sign in with {provider.name}, not with a "
        f"password here: use “Sign in with {provider.name}”."
    )


class EmailFirstForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Work email address")

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        self.provider = providers.for_email(email)
        if self.provider is None:
            raise forms.ValidationError(
                f"There is no single sign-on for {providers.domain_of(email)}: sign in with "
                "your user name and password below."
            )
        return email


class RefuseSsoDomains:
    """An address (or the account's address) of a single sign-on domain is refused before
    any password is checked: those people sign in at their provider."""

    cleaned_data: dict

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        if username and providers.configured():
            email = username
            if "@" not in username:
                email = (
                    get_user_model()
                    .objects.filter(username=username)
                    .values_list("email", flat=True)
                    .first()
                    or ""
                )
            provider = providers.for_email(email)
            if provider is not None:
                raise forms.ValidationError(sso_message(provider), code="sso_domain")
        return super().clean()  # type: ignore[misc]


class PortalAuthenticationForm(RefuseSsoDomains, AuthenticationForm):
    """The portal's sign-in form."""


class AdminSignInForm(RefuseSsoDomains, AdminAuthenticationForm):
    """The Django admin's sign-in form: the same refusal (staff of a provider's domain sign
    in through it on the portal's sign-in page, then open the admin)."""
