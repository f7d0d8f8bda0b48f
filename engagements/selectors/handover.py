from __future__ import annotations

from engagements.actions.cycles import HANDOVER
from engagements.actions.handover import AGENDA
from engagements.choices import (
    HandoverState,
)
from engagements.models import (
    Engagement,
    Membership,
)
from engagements.policy import side_on
from engagements.selectors.engagements import seed_tasks_of


def handover_page(engagement: Engagement, *, user) -> dict:
    handovers = list(
        engagement.handovers.select_related("organizer")
        .prefetch_related("attendees")
        .order_by("-starts_at")
    )
    members = list(
        Membership.objects.filter(engagement=engagement, user__is_active=True)
        .select_related("user", "party")
        .order_by("party__name", "user__username")
    )
    tasks = seed_tasks_of(engagement.pk, [HANDOVER])
    party = next((m.party_id for m in members if m.user_id == user.pk), None)
    current = next((h for h in handovers if h.state == HandoverState.SCHEDULED), None)
    return {
        "engagement": engagement,
        "current": current,
        "past": [h for h in handovers if h is not current],
        "members": members,
        "me": side_on(tasks.get(HANDOVER), party),
        "task": tasks.get(HANDOVER),
        "agenda": AGENDA,
    }
