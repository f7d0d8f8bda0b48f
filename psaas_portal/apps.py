from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project's own operational bits: heartbeats, health checks, the beat scheduler,
    sign-in throttling."""

    name = "psaas_portal"
    label = "portal"
    verbose_name = "Operations"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in

        from .sessions import mark_refreshed

        user_logged_in.connect(mark_refreshed, dispatch_uid="psaas_portal.session_refreshed")

        from .security import log_lockout

        user_locked_out.connect(log_lockout, dispatch_uid="psaas_portal.log_lockout")

        from .inputs import guard_admin_forms

        guard_admin_forms()  # the admin's one-line fields refuse control characters too
