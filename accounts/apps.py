from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """A person's own side of the portal: accepting an invitation, the account page (name,
    email, time zone, sessions). No tables of its own: it calls engagements' services."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import remember_time_zone

        user_logged_in.connect(remember_time_zone, dispatch_uid="accounts.time_zone")
