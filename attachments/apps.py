from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    """Files attached to tasks, checklist items, issues and handover notes."""

    name = "attachments"
    verbose_name = "Attachments"
    default_auto_field = "django.db.models.BigAutoField"
