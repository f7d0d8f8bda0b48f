"""The Infrastructure Checklist of each environment: the subscriber fills and submits it,
the vendor (Consulted) accepts it, which completes Preparing VM Infrastructure, or returns it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from engagements import events, policy
from engagements.actions.tasks import system_move
from engagements.audit import record_event
from engagements.choices import (
    ChecklistItemKey,
    ChecklistStatus,
    SeedTask,
    TaskStatus,
)
from engagements.cleaning import clean_text
from engagements.errors import Conflict, DomainError
from engagements.models import (
    ChecklistItem,
    Engagement,
    EngagementTask,
    InfrastructureChecklist,
)
from engagements.states import CHECKLIST


def checklist_task(checklist: InfrastructureChecklist) -> EngagementTask:
    """The Preparing VM Infrastructure task of the checklist's environment (letters prefetched)."""
    return policy.seed_task(
        checklist.engagement_id, SeedTask.INFRASTRUCTURE, environment=checklist.environment
    )


def create_checklists(engagement: Engagement, tasks: list[EngagementTask]) -> None:
    environments = [
        t.environment for t in tasks if t.key == SeedTask.INFRASTRUCTURE and t.environment
    ]
    for environment in environments:
        checklist = InfrastructureChecklist.objects.create(
            engagement=engagement, environment=environment
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(checklist=checklist, key=key) for key in ChecklistItemKey.values
        )


def _locked_checklist(
    checklist: InfrastructureChecklist, revision: int | None
) -> InfrastructureChecklist:
    locked = (
        InfrastructureChecklist.objects.select_for_update(of=("self",))
        .select_related("engagement")
        .get(pk=checklist.pk)
    )
    if revision is not None and revision != locked.revision:
        raise Conflict(
            "The checklist was changed by someone else since you opened it "
            f"(it is now {locked.get_status_display().lower()}). Nothing was saved; review it and try again."
        )
    return locked


def _bump(checklist: InfrastructureChecklist, **fields) -> None:
    for name, value in fields.items():
        setattr(checklist, name, value)
    checklist.revision += 1
    checklist.save(update_fields=[*fields, "revision", "updated_at"])


@transaction.atomic
def save_checklist(
    checklist: InfrastructureChecklist,
    *,
    actor,
    items: dict[str, dict],
    revision: int | None = None,
    submit: bool = False,
) -> InfrastructureChecklist:
    """Saves the subscriber's draft (values, confirmations, notes per item), and submits it if asked.

    Saving and submitting are one transaction: a refused submission saves nothing.
    """
    checklist = _locked_checklist(checklist, revision)
    task = checklist_task(checklist)
    policy.check(actor, "checklist.edit", checklist, task=task)
    unknown = set(items) - set(ChecklistItemKey.values)
    if unknown:
        raise DomainError(f"Unknown checklist items: {', '.join(sorted(unknown))}.")
    changed = []
    for item in checklist.items.all():
        if item.key not in items:
            continue
        data = items[item.key]
        value = clean_text(
            data.get("value", ""), f"{item.get_key_display()} value", required=False
        )[:500]
        note = clean_text(data.get("note", ""), f"{item.get_key_display()} note", required=False)
        confirmed = bool(data.get("confirmed"))
        if (item.value, item.note, item.confirmed) != (value, note, confirmed):
            item.value, item.note, item.confirmed = value, note, confirmed
            item.save(update_fields=["value", "note", "confirmed"])
            changed.append(item.key)
    _bump(checklist)
    system_move(task, TaskStatus.IN_PROGRESS, actor=actor, via="checklist")
    record_event(
        checklist.engagement,
        events.CHECKLIST_SAVED,
        actor=actor,
        task=task,
        data={"environment": checklist.environment, "items": changed},
    )
    if submit:
        _submit(checklist, task, actor)
    return checklist


def _submit(checklist: InfrastructureChecklist, task: EngagementTask, actor: Any) -> None:
    policy.check(actor, "checklist.submit", checklist, task=task)
    missing = [i.get_key_display() for i in checklist.items.all() if not i.is_complete]
    if missing:
        raise DomainError(
            f"Fill in or confirm every item before submitting; missing: {', '.join(missing)}."
        )
    before = CHECKLIST.apply(checklist, ChecklistStatus.SUBMITTED)
    _bump(checklist, status=checklist.status, submitted_at=timezone.now(), submitted_by=actor)
    record_event(
        checklist.engagement,
        events.CHECKLIST_SUBMITTED,
        actor=actor,
        task=task,
        from_state=before,
        to_state=ChecklistStatus.SUBMITTED,
        data={"environment": checklist.environment},
    )


@transaction.atomic
def review_checklist(
    checklist: InfrastructureChecklist,
    *,
    actor,
    accept: bool,
    comment: str = "",
    item_comments: dict[str, str] | None = None,
    revision: int | None = None,
) -> InfrastructureChecklist:
    """The vendor accepts the submitted checklist (completing the task) or returns it with comments."""
    checklist = _locked_checklist(checklist, revision)
    task = checklist_task(checklist)
    policy.check(actor, "checklist.review", checklist, task=task)
    comment = clean_text(comment, "comment", required=False)
    item_comments = {
        k: clean_text(v, "item comment", required=False) for k, v in (item_comments or {}).items()
    }
    if not accept and not (comment or any(item_comments.values())):
        raise DomainError("Say what needs changing: a comment on at least one item, or overall.")
    for item in checklist.items.all():
        new = item_comments.get(item.key, "")
        if item.review_comment != new:
            item.review_comment = new
            item.save(update_fields=["review_comment"])
    to = ChecklistStatus.ACCEPTED if accept else ChecklistStatus.RETURNED
    CHECKLIST.apply(checklist, to)
    _bump(
        checklist, status=to, reviewed_at=timezone.now(), reviewed_by=actor, review_comment=comment
    )
    record_event(
        checklist.engagement,
        events.CHECKLIST_ACCEPTED if accept else events.CHECKLIST_RETURNED,
        actor=actor,
        task=task,
        from_state=ChecklistStatus.SUBMITTED,
        to_state=to,
        data={
            "environment": checklist.environment,
            "comment": comment,
            "items": {k: v for k, v in item_comments.items() if v},
        },
    )
    if accept:
        system_move(task, TaskStatus.DONE, actor=actor, via="checklist")
    return checklist
