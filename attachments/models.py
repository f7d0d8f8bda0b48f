"""An attachment: one file on one task, checklist item, issue or handover of an engagement.

The owner is one of four explicit nullable foreign keys, and a check constraint says that
exactly one is set: the database keeps the link honest (a deleted owner takes its
attachments with it, no dangling ids), each owner's page prefetches `attachments` through
the reverse relation, and the engagement, stored beside the owner, makes visibility one
queryset filter (`Attachment.objects.visible_to(user)`), the same one the owner's page uses.
The file itself lives in the "attachments" storage (settings.STORAGES) under `key`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from engagements.models import ChecklistItem, Engagement, EngagementTask, Handover, Issue
from engagements.querysets import visible_engagements_q

OWNER_FIELDS = ("task", "checklist_item", "issue", "handover")


def _exactly_one_owner() -> Q:
    out = Q()
    for field in OWNER_FIELDS:
        one = Q(**{f"{field}__isnull": False})
        for other in OWNER_FIELDS:
            if other != field:
                one &= Q(**{f"{other}__isnull": True})
        out |= one
    return out


class AttachmentQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> AttachmentQuerySet:
        """Attachments of the engagements the user may view: the owners' own visibility."""
        return self.filter(visible_engagements_q(user, ref="engagement_id"))


class Attachment(models.Model):
    """A file someone attached to a task, a checklist item, an issue or a handover: its name
    as uploaded, its size, type and checksum, who attached it and when."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(
        EngagementTask, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    checklist_item = models.ForeignKey(
        ChecklistItem, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    issue = models.ForeignKey(
        Issue, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    handover = models.ForeignKey(
        Handover, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    name = models.CharField(max_length=200, help_text="The file name as uploaded (cleaned).")
    key = models.CharField(max_length=300, unique=True, help_text="The name in the storage.")
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=_exactly_one_owner(), name="attachment_one_owner"),
            models.CheckConstraint(condition=Q(size__gte=0), name="attachment_size_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner(self) -> Any:
        for field in OWNER_FIELDS:
            if getattr(self, f"{field}_id"):
                return getattr(self, field)
        return None

    @property
    def owner_kind(self) -> str:
        return next((f for f in OWNER_FIELDS if getattr(self, f"{f}_id")), "")
