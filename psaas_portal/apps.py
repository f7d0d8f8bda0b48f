from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project's own operational bits: heartbeats, health checks, the beat scheduler."""

    name = "psaas_portal"
    label = "portal"
    verbose_name = "Operations"
