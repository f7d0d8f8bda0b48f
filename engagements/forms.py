"""Forms validate and normalise input; the services decide what the rules allow."""

from __future__ import annotations

from django import forms

from .choices import ChecklistItemKey, TaskStatus
from .services import COMMENT_MAX_LENGTH


class RevisionForm(forms.Form):
    """Every state-changing form carries the revision it was rendered from."""

    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class TransitionForm(RevisionForm):
    to = forms.ChoiceField(choices=TaskStatus.choices)
    reason = forms.CharField(
        required=False, max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


class SignOffForm(RevisionForm):
    comment = forms.CharField(
        required=False, max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReopenForm(RevisionForm):
    reason = forms.CharField(
        max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    addressed_to = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ChecklistForm(RevisionForm):
    """The nine items, each with a value, a confirmation and a note."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in ChecklistItemKey.choices:
            self.fields[f"{key}-value"] = forms.CharField(
                label=label, required=False, max_length=500
            )
            self.fields[f"{key}-confirmed"] = forms.BooleanField(label="Confirmed", required=False)
            self.fields[f"{key}-note"] = forms.CharField(
                label="Note",
                required=False,
                max_length=COMMENT_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 1}),
            )

    def items(self) -> dict[str, dict]:
        data = self.cleaned_data
        return {
            key: {
                "value": data[f"{key}-value"],
                "confirmed": data[f"{key}-confirmed"],
                "note": data[f"{key}-note"],
            }
            for key in ChecklistItemKey.values
        }


class ChecklistReviewForm(RevisionForm):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept"), ("return", "Return to the subscriber")]
    )
    comment = forms.CharField(
        required=False, max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in ChecklistItemKey.choices:
            self.fields[f"{key}-comment"] = forms.CharField(
                label=f"Comment on {label.lower()}", required=False, max_length=COMMENT_MAX_LENGTH
            )

    def item_comments(self) -> dict[str, str]:
        return {key: self.cleaned_data[f"{key}-comment"] for key in ChecklistItemKey.values}
