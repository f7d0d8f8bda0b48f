from __future__ import annotations

from dataclasses import dataclass

from engagements import workflow
from engagements.errors import DomainError, NotAllowed
from engagements.models import (
    Engagement,
    EngagementTask,
    Membership,
)


def member_party_id(engagement_id: int, user) -> int | None:
    return (
        Membership.objects.filter(engagement_id=engagement_id, user=user)
        .values_list("party_id", flat=True)
        .first()
    )


def seed_task(engagement: Engagement | int, key: str) -> EngagementTask:
    """The engagement's live task for a seed key, letters prefetched; a clear error if the
    engagement's template has none."""
    engagement_id = engagement if isinstance(engagement, int) else engagement.pk
    task = (
        EngagementTask.objects.live()
        .filter(engagement_id=engagement_id, key=key)
        .select_related("engagement")
        .prefetch_related("parties__party")
        .order_by("environment")
        .first()
    )
    if task is None:
        raise DomainError(
            f"This engagement's RACI template has no task for {key.replace('_', ' ')}."
        )
    return task


@dataclass(frozen=True)
class Side:
    """The letters a party holds on one task, and whether it is the vendor's."""

    party_id: int | None = None
    responsible: bool = False
    accountable: bool = False
    consulted: bool = False
    is_vendor: bool = False


def side_on(task: EngagementTask | None, party_id: int | None) -> Side:
    """What `party_id` holds on the task (letters prefetched); nothing for a non-member."""
    cell = workflow.letters_by_party(task).get(party_id) if task is not None else None
    if cell is None:
        return Side(party_id)
    return Side(party_id, cell.responsible, cell.accountable, cell.consulted, cell.party.is_vendor)


def require(task: EngagementTask, user, letter: str, *, side: str = "", doing: str) -> Side:
    """Raises NotAllowed unless the user's party holds `letter` on the task (and is on the
    given side, "vendor" or "subscriber", where the seed splits a shared letter)."""
    held = side_on(task, member_party_id(task.engagement_id, user))
    ok = getattr(held, letter)
    if side == "vendor":
        ok = ok and held.is_vendor
    elif side == "subscriber":
        ok = ok and not held.is_vendor
    if not ok:
        who = {"responsible": "Responsible", "accountable": "Accountable"}.get(letter, letter)
        whose = f"the {side}'s " if side else "the "
        raise NotAllowed(f"Only {whose}{who} party on {task.name} can {doing}.")
    return held
