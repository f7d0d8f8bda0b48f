from __future__ import annotations

from django.utils import timezone

from engagements import workflow
from engagements.actions.checklists import CHECKLIST_TASK_KEY
from engagements.choices import (
    TaskStatus,
)
from engagements.models import (
    EngagementTask,
    InfrastructureChecklist,
)
from engagements.policy import member_party_id


def task_page(task: EngagementTask, *, user) -> dict:
    """The task view. Queries: my party (1), sign-offs (1), comments (1), history (1),
    and for the infrastructure task its checklist and items (2)."""
    party_id = member_party_id(task.engagement_id, user)
    roles = workflow.roles_of(task, party_id)
    moves = workflow.allowed_moves(task, party_id)
    cells = sorted(task.parties.all(), key=lambda tp: (not tp.party.is_vendor, tp.party.name))
    checklist = None
    if task.key == CHECKLIST_TASK_KEY and task.environment:
        checklist = (
            InfrastructureChecklist.objects.filter(
                engagement_id=task.engagement_id, environment=task.environment
            )
            .select_related("submitted_by", "reviewed_by")
            .prefetch_related("items")
            .first()
        )
    return {
        "task": task,
        "engagement": task.engagement,
        "cells": cells,
        "my_party_id": party_id,
        "is_responsible": workflow.Role.RESPONSIBLE in roles,
        "is_signer": workflow.Role.SIGNER in roles,
        "moves": [(to, m) for to, m in moves if to not in workflow.SPECIAL_TARGETS],
        "can_sign_off": any(to == TaskStatus.SIGNED_OFF for to, _ in moves),
        "can_reopen": any(to == TaskStatus.REOPENED for to, _ in moves),
        "consulted": [tp.party for tp in cells if tp.consulted and tp.party_id != party_id],
        "signoffs": list(task.signoffs.select_related("signed_by", "party")),
        "comments": list(task.comments.select_related("author", "addressed_to")),
        "history": list(
            task.events.select_related("actor", "task").order_by("-created_at", "-id")[:100]
        ),
        "waiting_on": workflow.waiting_on(task),
        "checklist": checklist,
        "today": timezone.localdate(),
    }
