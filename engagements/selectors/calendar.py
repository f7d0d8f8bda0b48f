from __future__ import annotations

import datetime as dt

from django.db.models import (
    F,
    Q,
)
from django.urls import reverse
from django.utils import timezone

from engagements.choices import (
    OPEN_CYCLE_STATES,
    OPEN_STATUSES,
    CycleState,
    HandoverState,
)
from engagements.models import (
    CalendarFeed,
    EngagementTask,
    Handover,
    UpdateStage,
)


def calendar_entries(user, *, now: dt.datetime | None = None) -> list[dict]:
    """The person's feed: open tasks their party is Responsible or Accountable for with a due
    date, the windows of open update cycles and the scheduled handovers of their engagements
    (3 queries)."""
    now = now or timezone.now()
    tasks = EngagementTask.objects.live().filter(
        Q(engagement__memberships__user=user)
        & Q(parties__party_id=F("engagement__memberships__party_id"))
        & (Q(parties__responsible=True) | Q(parties__accountable=True))
    )
    entries = []
    for task in (
        tasks.filter(status__in=OPEN_STATUSES, due_date__isnull=False)
        .select_related("engagement")
        .distinct()
        .order_by("due_date", "pk")[:500]
    ):
        entries.append(
            {
                "uid": f"task-{task.pk}@psaas-portal",
                "date": task.due_date,
                "summary": f"Due: {task.label} ({task.engagement.name})",
                "url": reverse("engagements:task-detail", args=[task.pk]),
            }
        )
    for stage in (
        UpdateStage.objects.filter(
            cycle__engagement__memberships__user=user, cycle__state__in=OPEN_CYCLE_STATES
        )
        .select_related("cycle__engagement")
        .order_by("window_start")[:200]
    ):
        cycle = stage.cycle
        entries.append(
            {
                "uid": f"update-window-{stage.pk}@psaas-portal",
                "start": stage.window_start,
                "end": stage.window_end,
                "summary": f"Update {cycle.release}: {stage.get_environment_display()} window "
                f"({cycle.engagement.name})",
                "description": f"State: {cycle.get_state_display()}",
                "url": reverse("engagements:cycle-detail", args=[cycle.pk]),
                "status": "CONFIRMED" if cycle.state != CycleState.PROPOSED else "TENTATIVE",
            }
        )
    for handover in (
        Handover.objects.filter(
            engagement__memberships__user=user,
            state=HandoverState.SCHEDULED,
            starts_at__gte=now - dt.timedelta(days=30),
        )
        .select_related("engagement")
        .order_by("starts_at")[:50]
    ):
        entries.append(
            {
                # Not the invitation's UID: a calendar holding both must not merge them.
                "uid": f"handover-{handover.uid}-feed@psaas-portal",
                "start": handover.starts_at,
                "end": handover.ends_at,
                "summary": f"Operations Handover ({handover.engagement.name})",
                "description": handover.agenda,
                "url": reverse("engagements:handover", args=[handover.engagement_id]),
                "sequence": handover.sequence,
                "status": "CONFIRMED",
            }
        )
    return entries


def calendar_page(user) -> dict:
    return {"feed": CalendarFeed.objects.filter(user=user).first()}
