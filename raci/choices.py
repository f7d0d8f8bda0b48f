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


# The letters in their canonical order, with the field that stores each.
LETTERS: tuple[tuple[str, str, str], ...] = (
    ("R", "responsible", "Responsible"),
    ("A", "accountable", "Accountable"),
    ("C", "consulted", "Consulted"),
    ("I", "informed", "Informed"),
)
LETTER_FIELDS = {letter: field for letter, field, _ in LETTERS}
