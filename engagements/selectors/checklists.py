from __future__ import annotations

from engagements.actions.checklists import checklist_task
from engagements.choices import (
    ChecklistStatus,
)
from engagements.models import (
    InfrastructureChecklist,
)
from engagements.policy import member_party_id


def checklist_page(checklist: InfrastructureChecklist, *, user) -> dict:
    """Queries: the task and letters (2), my party (1), items (1)."""
    task = checklist_task(checklist)
    party_id = member_party_id(checklist.engagement_id, user)
    cells = list(task.parties.all()) if task else []
    responsible = any(tp.responsible and tp.party_id == party_id for tp in cells)
    consulted = any(tp.consulted and tp.party_id == party_id for tp in cells)
    return {
        "checklist": checklist,
        "engagement": checklist.engagement,
        "task": task,
        "items": list(checklist.items.all()),
        "can_edit": responsible and checklist.is_editable,
        "can_review": consulted and checklist.status == ChecklistStatus.SUBMITTED,
    }
