"""Forms validate and normalise input; the services decide what the rules allow."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from engagements.actions.cycles import SnapshotIn
from engagements.actions.duties import AttestationIn
from engagements.cleaning import COMMENT_MAX_LENGTH
from psaas_portal import inputs
from psaas_portal.params import parse_id
from raci.checklist_values import PARTS, VM_FIELDS

from .choices import (
    AttestationResult,
    Environment,
    EnvironmentSet,
    IssueScope,
    IssueState,
    Severity,
    TaskStatus,
    TestResult,
)


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
    answer_to = forms.IntegerField(required=False, widget=forms.HiddenInput)


MAX_VM_ROWS = 100


class ChecklistForm(RevisionForm):
    """The checklist's items, each with its typed inputs, a tick and a note, and the VM rows.

    Inputs are only cleaned as text here: raci.checklist_values (called by the service)
    decides whether a value is acceptable, so the page and the API refuse alike.
    """

    vm_rows = forms.IntegerField(required=False, min_value=0, max_value=MAX_VM_ROWS)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.checklist_items = list(items)
        for item in self.checklist_items:
            for part in PARTS.get(item.kind, ()):
                self.fields[f"{item.key}-{part.name}"] = text(
                    f"{item.label}, {part.label.lower()}",
                    required=False,
                    rows=3 if part.input_type == "textarea" else 0,
                )
            self.fields[f"{item.key}-confirmed"] = forms.BooleanField(
                label=f"{item.label} met", required=False
            )
            self.fields[f"{item.key}-note"] = forms.CharField(
                label=f"Note on {item.label}",
                required=False,
                max_length=COMMENT_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 1}),
            )
        rows = parse_id(self.data.get("vm_rows"), maximum=MAX_VM_ROWS) if self.is_bound else None
        for n in range(rows or 0):
            for name in VM_FIELDS:
                self.fields[f"vm-{n}-{name}"] = text(
                    f"VM {n + 1} {name}", required=False, max_length=253
                )

    def items(self) -> dict[str, dict]:
        data = self.cleaned_data
        return {
            item.key: {
                "value": {p.name: data[f"{item.key}-{p.name}"] for p in PARTS.get(item.kind, ())},
                "confirmed": data[f"{item.key}-confirmed"],
                "note": data[f"{item.key}-note"],
            }
            for item in self.checklist_items
        }

    def vms(self) -> list[dict] | None:
        """The VM rows, or None when the form carried none (the VMs are left as they are)."""
        rows = self.cleaned_data.get("vm_rows")
        if rows is None:
            return None
        return [
            {name: self.cleaned_data.get(f"vm-{n}-{name}", "") for name in VM_FIELDS}
            for n in range(rows)
        ]


class ChecklistReviewForm(RevisionForm):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept"), ("return", "Return to the subscriber")]
    )
    comment = forms.CharField(
        required=False, max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = [item.key for item in items]
        for item in items:
            self.fields[f"{item.key}-comment"] = inputs.SingleLineField(
                label=f"Comment on {item.label}", required=False, max_length=COMMENT_MAX_LENGTH
            )

    def item_comments(self) -> dict[str, str]:
        return {key: self.cleaned_data[f"{key}-comment"] for key in self.keys}


# --- Operations ----------------------------------------------------------------------

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class UTCDateTimeField(forms.DateTimeField):
    """A date and time the person typed in UTC, whatever the server's TIME_ZONE."""

    def to_python(self, value):
        with timezone.override(dt.UTC):
            return super().to_python(value)


def when(label: str, **kwargs) -> forms.DateTimeField:
    """A date and time in UTC, from the browser's datetime-local input."""
    return UTCDateTimeField(
        label=f"{label} (UTC)",
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        **kwargs,
    )


def text(label: str, *, required: bool = True, rows: int = 0, max_length: int = COMMENT_MAX_LENGTH):
    """One line (control characters, CR and LF refused) or, with rows, several."""
    if rows:
        widget = forms.Textarea(attrs={"rows": rows})
        return inputs.MultiLineField(
            label=label, required=required, max_length=max_length, widget=widget
        )
    return inputs.SingleLineField(label=label, required=required, max_length=max_length)


class WindowsForm(forms.Form):
    """A window per environment. Given the engagement's `environments`, only theirs are
    fields; without, the Development window is optional here and the service asks for it
    where the engagement runs Development."""

    dev_start = when("Development window starts", required=False)
    dev_end = when("Development window ends", required=False)
    prod_start = when("Production window starts")
    prod_end = when("Production window ends")

    def __init__(self, *args, environments: tuple[str, ...] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if environments is None:
            return
        for name in ("dev_start", "dev_end"):
            if Environment.DEVELOPMENT in environments:
                self.fields[name].required = True
            else:
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if bool(data.get("dev_start")) != bool(data.get("dev_end")):
            raise forms.ValidationError("Give both ends of the Development window.")
        return data

    def windows(self) -> dict:
        d = self.cleaned_data
        out = {Environment.PRODUCTION: (d["prod_start"], d["prod_end"])}
        if d.get("dev_start"):
            out[Environment.DEVELOPMENT] = (d["dev_start"], d["dev_end"])
        return out


class CycleProposeForm(WindowsForm):
    release = text("Release", max_length=40)
    release_notes_url = forms.URLField(
        label="Release notes link", required=False, max_length=300, assume_scheme="https"
    )

    field_order = ["release", "release_notes_url"]


class CycleWindowsForm(RevisionForm, WindowsForm):
    pass


class PrepareForm(RevisionForm):
    environment = forms.ChoiceField(choices=Environment.choices)
    snapshots = text(
        "VM snapshots: one per line, “VM, snapshot id, YYYY-MM-DD HH:MM” (UTC)", rows=3
    )
    access_provided = forms.BooleanField(
        label="Access to the appliance is provided", required=False
    )
    present = text("Who will be present during the update", max_length=300)

    def clean_snapshots(self) -> list[SnapshotIn]:
        out = []
        for number, line in enumerate(self.cleaned_data["snapshots"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 3 or not all(parts):
                raise forms.ValidationError(
                    f"Line {number}: write “VM, snapshot id, YYYY-MM-DD HH:MM”."
                )
            taken = None
            for fmt in DATETIME_FORMATS:
                try:
                    taken = dt.datetime.strptime(parts[2], fmt)
                    break
                except ValueError:
                    continue
            if taken is None:
                raise forms.ValidationError(
                    f"Line {number}: {parts[2]!r} is not a time like 2026-11-27 09:30."
                )
            out.append(SnapshotIn(parts[0], parts[1], taken.replace(tzinfo=dt.UTC)))
        return out


class EnvironmentForm(RevisionForm):
    environment = forms.ChoiceField(choices=Environment.choices)


class StatusMessageForm(RevisionForm):
    message = text("Status update", rows=2)


class FinishForm(RevisionForm):
    scripts = text("Manual scripts run (or “none required”)", rows=2)


class TestResultForm(RevisionForm):
    result = forms.ChoiceField(choices=TestResult.choices)
    notes = text("What was tested, and what failed", required=False, rows=3)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.HIGH, required=False)


class ReasonForm(RevisionForm):
    reason = text("Reason", rows=2)


class WindowOverrideForm(EnvironmentForm):
    reason = text("Reason for starting outside the window", rows=2)


class HandoverForm(forms.Form):
    starts_at = when("Starts")
    duration_minutes = forms.IntegerField(
        label="Length (minutes)", min_value=15, max_value=480, initial=90
    )
    location = text("Room or meeting link", required=False, max_length=300)
    attendees = forms.TypedMultipleChoiceField(coerce=int, choices=[], label="Attendees")

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = [
            (m.user_id, f"{m.user.get_full_name() or m.user.username} ({m.party.name})")
            for m in members
        ]


class HandoverScheduleForm(HandoverForm):
    agenda = text("Agenda", required=False, rows=5)


class HandoverRescheduleForm(RevisionForm, HandoverForm):
    pass


class HeldForm(RevisionForm):
    notes = text("Meeting notes", rows=4)
    questions_answered = text("Questions answered", required=False, rows=3)


class AttestationForm(forms.Form):
    performed_at = when("Done at")
    result = forms.ChoiceField(choices=AttestationResult.choices)
    tool = text(
        "Tool (e.g. the appliance's Command-Line Tools backup)", required=False, max_length=120
    )
    reference = text("Reference (file, snapshot or job id)", required=False, max_length=200)
    size_bytes = forms.IntegerField(
        label="Size in bytes", required=False, min_value=0, max_value=2**63 - 1
    )
    monitored = text("What is monitored", required=False, max_length=300)
    alerts_to = text("Where alerts go", required=False, max_length=200)
    notes = text("Notes (what failed, if it failed)", required=False, rows=2)

    def attestation(self) -> AttestationIn:
        return AttestationIn(**self.cleaned_data)


class CadenceForm(forms.Form):
    cadence_days = forms.IntegerField(label="Every (days)", min_value=1, max_value=366)
    grace_days = forms.IntegerField(label="Grace (days)", min_value=0, max_value=60)


class TokenForm(forms.Form):
    name = text("Token name (e.g. nightly backup job)", max_length=80)


class IssueForm(forms.Form):
    title = text("Title", max_length=200)
    environment = forms.ChoiceField(choices=Environment.choices)
    # Required, with nothing chosen at first: a pre-selected "Critical" was sent unread.
    severity = forms.ChoiceField(
        choices=[("", "Choose how severe it is"), *Severity.choices],
        error_messages={"required": "Choose how severe the issue is."},
    )
    description = text("Description", rows=4)
    ticket_reference = text("Support Center ticket (if submitted)", required=False, max_length=60)
    scope = forms.ChoiceField(
        label="Where it lies", choices=IssueScope.choices, initial=IssueScope.CORE, required=False
    )

    def __init__(self, *args, environments: tuple[str, ...] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if environments is not None:
            self.fields["environment"].choices = [  # type: ignore[attr-defined]
                (value, label) for value, label in Environment.choices if value in environments
            ]

    cycle = forms.IntegerField(required=False, widget=forms.HiddenInput)


class IssueMoveForm(RevisionForm):
    to = forms.ChoiceField(choices=IssueState.choices)
    note = text("Note", required=False, rows=2)


class ScopeForm(RevisionForm):
    scope = forms.ChoiceField(choices=IssueScope.choices)
    reason = text("Reason", rows=2)


class TicketForm(RevisionForm):
    reference = text("Support Center ticket", max_length=60)


# --- Members and new engagements ------------------------------------------------------------


class RoleTitlesField(forms.MultipleChoiceField):
    """Role titles ticked on the page; any single-line title passes here, and the membership
    service refuses one the party does not have in the template (with its message)."""

    def valid_value(self, value) -> bool:
        try:
            inputs.validate_single_line(str(value))
        except forms.ValidationError:
            return False
        return 0 < len(str(value)) <= 120


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    party = forms.IntegerField(widget=forms.HiddenInput)
    roles = RoleTitlesField(required=False)
    is_manager = forms.BooleanField(required=False, label="Manager of the engagement")


class MemberChangeForm(forms.Form):
    roles = RoleTitlesField(required=False)
    is_manager = forms.BooleanField(required=False, label="Manager of the engagement")


class EngagementStartForm(forms.Form):
    """The subscriber (an existing one, or the name of a new one), the engagement's name, the
    template version, the environments it runs, the kickoff date and the CSE. The choices are
    given by the view."""

    organization = forms.ModelChoiceField(
        queryset=None, required=False, label="Subscriber", empty_label="A new subscriber…"
    )
    new_organization = inputs.SingleLineField(
        required=False, max_length=150, label="New subscriber's name"
    )
    name = inputs.SingleLineField(max_length=150, label="Engagement name")
    version = forms.ModelChoiceField(queryset=None, label="RACI template version")
    kickoff_date = forms.DateField(
        label="Kickoff date", widget=forms.DateInput(attrs={"type": "date"})
    )
    environments = forms.ChoiceField(
        choices=EnvironmentSet.choices,
        initial=EnvironmentSet.BOTH,
        required=False,  # not sent: both, as the seed's matrix has it
        label="Environments",
        widget=forms.RadioSelect,
    )
    cse = forms.ModelChoiceField(queryset=None, label="Customer Success Engineer")

    def __init__(self, *args, organizations, versions, cses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]
        self.fields["version"].queryset = versions  # type: ignore[attr-defined]
        self.fields["cse"].queryset = cses  # type: ignore[attr-defined]
        self.fields["cse"].label_from_instance = lambda u: (  # type: ignore[attr-defined]
            f"{u.get_full_name() or u.username} ({u.email})" if u.email else u.username
        )

    def clean_environments(self) -> str:
        return self.cleaned_data["environments"] or EnvironmentSet.BOTH

    def clean(self):
        data = super().clean()
        if not data.get("organization") and not (data.get("new_organization") or "").strip():
            raise forms.ValidationError("Choose a subscriber, or name a new one.")
        if data.get("organization") and (data.get("new_organization") or "").strip():
            raise forms.ValidationError("Choose a subscriber or name a new one, not both.")
        return data


class DueDatesForm(forms.Form):
    """The due date of each task of the engagement being started, computed from the template's
    offsets and the kickoff date and editable (empty: no due date). One field per task, named
    `due:<key>:<environment>`; `rows` are engagements.actions.engagements.due_dates'."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            label = f"{row.name} ({row.environment_label})" if row.environment else row.name
            self.fields[self.name_of(row)] = forms.DateField(
                required=False,
                label=f"Due date of {label}",
                initial=row.due,
                widget=forms.DateInput(
                    attrs={"type": "date", "aria-label": f"Due date of {label}"}
                ),
            )

    @staticmethod
    def name_of(row) -> str:
        return f"due:{row.key}:{row.environment}"

    def chosen(self) -> dict:
        """{(key, environment): date or None} for the dates that differ from the computed."""
        return {
            (row.key, row.environment): self.cleaned_data[self.name_of(row)]
            for row in self.rows
            if self.cleaned_data[self.name_of(row)] != row.due
        }

    def table(self) -> list:
        """(row, bound field) for the page."""
        return [(row, self[self.name_of(row)]) for row in self.rows]
