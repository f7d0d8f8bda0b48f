from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed webhooks to programs an engagement's managers register (Standard Webhooks)."""

    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The cross-app hook: every event recorded (engagements.audit) writes this app's
        # outbox rows in the same transaction.
        from engagements.audit import event_recorded

        from . import checks  # noqa: F401 - registers the deploy check
        from .outbox import write_deliveries

        event_recorded.connect(write_deliveries, dispatch_uid="webhooks.outbox")
