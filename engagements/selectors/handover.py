"""Reads for the Operations Handover page."""

from __future__ import annotations

from typing import Any

from engagements import policy
from engagements.choices import HandoverState, SeedTask
from engagements.models import Engagement, Handover, Membership
from engagements.selectors.attached import Removal, attached, attached_json
from engagements.selectors.engagements import seed_tasks_of


def handover_page(engagement: Engagement, *, user: Any) -> dict:
    handovers: list[Any] = list(
        engagement.handovers.select_related("organizer")
        .prefetch_related("attendees")
        .annotate(attached_rows=attached_json("handover"))
        .order_by("-starts_at")
    )
    members = list(
        Membership.objects.filter(engagement=engagement, user__is_active=True)
        .select_related("user", "party")
        .order_by("party__name", "user__username")
    )
    tasks = seed_tasks_of(engagement.pk, [SeedTask.HANDOVER])
    seat = policy.member_seat(engagement.pk, user)
    current = next((h for h in handovers if h.state == HandoverState.SCHEDULED), None)
    offered = policy.offered(user, engagement, names=["handover.schedule"], tasks=tasks, seat=seat)
    if current is not None:
        offered |= policy.offered(user, current, tasks=tasks, seat=seat)
    can_attach = bool(handovers) and "handover.attach" in policy.offered(
        user, handovers[0], names=["handover.attach"], tasks=tasks, seat=seat
    )
    removal = Removal(user, engagement, can_attach=can_attach)
    for h in handovers:
        h.attached = removal.mark(attached(h.attached_rows))
    return {
        "can_attach": can_attach,
        "engagement": engagement,
        "current": current,
        "past": [h for h in handovers if h is not current],
        "members": members,
        "offered": offered,
        "task": tasks.get(SeedTask.HANDOVER),
        "agenda": Handover.DEFAULT_AGENDA,
    }
