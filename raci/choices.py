from __future__ import annotations

from django.db import models


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Tracking(models.TextChoices):
    """How an engagement tracks a template task."""

    ONCE = "once", "Once"
    PER_ENVIRONMENT = "per_environment", "Once per environment"
    RECURRING = "recurring", "Recurring"


class Phase(models.TextChoices):
    """When in an engagement's life a template task is worked: onboarding tasks are done once
    and count towards onboarding progress; operations tasks are the recurring work after
    go-live, shown by their live state."""

    ONBOARDING = "onboarding", "Onboarding"
    OPERATIONS = "operations", "Operations"


class PrerequisiteUntil(models.TextChoices):
    """What the required task must reach before the waiting task may start."""

    DONE = "done", "done"
    SIGNED_OFF = "signed_off", "signed off"


# The environments an engagement tracks per-environment tasks in (engagements.Environment
# has the same values; the template world names them for prerequisites).
ENVIRONMENTS: tuple[tuple[str, str], ...] = (
    ("development", "Development"),
    ("production", "Production"),
)


# The letters in their canonical order, with the field that stores each.
LETTERS: tuple[tuple[str, str, str], ...] = (
    ("R", "responsible", "Responsible"),
    ("A", "accountable", "Accountable"),
    ("C", "consulted", "Consulted"),
    ("I", "informed", "Informed"),
)
LETTER_FIELDS = {letter: field for letter, field, _ in LETTERS}
