"""Checklists, update cycles and issues."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from engagements.actions.checklists import review_checklist, save_checklist
from engagements.actions.issues import move_issue, raise_issue
from engagements.choices import ChecklistStatus, CycleState, Environment, IssueState
from engagements.lookups import get_checklist_for_view, get_owned_for_view
from engagements.models import Engagement, InfrastructureChecklist, Issue, UpdateCycle
from engagements.querysets import visible_engagements_q

from ..pagination import Pages
from ..serializers.operations import (
    ChecklistOut,
    ChecklistReviewIn,
    ChecklistSaveIn,
    CycleOut,
    IssueMoveIn,
    IssueOut,
    IssueRaiseIn,
)
from .common import ApiViewSet, body, perform, query

ID = {"min_value": 1, "max_value": 2**63 - 1, "required": False}


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    pagination_class = Pages
    filters: type[serializers.Serializer]

    def base_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        rows = self.base_queryset().filter(
            visible_engagements_q(self.request.user, ref="engagement_id")
        )
        if self.action == "list":
            rows = rows.filter(**query(self.filters, self.request)).order_by("pk")
        return rows


# --- Checklists ----------------------------------------------------------------------


class ChecklistFilters(serializers.Serializer):
    engagement = serializers.IntegerField(**ID)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    status = serializers.ChoiceField(choices=ChecklistStatus.choices, required=False)


class ChecklistViewSet(ReadViewSet):
    """The Infrastructure Checklists (one per environment): the subscriber saves and submits,
    the vendor reviews, as on the checklist page."""

    serializer_class = ChecklistOut
    filters = ChecklistFilters

    def base_queryset(self):
        return InfrastructureChecklist.objects.prefetch_related("items", "vms")

    @extend_schema(parameters=[ChecklistFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _save(self, request, *, submit: bool) -> Response:
        checklist = get_checklist_for_view(request.user, self.kwargs["pk"])
        data = body(ChecklistSaveIn, request)
        items = data.get("items") or {}
        known = set(checklist.items.values_list("key", flat=True))
        unknown = sorted(set(items) - known)
        if unknown:
            raise serializers.ValidationError(
                {"items": {key: ["Not an item of this checklist."] for key in unknown}}
            )
        perform(
            lambda: save_checklist(
                checklist,
                actor=request.user,
                items={key: dict(value) for key, value in items.items()},
                vms=[dict(vm) for vm in data["vms"]] if "vms" in data else None,
                revision=data.get("revision"),
                submit=submit,
            ),
            current=lambda: self._out(checklist),
        )
        return Response(self._out(checklist))

    def _out(self, checklist: InfrastructureChecklist) -> dict:
        return dict(ChecklistOut(self.get_queryset().get(pk=checklist.pk)).data)

    @extend_schema(request=ChecklistSaveIn, responses=ChecklistOut)
    @action(detail=True, methods=["post"])
    def save(self, request, pk=None):
        """Saves the draft: the items given (value, confirmed, note); others are kept."""
        return self._save(request, submit=False)

    @extend_schema(request=ChecklistSaveIn, responses=ChecklistOut)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Saves the items given and submits the checklist for the vendor's review, in one
        step: a refused submission saves nothing."""
        return self._save(request, submit=True)

    @extend_schema(request=ChecklistReviewIn, responses=ChecklistOut)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """The vendor accepts the submitted checklist or returns it with comments."""
        checklist = get_checklist_for_view(request.user, self.kwargs["pk"])
        data = body(ChecklistReviewIn, request)
        perform(
            lambda: review_checklist(
                checklist,
                actor=request.user,
                accept=data["decision"] == "accept",
                comment=data["comment"],
                item_comments=dict(data.get("item_comments") or {}),
                revision=data.get("revision"),
            ),
            current=lambda: self._out(checklist),
        )
        return Response(self._out(checklist))


# --- Update cycles --------------------------------------------------------------------


class CycleFilters(serializers.Serializer):
    engagement = serializers.IntegerField(**ID)
    state = serializers.ChoiceField(choices=CycleState.choices, required=False)


class CycleViewSet(ReadViewSet):
    """The update cycles: windows, stages, tests (read only here; the pages act on them)."""

    serializer_class = CycleOut
    filters = CycleFilters

    def base_queryset(self):
        return UpdateCycle.objects.prefetch_related("stages")

    @extend_schema(parameters=[CycleFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


# --- Issues ---------------------------------------------------------------------------


class IssueFilters(serializers.Serializer):
    engagement = serializers.IntegerField(**ID)
    state = serializers.ChoiceField(choices=IssueState.choices, required=False)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)


class IssueViewSet(mixins.CreateModelMixin, ReadViewSet):
    """Issues: raised by the subscriber, worked by the vendor, as on the issues page."""

    serializer_class = IssueOut
    filters = IssueFilters

    def base_queryset(self):
        return Issue.objects.select_related("raised_by")

    @extend_schema(parameters=[IssueFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=IssueRaiseIn, responses={201: IssueOut})
    def create(self, request, *args, **kwargs):
        """Raises an issue on an engagement."""
        data = body(IssueRaiseIn, request)
        engagement = (
            Engagement.objects.visible_to(request.user).filter(pk=data.pop("engagement")).first()
        )
        if engagement is None:
            raise serializers.ValidationError({"engagement": ["No such engagement."]})
        issue = raise_issue(engagement, actor=request.user, **data)
        return Response(
            IssueOut(self.get_queryset().get(pk=issue.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=IssueMoveIn, responses=IssueOut)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Moves the issue along its states (investigate, ask, resolve, answer, close,
        reopen), each allowed to the party the rules name."""
        issue = get_owned_for_view(request.user, Issue, self.kwargs["pk"])
        data = body(IssueMoveIn, request)

        def current():
            return IssueOut(self.get_queryset().get(pk=issue.pk)).data

        perform(
            lambda: move_issue(
                issue,
                actor=request.user,
                to=data["to"],
                note=data["note"],
                revision=data.get("revision"),
            ),
            current=current,
        )
        return Response(current())
