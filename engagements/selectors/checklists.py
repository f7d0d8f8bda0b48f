"""Reads for the Infrastructure Checklist page."""

from __future__ import annotations

from typing import Any

from engagements import policy
from engagements.choices import SeedTask
from engagements.errors import DomainError
from engagements.models import InfrastructureChecklist


def checklist_page(checklist: InfrastructureChecklist, *, user: Any) -> dict:
    """Queries: the task and letters (2), my party (1), items (1)."""
    try:
        task = policy.seed_task(
            checklist.engagement_id, SeedTask.INFRASTRUCTURE, environment=checklist.environment
        )
    except DomainError:
        task = None
    offered = policy.offered(user, checklist, tasks={SeedTask.INFRASTRUCTURE: task})
    return {
        "checklist": checklist,
        "engagement": checklist.engagement,
        "task": task,
        "items": list(checklist.items.all()),
        "can_edit": "checklist.edit" in offered,
        "can_review": "checklist.review" in offered,
    }
