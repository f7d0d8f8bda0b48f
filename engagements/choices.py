from __future__ import annotations

from django.db import models


class OrganizationKind(models.TextChoices):
    VENDOR = "vendor", "Vendor"
    SUBSCRIBER = "subscriber", "Subscriber"


class EngagementState(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    LIVE = "live", "Live"
    CLOSED = "closed", "Closed"


class Environment(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    PRODUCTION = "production", "Production"


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"
    SIGNED_OFF = "signed_off", "Signed off"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    REOPENED = "reopened", "Reopened"


OPEN_STATUSES = (
    TaskStatus.NOT_STARTED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.BLOCKED,
    TaskStatus.REOPENED,
)
CLOSED_STATUSES = (TaskStatus.SIGNED_OFF, TaskStatus.NOT_APPLICABLE)
