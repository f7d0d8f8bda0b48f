"""Tasks: read, and the four actions on them (move, sign off, reopen, comment)."""

from __future__ import annotations

from rest_framework import serializers

from engagements.choices import TaskStatus
from engagements.cleaning import COMMENT_MAX_LENGTH
from engagements.models import Comment, EngagementTask, TaskParty

from .fields import Choice, Integer, Strict, Text, revision_field


class TaskLettersOut(serializers.ModelSerializer):
    party = serializers.IntegerField(source="party_id")
    party_name = serializers.CharField(source="party.name")
    letters = serializers.CharField(source="cell_text")

    class Meta:
        model = TaskParty
        fields = ["party", "party_name", "letters", "condition", "role_title"]


class TaskBriefOut(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="engagement_id")
    is_overdue = serializers.BooleanField()

    class Meta:
        model = EngagementTask
        fields = [
            "id",
            "engagement",
            "key",
            "name",
            "label",
            "environment",
            "status",
            "blocked_reason",
            "due_date",
            "is_overdue",
            "revision",
            "updated_at",
        ]


class TaskOut(TaskBriefOut):
    letters = TaskLettersOut(source="parties", many=True)

    class Meta(TaskBriefOut.Meta):
        fields = [
            *TaskBriefOut.Meta.fields,
            "description",
            "notes",
            "is_optional",
            "reopen_count",
            "letters",
        ]


class TransitionIn(Strict):
    to = Choice(choices=TaskStatus.choices)
    reason = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default="")
    revision = revision_field()


class SignOffIn(Strict):
    comment = Text(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default="")
    revision = revision_field()


class ReopenIn(Strict):
    reason = Text(max_length=COMMENT_MAX_LENGTH)
    revision = revision_field()


class CommentIn(Strict):
    body = Text(max_length=COMMENT_MAX_LENGTH)
    addressed_to = Integer(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text="A Consulted party's id: the comment is a question to it.",
    )


class CommentOut(serializers.ModelSerializer):
    task = serializers.IntegerField(source="task_id")
    author = serializers.CharField(source="author.get_username")
    addressed_to = serializers.IntegerField(source="addressed_to_id", allow_null=True)

    class Meta:
        model = Comment
        fields = ["id", "task", "author", "body", "addressed_to", "created_at"]
