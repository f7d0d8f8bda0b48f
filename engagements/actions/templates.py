from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from engagements import events, policy
from engagements.actions.checklists import create_checklists, follow_version_items
from engagements.actions.engagements import copy_tasks
from engagements.actions.tokens import revoke_tokens_of_departed
from engagements.audit import record_event
from engagements.choices import (
    TaskStatus,
)
from engagements.errors import DomainError
from engagements.models import (
    AttestationToken,
    Engagement,
    EngagementTask,
    Event,
    MemberRole,
    TaskParty,
)
from engagements.selectors.engagements import engagement_matrix
from raci.matrix_diff import compare
from raci.models import TemplateTask, TemplateVersion
from raci.roles import roles_by_party
from raci.services import version_matrix


def template_diff(engagement: Engagement, version: TemplateVersion):
    """What applying the version would change in this engagement (its copy vs the version)."""
    return compare(engagement_matrix(engagement), version_matrix(version))


def roles_lost(engagement: Engagement, version: TemplateVersion) -> list[MemberRole]:
    """The roles members hold that the version no longer names for their party: applying
    it takes them away (the apply page lists who loses what)."""
    kept = roles_by_party(version.pk)
    return [
        role
        for role in MemberRole.objects.filter(membership__engagement=engagement)
        .select_related("membership__user", "membership__party")
        .order_by("membership__user__username", "title")
        if role.title not in kept.get(role.membership.party_id, [])
    ]


def _has_history(task: EngagementTask) -> bool:
    return task.events.exists() or task.comments.exists() or task.signoffs.exists()


@transaction.atomic
def apply_template_version(engagement: Engagement, version: TemplateVersion, *, actor) -> Event:
    """Moves an engagement to a newer published version of its template, in one audited event.

    Unchanged and changed tasks keep their status (their names, notes and
    letters follow the version); new tasks start not started; dropped tasks
    are deleted when they have no history, else retired (kept for the audit
    trail, hidden from the work lists).
    """
    engagement = (
        Engagement.objects.select_for_update()
        .select_related("template_version")
        .get(pk=engagement.pk)
    )
    policy.check(actor, "engagement.administer", engagement, seat=None)
    current = engagement.template_version
    if version.is_draft:
        raise DomainError("Only a published version can be applied.")
    if version.template_id != current.template_id:
        raise DomainError("That version belongs to another template.")
    if version.number <= current.number:
        raise DomainError(
            f"The engagement already follows v{current.number}; apply a newer version."
        )
    diff = template_diff(engagement, version)
    template_tasks = list(version.tasks.order_by("position").prefetch_related("cells"))
    existing: dict[str, list[EngagementTask]] = {}
    for task in engagement.tasks.filter(retired_at__isnull=True):
        ident = f"key:{task.key}" if task.key else f"name:{task.name.lower()}"
        existing.setdefault(ident, []).append(task)
    # Park every live task's position out of the way, so renumbering never collides.
    EngagementTask.objects.filter(engagement=engagement, retired_at__isnull=True).update(
        position=F("position") + 1000
    )
    new_template_tasks: list[TemplateTask] = []
    kept: list[EngagementTask] = []
    letters: list[TaskParty] = []
    made_applicable: list[EngagementTask] = []
    for tt in template_tasks:
        ident = f"key:{tt.key}" if tt.key else f"name:{tt.name.lower()}"
        tasks = existing.pop(ident, [])
        if tasks and tasks[0].tracking == tt.tracking:
            for task in tasks:
                task.template_task, task.position, task.key, task.name = (
                    tt,
                    tt.position,
                    tt.key,
                    tt.name,
                )
                task.description, task.notes, task.is_optional = (
                    tt.description,
                    tt.notes,
                    tt.is_optional,
                )
                task.phase, task.four_eyes = tt.phase, tt.four_eyes
                if task.status == TaskStatus.NOT_APPLICABLE and not tt.is_optional:
                    # No longer optional: it applies again, from the start.
                    task.status, task.revision = TaskStatus.NOT_STARTED, task.revision + 1
                    made_applicable.append(task)
                task.save(
                    update_fields=[
                        "template_task",
                        "position",
                        "key",
                        "name",
                        "description",
                        "notes",
                        "is_optional",
                        "phase",
                        "four_eyes",
                        "status",
                        "revision",
                        "updated_at",
                    ]
                )
            kept.extend(tasks)
            letters.extend(
                TaskParty(task=task, party_id=c.party_id, **c.letter_values())
                for task in tasks
                for c in tt.cells.all()
            )
        else:
            if tasks:  # tracking changed: the old rows go, new ones come
                existing[ident + ":old"] = tasks
            new_template_tasks.append(tt)
    # The letters of the tasks that stay follow the version: replaced in two statements.
    TaskParty.objects.filter(task__in=kept).delete()
    TaskParty.objects.bulk_create(letters)
    created = copy_tasks(engagement, new_template_tasks)
    have_checklists = set(engagement.checklists.values_list("environment", flat=True))
    engagement.template_version = version
    followed = follow_version_items(engagement, version.pk)
    create_checklists(engagement, [t for t in created if t.environment not in have_checklists])
    retired, deleted = [], []
    now = timezone.now()
    for tasks in existing.values():
        for task in tasks:
            if _has_history(task):
                task.retired_at = now
                task.save(update_fields=["retired_at", "updated_at"])
                retired.append(task.label)
            else:
                deleted.append(task.label)
                task.delete()
    lost = roles_lost(engagement, version)
    MemberRole.objects.filter(pk__in=[r.pk for r in lost]).delete()
    engagement.template_version = version
    engagement.save(update_fields=["template_version"])
    # The new letters may take backups out of a token creator's hands: their tokens stop.
    creators = set(
        AttestationToken.objects.filter(engagement=engagement, revoked_at__isnull=True).values_list(
            "created_by", flat=True
        )
    )
    for creator in get_user_model().objects.filter(pk__in=creators):
        revoke_tokens_of_departed(engagement, creator, actor=actor)
    for task in made_applicable:
        task.engagement = engagement
        record_event(
            engagement,
            events.TASK_STATUS_CHANGED,
            actor=actor,
            task=task,
            from_state=TaskStatus.NOT_APPLICABLE,
            to_state=TaskStatus.NOT_STARTED,
            data={"via": "template", "version": version.number},
        )
    return record_event(
        engagement,
        events.ENGAGEMENT_TEMPLATE_APPLIED,
        actor=actor,
        from_state=f"v{current.number}",
        to_state=f"v{version.number}",
        data={
            "template": version.template.name,
            "added": [r.display_name for r in diff.added],
            "removed": [r.display_name for r in diff.removed],
            "changed": {c.new.display_name: c.changes for c in diff.changed},
            "retired_tasks": retired,
            "deleted_tasks": deleted,
            "roles_lost": [f"{events.person(r.membership.user)}: {r.title}" for r in lost],
            "checklist_items": {
                "added": [s.label for s in diff.checklist.added],
                "removed": [s.label for s in diff.checklist.removed],
                "changed": {s.label: c for s, c in diff.checklist.changed},
                "checklists_following": followed,
            },
        },
    )
