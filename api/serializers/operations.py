"""Checklists, update cycles and issues: read, and the checklist and issue actions."""

from __future__ import annotations

from rest_framework import serializers

from engagements.choices import ChecklistItemKey, Environment, IssueState, Severity
from engagements.cleaning import COMMENT_MAX_LENGTH
from engagements.models import (
    ChecklistItem,
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
        fields = ["key", "value", "confirmed", "note", "review_comment"]


class ChecklistOut(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="engagement_id")
    items = ChecklistItemOut(many=True)

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
        ]


class ChecklistItemIn(Strict):
    value = Text(required=False, allow_blank=True, max_length=500, default="")
    confirmed = Boolean(required=False, default=False)
    note = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default="")


class ChecklistItemsIn(Strict):
    """The items to change, by key; items left out are kept as they are."""

    memory = ChecklistItemIn(required=False)
    storage = ChecklistItemIn(required=False)
    processors = ChecklistItemIn(required=False)
    load_balancers = ChecklistItemIn(required=False)
    networks = ChecklistItemIn(required=False)
    ssl_certificates = ChecklistItemIn(required=False)
    dns_records = ChecklistItemIn(required=False)
    smtp_servers = ChecklistItemIn(required=False)
    vendor_access = ChecklistItemIn(required=False)


assert set(ChecklistItemsIn().fields) == set(ChecklistItemKey.values)


class ChecklistSaveIn(Strict):
    items = ChecklistItemsIn(required=False)
    revision = revision_field()


class ItemCommentsIn(Strict):
    memory = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH)
    storage = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH)
    processors = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH)
    load_balancers = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH)
    networks = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH)
    ssl_certificates = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH)
    dns_records = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH)
    smtp_servers = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH)
    vendor_access = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH)


class ChecklistReviewIn(Strict):
    decision = Choice(choices=[("accept", "Accept"), ("return", "Return with comments")])
    comment = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default="")
    item_comments = ItemCommentsIn(required=False)
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


class IssueMoveIn(Strict):
    to = Choice(choices=IssueState.choices)
    note = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default="")
    revision = revision_field()
