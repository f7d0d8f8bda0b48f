"""Fetch one object with its access check: 404 when the user may not see it (no
existence leak), 403 when they may see it but not do what they asked."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404

from . import permissions
from .models import Engagement, EngagementTask, InfrastructureChecklist, TaskParty


def get_engagement_for_view(user, engagement_id: int) -> Engagement:
    engagement = (
        Engagement.objects.visible_to(user)
        .select_related("organization", "template_version__template")
        .filter(pk=engagement_id)
        .first()
    )
    if engagement is None:
        raise Http404("No such engagement.")
    return engagement


def get_engagement_for_admin(user, engagement_id: int) -> Engagement:
    engagement = get_engagement_for_view(user, engagement_id)
    if not permissions.can_administer(user, engagement):
        raise PermissionDenied("Only the engagement's managers and portal admins can do that.")
    return engagement


def get_task_for_view(user, task_id: int) -> EngagementTask:
    task = (
        EngagementTask.objects.visible_to(user)
        .select_related("engagement__organization")
        .prefetch_related(Prefetch("parties", queryset=TaskParty.objects.select_related("party")))
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise Http404("No such task.")
    return task


def get_task_for_action(user, task_id: int) -> EngagementTask:
    task = get_task_for_view(user, task_id)
    if not permissions.can_act(user, task.engagement):
        raise PermissionDenied("You can see this engagement but not act on it.")
    if task.retired_at is not None:
        raise PermissionDenied(
            "This task was dropped by a newer template version; it is kept read-only."
        )
    return task


def get_checklist_for_view(
    user, checklist_id: int, *, act: bool = False
) -> InfrastructureChecklist:
    checklist = (
        InfrastructureChecklist.objects.filter(engagement__in=Engagement.objects.visible_to(user))
        .select_related("engagement__organization")
        .filter(pk=checklist_id)
        .first()
    )
    if checklist is None:
        raise Http404("No such checklist.")
    if act and not permissions.can_act(user, checklist.engagement):
        raise PermissionDenied("You can see this engagement but not act on it.")
    return checklist


def get_owned_for_view(user, model, pk: int, *, act: bool = False, related=()):
    """One object of an engagement (a cycle, handover, duty, token, issue) with the same
    checks: 404 when its engagement is not visible, 403 when asked to act and the user may not."""
    obj = (
        model.objects.filter(engagement__in=Engagement.objects.visible_to(user))
        .select_related("engagement__organization", *related)
        .filter(pk=pk)
        .first()
    )
    if obj is None:
        raise Http404(f"No such {model._meta.verbose_name}.")
    if act and not permissions.can_act(user, obj.engagement):
        raise PermissionDenied("You can see this engagement but not act on it.")
    return obj


def get_engagement_for_action(user, engagement_id: int) -> Engagement:
    engagement = get_engagement_for_view(user, engagement_id)
    if not permissions.can_act(user, engagement):
        raise PermissionDenied("You can see this engagement but not act on it.")
    return engagement
