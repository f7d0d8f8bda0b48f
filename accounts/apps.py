from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """A person's own side of the portal: accepting an invitation, the account page (name,
    email, time zone, sessions), two-factor sign-in. No tables of its own: it calls
    engagements' services, and the second factor's devices are django-otp's."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import remember_time_zone, remember_two_factor

        user_logged_in.connect(remember_time_zone, dispatch_uid="accounts.time_zone")
        user_logged_in.connect(remember_two_factor, dispatch_uid="accounts.two_factor")
