from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from engagements.choices import (
    ChecklistStatus,
    Environment,
)
from raci.models import RequirementFields

from .core import Engagement


class InfrastructureChecklist(models.Model):
    """The PSaaS Appliance Infrastructure Checklist of one environment of an engagement.

    The subscriber saves drafts and submits it when the VMs are ready; the
    vendor (Consulted on Preparing VM Infrastructure) accepts it or returns it
    with a comment per item. Acceptance completes that environment's task.
    """

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="checklists")
    environment = models.CharField(max_length=12, choices=Environment.choices)
    status = models.CharField(
        max_length=12, choices=ChecklistStatus.choices, default=ChecklistStatus.DRAFT
    )
    revision = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["engagement", "environment"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "environment"], name="checklist_per_environment"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ChecklistStatus.values), name="checklist_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(environment__in=Environment.values), name="checklist_environment_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Infrastructure checklist, {self.get_environment_display()}, {self.engagement}"

    @property
    def is_editable(self) -> bool:
        return self.status in (ChecklistStatus.DRAFT, ChecklistStatus.RETURNED)


class ChecklistItem(RequirementFields):
    """One item of a checklist, copied from the template version's item definition: its typed
    value (normalised parts and the line shown), the subscriber's tick that the requirement is
    met, a note, and the reviewer's comment."""

    checklist = models.ForeignKey(
        InfrastructureChecklist, on_delete=models.CASCADE, related_name="items"
    )
    value = models.TextField(blank=True, help_text="The value as the pages show it.")
    parts = models.JSONField(default=dict, blank=True, help_text="The value's normalised parts.")
    confirmed = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["checklist", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "key"], name="checklist_item_unique"),
            *RequirementFields.requirement_constraints("checklist_item"),
        ]

    def __str__(self) -> str:
        return self.label


class VMFields(models.Model):
    """A virtual machine of an environment: its name, address and size."""

    name = models.CharField(max_length=63)
    address = models.CharField(max_length=253, help_text="Host name or IP address.")
    processors = models.PositiveSmallIntegerField()
    memory_gb = models.PositiveIntegerField()
    storage_gb = models.PositiveIntegerField()

    VM_FIELD_NAMES = ("name", "address", "processors", "memory_gb", "storage_gb")

    class Meta:
        abstract = True

    def vm_values(self) -> dict:
        return {name: getattr(self, name) for name in self.VM_FIELD_NAMES}


class ChecklistVM(VMFields):
    """A VM the subscriber lists on a checklist; the accepted list becomes the inventory."""

    checklist = models.ForeignKey(
        InfrastructureChecklist, on_delete=models.CASCADE, related_name="vms"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["checklist", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "name"], name="checklist_vm_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class VirtualMachine(VMFields):
    """The VM inventory of an environment: the VMs of its accepted Infrastructure Checklist."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="vms")
    environment = models.CharField(max_length=12, choices=Environment.choices)
    checklist = models.ForeignKey(
        InfrastructureChecklist,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The accepted checklist that listed it.",
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["engagement", "environment", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "environment", "name"], name="vm_inventory_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(environment__in=Environment.values), name="vm_environment_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_environment_display()}, {self.engagement})"
