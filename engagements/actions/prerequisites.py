"""The order tasks are worked in: the Accountable party's override of a task's
prerequisites, and telling the Responsible people when the last prerequisite is met."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from engagements import events, policy
from engagements.audit import record_event
from engagements.choices import TaskStatus
from engagements.cleaning import clean_text
from engagements.errors import Conflict, DomainError, NotAllowed
from engagements.models import EngagementTask, Event
from engagements.selectors.prerequisites import STARTING, now_ready, waits_of

FINISHING = (TaskStatus.DONE, TaskStatus.SIGNED_OFF, TaskStatus.NOT_APPLICABLE)


def check_order(task: EngagementTask, to: str) -> None:
    """A task cannot start or be completed before its prerequisites (unless the Accountable
    party let it go ahead): DomainError naming what it waits on."""
    if to not in STARTING or task.prerequisites_overridden_at is not None:
        return
    waits = waits_of(task)
    if waits:
        listed = "; ".join(f"{w.text} (now {w.now})" for w in waits)
        raise DomainError(f"{task.label} waits on: {listed}.")


@transaction.atomic
def override_order(
    task: EngagementTask, *, actor: Any, reason: str, revision: int | None = None
) -> Event:
    """The Accountable party lets the task go ahead before its prerequisites, with a reason."""
    task = (
        EngagementTask.objects.select_for_update(of=("self",))
        .select_related("engagement")
        .prefetch_related("parties__party")
        .get(pk=task.pk)
    )
    if task.retired_at is not None:
        raise NotAllowed(f"{task.label} was dropped by a newer template version.")
    if revision is not None and revision != task.revision:
        raise Conflict(f"{task.label} was changed by someone else since you opened it.")
    policy.check(actor, "task.override_order", task, task=task)
    reason = clean_text(reason, "reason", required=True)
    if task.prerequisites_overridden_at is not None:
        raise Conflict(f"{task.label} already goes ahead before its prerequisites.")
    waits = waits_of(task)
    if not waits:
        raise DomainError(f"{task.label} waits on nothing; there is nothing to override.")
    task.prerequisites_overridden_at = timezone.now()
    task.prerequisites_overridden_by = actor
    task.prerequisites_override_reason = reason
    task.revision += 1
    task.save(
        update_fields=[
            "prerequisites_overridden_at",
            "prerequisites_overridden_by",
            "prerequisites_override_reason",
            "revision",
            "updated_at",
        ]
    )
    return record_event(
        task.engagement,
        events.TASK_ORDER_OVERRIDDEN,
        actor=actor,
        task=task,
        data={"reason": reason, "waits_on": "; ".join(w.text for w in waits)},
    )


def tell_ready(done: EngagementTask, *, actor: Any) -> None:
    """After `done` moved on: every task whose last prerequisite that was is told it is its
    Responsible people's turn (one event each, inside the caller's transaction)."""
    if done.status not in FINISHING:
        return
    for task in now_ready(done):
        task.engagement = done.engagement
        record_event(
            done.engagement,
            events.TASK_READY,
            actor=actor,
            task=task,
            data={
                "after": done.label,
                "until": done.get_status_display().lower(),
            },
        )
