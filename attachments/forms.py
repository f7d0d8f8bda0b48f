from __future__ import annotations

from django import forms


class AttachmentForm(forms.Form):
    """The upload; the limits are checked by the service (attachments.limits), which says
    what is allowed."""

    file = forms.FileField(label="File", allow_empty_file=True)
    item = forms.IntegerField(required=False, label="Checklist item")
