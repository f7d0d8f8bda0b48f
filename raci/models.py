"""The RACI template world: parties, versioned templates, tasks and their letters.

This app knows nothing of engagements; `engagements` copies from it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from .checklist_values import ChecklistSpec
from .choices import (
    ENVIRONMENTS,
    LETTERS,
    Phase,
    PrerequisiteUntil,
    Tracking,
    ValueKind,
    VersionStatus,
)


class Party(models.Model):
    """A side of the matrix: the vendor ("Auth0") or the subscriber."""

    name = models.CharField(max_length=80, unique=True)
    is_vendor = models.BooleanField(
        default=False, help_text="The vendor side (runs and signs off the appliance)."
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["-is_vendor", "name"]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return self.name


class RaciTemplate(models.Model):
    """A named RACI matrix ("PSaaS Appliance"), maintained as numbered versions."""

    name = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TemplateVersionQuerySet(models.QuerySet):
    def published(self) -> TemplateVersionQuerySet:
        return self.filter(status=VersionStatus.PUBLISHED)

    def latest_published(self, template_name: str | None = None) -> TemplateVersion | None:
        qs = self.published().select_related("template")
        if template_name:
            qs = qs.filter(template__name=template_name)
        return qs.order_by("-published_at", "-number").first()


class TemplateVersion(models.Model):
    """One version of a template: a draft admins edit, or a published, frozen matrix."""

    template = models.ForeignKey(RaciTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    general_division = models.TextField(
        blank=True, help_text="The general division of responsibilities, as prose."
    )
    raci_definitions = models.TextField(
        blank=True, help_text="What Responsible, Accountable, Consulted and Informed mean."
    )
    parties = models.ManyToManyField(Party, through="VersionParty", related_name="versions")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What changed and why, written by whoever published it (the editor asks for it; versions
    # published by an import or the seed may have none). Shown in the version list and diffs.
    change_note = models.TextField(blank=True)

    objects = TemplateVersionQuerySet.as_manager()

    class Meta:
        ordering = ["template__name", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="raci_version_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=VersionStatus.values), name="raci_version_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=VersionStatus.DRAFT) | Q(published_at__isnull=False),
                name="raci_version_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number} ({self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class VersionParty(models.Model):
    """A party's column in a template version, in display order."""

    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="columns")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "party"], name="raci_column_party_unique"),
            models.UniqueConstraint(
                fields=["version", "position"], name="raci_column_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} / {self.party}"


class TemplateTask(models.Model):
    """A row of the matrix: a task or deliverable, with its notes and how it is tracked."""

    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveSmallIntegerField()
    key = models.SlugField(
        max_length=60,
        blank=True,
        help_text="A stable identifier across versions (e.g. 'deployment'); the portal finds "
        "the tasks with special screens (checklist, updates) by it.",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    is_optional = models.BooleanField(
        default=False, help_text='"If required": an engagement may mark it not applicable.'
    )
    tracking = models.CharField(max_length=20, choices=Tracking.choices, default=Tracking.ONCE)
    due_offset_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(3650)],
        help_text="Days after kickoff the task is due, if it has a due date.",
    )
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.ONBOARDING)
    tool = models.CharField(
        max_length=120,
        blank=True,
        help_text="The tool the template names for this task's work (the seed: Backing Up "
        "uses the Command-Line Tools); offered first, another is accepted and flagged.",
    )
    four_eyes = models.BooleanField(
        default=False,
        help_text="The person who signs it off must not be the person who completed it.",
    )

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="raci_task_order_unique"),
            models.UniqueConstraint(fields=["version", "name"], name="raci_task_name_unique"),
            models.CheckConstraint(
                condition=Q(tracking__in=Tracking.values), name="raci_task_tracking_valid"
            ),
            models.CheckConstraint(
                condition=Q(phase__in=Phase.values), name="raci_task_phase_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.name} (if required)" if self.is_optional else self.name


class Prerequisite(models.Model):
    """A template task that must reach a point before another may start or be completed.

    Where both tasks are tracked per environment and no environment is named, each
    environment of the waiting task needs the same environment of the required task
    ("configuration of an environment needs its deployment signed off"). `environment`
    names one environment of the required task ("the Development deployment"), and
    `for_environment` limits the waiting task to one environment ("the Production
    deployment needs ...").
    """

    task = models.ForeignKey(TemplateTask, on_delete=models.CASCADE, related_name="prerequisites")
    required = models.ForeignKey(TemplateTask, on_delete=models.CASCADE, related_name="+")
    until = models.CharField(
        max_length=12, choices=PrerequisiteUntil.choices, default=PrerequisiteUntil.DONE
    )
    environment = models.CharField(max_length=12, blank=True, choices=ENVIRONMENTS)
    for_environment = models.CharField(max_length=12, blank=True, choices=ENVIRONMENTS)

    class Meta:
        ordering = ["task", "required__position", "environment"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "required", "environment", "for_environment"],
                name="raci_prerequisite_unique",
            ),
            models.CheckConstraint(
                condition=Q(until__in=PrerequisiteUntil.values), name="raci_prerequisite_until"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} needs {self.describe()}"

    def describe(self) -> str:
        """ "Deployment (Development) signed off" """
        env = dict(ENVIRONMENTS).get(self.environment, "")
        name = f"{self.required.name} ({env})" if env else self.required.name
        return f"{name} {self.get_until_display()}"


class LetterFields(models.Model):
    """The R, A, C, I letters of one cell, with its condition and role title.

    Shared by the template's cells and the engagement's copies of them, so both
    carry the same invariants: at least one letter; a condition only qualifies
    the communication letters (C, I), never who does or owns the work.
    """

    responsible = models.BooleanField(default=False)
    accountable = models.BooleanField(default=False)
    consulted = models.BooleanField(default=False)
    informed = models.BooleanField(default=False)
    condition = models.CharField(
        max_length=120,
        blank=True,
        help_text='Qualifies C and I, e.g. "in the event that there are issues".',
    )
    role_title = models.CharField(
        max_length=120, blank=True, help_text='e.g. "Auth0 Customer Success Engineer".'
    )

    class Meta:
        abstract = True

    @classmethod
    def letter_constraints(cls, prefix: str) -> list[models.CheckConstraint]:
        return [
            models.CheckConstraint(
                condition=Q(responsible=True)
                | Q(accountable=True)
                | Q(consulted=True)
                | Q(informed=True),
                name=f"{prefix}_letters_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(condition="") | Q(consulted=True) | Q(informed=True),
                name=f"{prefix}_condition_needs_c_or_i",
            ),
        ]

    LETTER_FIELD_NAMES = (
        "responsible",
        "accountable",
        "consulted",
        "informed",
        "condition",
        "role_title",
    )

    def letter_values(self) -> dict:
        """The cell's letters, condition and role title, to copy into another cell."""
        return {name: getattr(self, name) for name in self.LETTER_FIELD_NAMES}

    @property
    def letters(self) -> str:
        """The letters in canonical order, e.g. "RA"."""
        return "".join(letter for letter, field, _ in LETTERS if getattr(self, field))

    @property
    def is_conditional(self) -> bool:
        return bool(self.condition)

    def cell_text(self) -> str:
        """The cell as the matrix prints it: "C, I (in the event that there are issues)"."""
        text = ", ".join(self.letters)
        if self.role_title:
            text += f" - {self.role_title}"
        if self.condition:
            text += f" ({self.condition})"
        return text


class TemplateCell(LetterFields):
    """The letters one party holds on one template task."""

    task = models.ForeignKey(TemplateTask, on_delete=models.CASCADE, related_name="cells")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="template_cells")

    class Meta:
        ordering = ["task", "party"]
        constraints = [
            models.UniqueConstraint(fields=["task", "party"], name="raci_cell_task_party_unique"),
            *LetterFields.letter_constraints("raci_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.task} / {self.party}: {self.cell_text()}"


class RequirementFields(models.Model):
    """An Infrastructure Checklist item's definition: what it checks and how its value is typed.

    Shared by the template version's items and the engagement checklist's copies of them.
    Values are checked by `raci.checklist_values` against `kind`, `required`, `min_value` and
    `max_value` (the last two only for counts and sizes).
    """

    position = models.PositiveSmallIntegerField(default=0)
    key = models.SlugField(
        max_length=40, help_text="A stable identifier across versions (e.g. 'processors')."
    )
    label = models.CharField(max_length=80)
    requirement = models.TextField(blank=True, help_text="What the item checks, as the seed says.")
    kind = models.CharField(max_length=12, choices=ValueKind.choices, default=ValueKind.TEXT)
    required = models.BooleanField(
        default=True, help_text="A value is needed before the item can be ticked as met."
    )
    min_value = models.PositiveIntegerField(null=True, blank=True)
    max_value = models.PositiveIntegerField(null=True, blank=True)

    SPEC_FIELD_NAMES = ("key", "label", "requirement", "kind", "required", "min_value", "max_value")

    class Meta:
        abstract = True

    @classmethod
    def requirement_constraints(cls, prefix: str) -> list[models.CheckConstraint]:
        return [
            models.CheckConstraint(
                condition=Q(kind__in=ValueKind.values), name=f"{prefix}_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=models.F("max_value")),
                name=f"{prefix}_min_not_above_max",
            ),
        ]

    def spec(self) -> ChecklistSpec:
        return ChecklistSpec(**{name: getattr(self, name) for name in self.SPEC_FIELD_NAMES})

    @property
    def range_text(self) -> str:
        if self.min_value is not None and self.max_value is not None:
            return f"{self.min_value} to {self.max_value}"
        if self.min_value is not None:
            return f"at least {self.min_value}"
        if self.max_value is not None:
            return f"at most {self.max_value}"
        return ""


class ChecklistRequirement(RequirementFields):
    """One item of the Infrastructure Checklist a template version asks the subscriber for.

    Engagements copy a version's items into each environment's checklist; a new draft
    copies them from the version it starts from, and the editor changes them there.
    """

    version = models.ForeignKey(
        TemplateVersion, on_delete=models.CASCADE, related_name="checklist_requirements"
    )

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="raci_requirement_key_unique"),
            models.UniqueConstraint(
                fields=["version", "position"], name="raci_requirement_position_unique"
            ),
            *RequirementFields.requirement_constraints("raci_requirement"),
        ]

    def __str__(self) -> str:
        return f"{self.version} / {self.label}"
