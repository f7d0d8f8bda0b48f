"""The audit trail and the person's notifications."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from engagements.actions.notifications import mark_all_read, mark_read
from engagements.choices import Channel
from engagements.events import REGISTRY
from engagements.models import Event, Notification
from engagements.querysets import visible_engagements_q

from ..pagination import EventCursor, Pages
from ..serializers.activity import EventOut, NotificationOut, ReadAllOut
from .common import ApiViewSet, query


class EventFilters(serializers.Serializer):
    engagement = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    kind = serializers.ChoiceField(
        choices=sorted(REGISTRY), required=False, help_text="An event kind from the registry."
    )
    since = serializers.DateTimeField(required=False, help_text="At or after this time.")
    until = serializers.DateTimeField(required=False, help_text="Before this time.")


class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The audit trail of the engagements you can see, newest first, by cursor: for
    compliance tools. Events are never edited or deleted."""

    serializer_class = EventOut
    pagination_class = EventCursor

    def get_queryset(self):
        rows = Event.objects.filter(
            visible_engagements_q(self.request.user, ref="engagement_id")
        ).select_related("actor", "task")
        if self.action == "list":
            filters = query(EventFilters, self.request)
            rename = {
                "engagement": "engagement_id",
                "kind": "verb",
                "since": "created_at__gte",
                "until": "created_at__lt",
            }
            rows = rows.filter(**{rename[k]: v for k, v in filters.items()})
        return rows

    @extend_schema(parameters=[EventFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class NotificationFilters(serializers.Serializer):
    unread = serializers.BooleanField(required=False, help_text="Only unread ones.")


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Your own portal notifications, newest first."""

    serializer_class = NotificationOut
    pagination_class = Pages

    def get_queryset(self):
        rows = (
            Notification.objects.filter(recipient=self.request.user, channel=Channel.PORTAL)
            .select_related("event__actor", "task")
            .order_by("-created_at", "-id")
        )
        if self.action == "list" and query(NotificationFilters, self.request).get("unread"):
            rows = rows.filter(read_at__isnull=True)
        return rows

    @extend_schema(parameters=[NotificationFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=NotificationOut)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Marks the notification read (again: no change)."""
        if not mark_read(request.user, int(self.kwargs["pk"])):
            raise NotFound("No such notification.")
        return Response(NotificationOut(self.get_queryset().get(pk=self.kwargs["pk"])).data)

    @extend_schema(request=None, responses=ReadAllOut)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Marks all your notifications read; answers how many were unread."""
        return Response({"marked": mark_all_read(request.user)})
