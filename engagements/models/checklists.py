from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from engagements.choices import (
    ChecklistItemKey,
    ChecklistStatus,
    Environment,
)

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


class ChecklistItem(models.Model):
    """One item of a checklist: a value or a confirmation, a note, and the reviewer's comment."""

    checklist = models.ForeignKey(
        InfrastructureChecklist, on_delete=models.CASCADE, related_name="items"
    )
    key = models.CharField(max_length=20, choices=ChecklistItemKey.choices)
    value = models.CharField(max_length=500, blank=True)
    confirmed = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["checklist", "id"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "key"], name="checklist_item_unique"),
            models.CheckConstraint(
                condition=Q(key__in=ChecklistItemKey.values), name="checklist_item_key_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.get_key_display()

    @property
    def is_complete(self) -> bool:
        return self.confirmed or bool(self.value.strip())
