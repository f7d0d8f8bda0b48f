from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from engagements.actions.tasks import add_comment, reopen_task, sign_off_task, transition_task
from engagements.choices import Environment, TaskStatus
from engagements.lookups import get_task_for_action
from engagements.models import EngagementTask, TaskParty
from raci.models import Party

from ..pagination import Pages
from ..serializers.tasks import (
    CommentIn,
    CommentOut,
    ReopenIn,
    SignOffIn,
    TaskOut,
    TransitionIn,
)
from .common import ApiViewSet, body, perform, query


class TaskFilters(serializers.Serializer):
    engagement = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    environment = serializers.ChoiceField(
        choices=[("", "none"), *Environment.choices], required=False
    )
    key = serializers.CharField(required=False, max_length=60)


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The live tasks of the engagements you can see. Moves follow the task's state machine
    and the RACI letters, exactly as on the task page."""

    serializer_class = TaskOut
    pagination_class = Pages

    def get_queryset(self):
        tasks = (
            EngagementTask.objects.visible_to(self.request.user)
            .select_related("engagement")
            .prefetch_related(
                Prefetch("parties", queryset=TaskParty.objects.select_related("party").order_by())
            )
        )
        if self.action == "list":
            tasks = tasks.live().filter(**query(TaskFilters, self.request)).order_by("pk")
        return tasks

    @extend_schema(parameters=[TaskFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _answer(self, task: EngagementTask) -> Response:
        return Response(TaskOut(self.get_queryset().get(pk=task.pk)).data)

    def _current(self, task: EngagementTask):
        return lambda: TaskOut(self.get_queryset().get(pk=task.pk)).data

    @extend_schema(request=TransitionIn, responses=TaskOut)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Moves the task (not to signed off or reopened: those have their own actions)."""
        task = get_task_for_action(request.user, self.kwargs["pk"])
        data = body(TransitionIn, request)
        perform(
            lambda: transition_task(
                task,
                to=data["to"],
                actor=request.user,
                reason=data["reason"],
                revision=data.get("revision"),
            ),
            current=self._current(task),
        )
        return self._answer(task)

    @extend_schema(request=SignOffIn, responses=TaskOut)
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request, pk=None):
        """The signing party accepts the done task (an immutable sign-off record)."""
        task = get_task_for_action(request.user, self.kwargs["pk"])
        data = body(SignOffIn, request)
        perform(
            lambda: sign_off_task(
                task, actor=request.user, comment=data["comment"], revision=data.get("revision")
            ),
            current=self._current(task),
        )
        return self._answer(task)

    @extend_schema(request=ReopenIn, responses=TaskOut)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """The signing party reopens a signed-off task, with a reason."""
        task = get_task_for_action(request.user, self.kwargs["pk"])
        data = body(ReopenIn, request)
        perform(
            lambda: reopen_task(
                task, actor=request.user, reason=data["reason"], revision=data.get("revision")
            ),
            current=self._current(task),
        )
        return self._answer(task)

    @extend_schema(request=CommentIn, responses={201: CommentOut})
    @action(detail=True, methods=["post"], url_path="comments")
    def comment(self, request, pk=None):
        """A comment by any member; with addressed_to, a question to a Consulted party."""
        task = get_task_for_action(request.user, self.kwargs["pk"])
        data = body(CommentIn, request)
        party = None
        if data.get("addressed_to") is not None:
            party = Party.objects.filter(pk=data["addressed_to"]).first()
            if party is None:
                raise serializers.ValidationError({"addressed_to": ["No such party."]})
        comment = add_comment(task, actor=request.user, body=data["body"], addressed_to=party)
        return Response(CommentOut(comment).data, status=status.HTTP_201_CREATED)
