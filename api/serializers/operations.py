"""Checklists, update cycles and issues: read, and the checklist and issue actions."""

from __future__ import annotations

from rest_framework import serializers

from engagements.choices import Environment, IssueScope, IssueState, Severity
from engagements.cleaning import COMMENT_MAX_LENGTH
from engagements.models import (
    ChecklistItem,
    ChecklistVM,
    InfrastructureChecklist,
    Issue,
    UpdateCycle,
    UpdateStage,
)

from .fields import Boolean, Choice, Integer, Strict, Text, revision_field

# --- Checklists ----------------------------------------------------------------------


class ChecklistItemOut(serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = [
            "key",
            "label",
            "requirement",
            "kind",
            "required",
            "value",
            "parts",
            "confirmed",
            "note",
            "review_comment",
        ]


class ChecklistVMOut(serializers.ModelSerializer):
    class Meta:
        model = ChecklistVM
        fields = ["name", "address", "processors", "memory_gb", "storage_gb"]


class ChecklistOut(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="engagement_id")
    items = ChecklistItemOut(many=True)
    vms = ChecklistVMOut(many=True)

    class Meta:
        model = InfrastructureChecklist
        fields = [
            "id",
            "engagement",
            "environment",
            "status",
            "revision",
            "submitted_at",
            "reviewed_at",
            "review_comment",
            "updated_at",
            "items",
            "vms",
        ]


class TypedValue(serializers.JSONField):
    """A string, or an object of up to five string parts; each at most 500 characters."""

    def to_internal_value(self, data):
        parts = data.values() if isinstance(data, dict) else [data]
        if isinstance(data, dict) and (len(data) > 5 or not all(isinstance(k, str) for k in data)):
            raise serializers.ValidationError("An object of at most five named parts.")
        if not all(isinstance(p, str) for p in parts):
            raise serializers.ValidationError("A string, or an object of strings.")
        if any(len(p) > 500 for p in parts):
            raise serializers.ValidationError("At most 500 characters.")
        return data


class ChecklistItemIn(Strict):
    """One item's typed value: a string, or an object of its parts (an SSL certificate's
    `subject` and `expires`, an SMTP server's `host` and `port`, how the vendor reaches the
    VMs: `method` and `address`), checked by the same rules as the page."""

    value = TypedValue(required=False, default="")
    confirmed = Boolean(required=False, default=False)
    note = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default="")


class ChecklistVMIn(Strict):
    name = Text(max_length=63)
    address = Text(max_length=253)
    processors = Integer(min_value=1, max_value=512)
    memory_gb = Integer(min_value=1, max_value=65536)
    storage_gb = Integer(min_value=1, max_value=1_000_000)


class ChecklistSaveIn(Strict):
    items = serializers.DictField(
        child=ChecklistItemIn(),
        required=False,
        help_text="The items to change, by key (the checklist's `items[].key`); items left "
        "out are kept as they are.",
    )
    vms = ChecklistVMIn(
        many=True,
        required=False,
        help_text="The environment's VMs; when given, they replace the list.",
    )
    revision = revision_field()


class ChecklistReviewIn(Strict):
    decision = Choice(choices=[("accept", "Accept"), ("return", "Return with comments")])
    comment = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default="")
    item_comments = serializers.DictField(
        child=Text(allow_blank=True, max_length=COMMENT_MAX_LENGTH), required=False
    )
    revision = revision_field()


# --- Update cycles --------------------------------------------------------------------


class StageOut(serializers.ModelSerializer):
    class Meta:
        model = UpdateStage
        fields = [
            "environment",
            "window_start",
            "window_end",
            "access_provided",
            "present",
            "prepared_at",
            "started_at",
            "scripts",
            "finished_at",
            "test_result",
            "test_notes",
            "tested_at",
        ]


class CycleOut(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="engagement_id")
    windows_proposed_by = serializers.IntegerField(source="windows_proposed_by_id")
    stages = StageOut(many=True)

    class Meta:
        model = UpdateCycle
        fields = [
            "id",
            "engagement",
            "release",
            "release_notes_url",
            "state",
            "windows_proposed_by",
            "override_reason",
            "override_at",
            "revision",
            "created_at",
            "updated_at",
            "stages",
        ]


# --- Issues ---------------------------------------------------------------------------


class IssueOut(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="engagement_id")
    raised_by = serializers.CharField(source="raised_by.get_username")
    cycle = serializers.IntegerField(source="cycle_id", allow_null=True)

    class Meta:
        model = Issue
        fields = [
            "id",
            "engagement",
            "title",
            "environment",
            "severity",
            "description",
            "ticket_reference",
            "scope",
            "state",
            "resolution",
            "cycle",
            "raised_by",
            "revision",
            "created_at",
            "updated_at",
        ]


class IssueRaiseIn(Strict):
    engagement = Integer(min_value=1, max_value=2**63 - 1)
    title = Text(max_length=200)
    environment = Choice(choices=Environment.choices)
    severity = Choice(choices=Severity.choices)
    description = Text(max_length=COMMENT_MAX_LENGTH)
    ticket_reference = Text(required=False, allow_blank=True, max_length=60, default="")
    scope = Choice(choices=IssueScope.choices, required=False, default=IssueScope.CORE)


class IssueMoveIn(Strict):
    to = Choice(choices=IssueState.choices)
    note = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default="")
    revision = revision_field()
