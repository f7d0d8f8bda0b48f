"""The audit trail (events) and the person's portal notifications."""

from __future__ import annotations

from rest_framework import serializers

from engagements import events
from engagements.choices import ReminderKind
from engagements.models import Event, Notification


class EventOut(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="engagement_id")
    kind = serializers.CharField(
        source="verb", help_text="The machine-readable kind, from the event registry."
    )
    task = serializers.IntegerField(source="task_id", allow_null=True)
    actor = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id",
            "engagement",
            "kind",
            "title",
            "task",
            "actor",
            "from_state",
            "to_state",
            "data",
            "created_at",
        ]

    def get_actor(self, event: Event) -> str | None:
        return event.actor.get_username() if event.actor is not None else None

    def get_title(self, event: Event) -> str:
        return events.title(event, event.task)


class NotificationOut(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="engagement_id", allow_null=True)
    event = serializers.IntegerField(source="event_id", allow_null=True)
    task = serializers.IntegerField(source="task_id", allow_null=True)
    title = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "engagement",
            "event",
            "task",
            "kind",
            "reason",
            "title",
            "created_at",
            "read_at",
        ]

    def get_title(self, notification: Notification) -> str:
        if notification.event_id is None:  # a reminder
            what = str(dict(ReminderKind.choices).get(notification.kind, notification.kind))
            return f"{what}: {notification.task.label}" if notification.task is not None else what
        return events.title(notification.event, notification.task)


class ReadAllOut(serializers.Serializer):
    marked = serializers.IntegerField()
