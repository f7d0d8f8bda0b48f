"""Forms validate and normalise; the services in engagements.actions decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation

from engagements.actions.accounts import time_zones
from psaas_portal import inputs


class AcceptInvitationForm(forms.Form):
    """A new account's name and password (the address is the invitation's)."""

    first_name = inputs.SingleLineField(max_length=150, label="First name")
    last_name = inputs.SingleLineField(max_length=150, label="Last name", required=False)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        data = super().clean()
        one, two = data.get("password1"), data.get("password2")
        if one and two and one != two:
            raise forms.ValidationError("The two passwords differ.")
        if one:
            probe = get_user_model()(
                username=self.email,
                email=self.email,
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                password_validation.validate_password(one, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class AccountForm(forms.Form):
    first_name = inputs.SingleLineField(max_length=150, label="First name", required=False)
    last_name = inputs.SingleLineField(max_length=150, label="Last name", required=False)
    email = forms.EmailField(max_length=254, label="Email address")
    time_zone = forms.ChoiceField(label="Time zone", required=False)

    def __init__(self, *args, default_zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [  # type: ignore[attr-defined]
            ("", f"The portal's ({default_zone})"),
            *[(z, z) for z in time_zones()],
        ]
