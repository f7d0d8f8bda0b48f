"""Reads: one attachment for download, with the access check of its owner's page."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from .models import Attachment


def get_attachment_for_view(user: Any, attachment_id: int) -> Attachment:
    """The attachment if the user may see its owner's page (a member of its engagement, or a
    portal admin); else 404, so that nothing tells another tenant it exists."""
    attachment = (
        Attachment.objects.visible_to(user)
        .select_related("task", "checklist_item", "issue", "handover")
        .filter(pk=attachment_id)
        .first()
    )
    if attachment is None:
        raise Http404("No such file.")
    return attachment
