"""Fetch one object with its access check: 404 when the user may not see it (no existence
leak). Whether they may do what they asked is the policy's, checked by the service (403)."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404

from psaas_portal import prepared
from psaas_portal.auth import holds_permission
from psaas_portal.params import parse_id

from . import permissions, policy
from .models import Engagement, EngagementTask, InfrastructureChecklist, TaskParty
from .querysets import PORTAL_ADMIN, visible_q_of
from .selectors.attached import attached_json


def _engagement_for_view(pk: int, user_id: int, *, admin: bool) -> Any:
    return (
        Engagement.objects.filter(visible_q_of(user_id, admin=admin))
        .annotate(viewer_administers=permissions.administers_exists(user_id))
        .select_related("organization", "template_version__template")
        .filter(pk=pk)
        .order_by()[:1]
    )


def get_engagement_for_view(user, engagement_id: int) -> Engagement:
    """The engagement, and whether the viewer administers it read in the same query."""
    if not user.is_authenticated or not user.is_active:
        raise Http404("No such engagement.")
    if not isinstance(engagement_id, int):  # the API's path argument is a string
        engagement_id = parse_id(str(engagement_id))  # type: ignore[assignment]
        if engagement_id is None:
            raise Http404("No such engagement.")
    admin = holds_permission(user, PORTAL_ADMIN)
    found = prepared.rows(  # compiled once per process (for admins, for everyone else)
        ("engagement for view", admin),
        partial(_engagement_for_view, admin=admin),
        pk=engagement_id,
        user_id=user.pk,
    )
    engagement = found[0] if found else None
    if engagement is None:
        raise Http404("No such engagement.")
    return permissions.remember_viewer_perms(engagement, user)


def get_engagement_for_admin(user, engagement_id: int) -> Engagement:
    engagement = get_engagement_for_view(user, engagement_id)
    verdict = policy.judge(user, "engagement.administer", engagement, seat=None)
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
    return engagement


def get_task_for_view(user, task_id: int) -> EngagementTask:
    task = (
        EngagementTask.objects.visible_to(user)
        .select_related("engagement__organization", "prerequisites_overridden_by")
        .prefetch_related(
            Prefetch("parties", queryset=TaskParty.objects.select_related("party").order_by())
        )
        .annotate(attached_rows=attached_json("task"))  # its files, in the same query
        .filter(pk=task_id)
    )
    task = _with_administers(task, user).first()
    if task is None:
        raise Http404("No such task.")
    return permissions.remember_owner_perms(task, user)


def _with_administers(queryset, user):
    """Whether the viewer administers the object's engagement, read in the same query (who
    may remove any attachment listed on the page)."""
    if not user.is_authenticated or not user.is_active:
        return queryset
    return queryset.annotate(
        viewer_administers=permissions.administers_exists(user, "engagement_id")
    )


def get_task_for_action(user, task_id: int) -> EngagementTask:
    """The task row alone (404 unless visible): the service it goes to reads it again, with
    its letters, under the row lock, and decides there whether the person may act."""
    task = EngagementTask.objects.visible_to(user).filter(pk=task_id).first()
    if task is None:
        raise Http404("No such task.")
    if task.retired_at is not None:
        raise PermissionDenied(
            "This task was dropped by a newer template version; it is kept read-only."
        )
    return task


def task_reference(task_id: int) -> EngagementTask:
    """The task by its id alone, without a query, for the services that read it under
    their row lock together with whether the person may see it (engagements.selectors.locked;
    NotFound, a 404, when not)."""
    return EngagementTask(pk=task_id)


def get_checklist_for_view(user, checklist_id: int) -> InfrastructureChecklist:
    checklist = (
        InfrastructureChecklist.objects.filter(engagement__in=Engagement.objects.visible_to(user))
        .select_related("engagement__organization", "submitted_by", "reviewed_by")
        .filter(pk=checklist_id)
    )
    checklist = _with_administers(checklist, user).first()
    if checklist is None:
        raise Http404("No such checklist.")
    return permissions.remember_owner_perms(checklist, user)


def get_owned_for_view(user, model, pk: int, *, related=(), files: str = ""):
    """One object of an engagement (a cycle, handover, duty, token, issue) with the same
    check: 404 when its engagement is not visible. What the person may do with it is the
    policy's to say (engagements.policy), in the service the view calls. `files`: the
    attachments' foreign key to it, to read its files (and whether the viewer administers
    the engagement) in the same query."""
    objects = (
        model.objects.filter(engagement__in=Engagement.objects.visible_to(user))
        .select_related("engagement__organization", *related)
        .filter(pk=pk)
    )
    if files:
        objects = _with_administers(objects.annotate(attached_rows=attached_json(files)), user)
    obj = objects.first()
    if obj is None:
        raise Http404(f"No such {model._meta.verbose_name}.")
    return permissions.remember_owner_perms(obj, user)
