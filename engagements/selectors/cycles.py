from __future__ import annotations

from engagements.actions.cycles import (
    DEV,
    PROD,
    TESTING,
    UPDATES,
    cycle_actions,
    production_gate_open,
)
from engagements.choices import (
    OPEN_CYCLE_STATES,
    Severity,
)
from engagements.models import (
    Engagement,
    Event,
    UpdateCycle,
    UpdateStage,
)
from engagements.policy import member_party_id, side_on
from engagements.selectors.engagements import seed_tasks_of


def cycles_page(engagement: Engagement, *, user) -> dict:
    party = member_party_id(engagement.pk, user)
    me = side_on(seed_tasks_of(engagement.pk, [UPDATES]).get(UPDATES), party)
    has_open = engagement.update_cycles.filter(state__in=OPEN_CYCLE_STATES).exists()
    return {
        "engagement": engagement,
        "cycles": list(
            engagement.update_cycles.prefetch_related("stages").order_by("-created_at", "-id")
        ),
        "has_open": has_open,
        # The vendor proposes; one cycle at a time (the service refuses otherwise).
        "can_propose": me.responsible and me.is_vendor and not has_open,
    }


def cycle_page(cycle: UpdateCycle, *, user) -> dict:
    """Both environments' steps, the cycle's events as a timeline, its issues (8 queries)."""
    stages = list(
        UpdateStage.objects.filter(cycle=cycle)
        .select_related("prepared_by", "tested_by")
        .prefetch_related("snapshots")
    )
    by_env = {s.environment: s for s in stages}
    party = member_party_id(cycle.engagement_id, user)
    tasks = seed_tasks_of(cycle.engagement_id, [UPDATES, TESTING])
    me = side_on(tasks.get(UPDATES), party)
    tester = side_on(tasks.get(TESTING), party)
    events = list(
        Event.objects.filter(engagement_id=cycle.engagement_id, data__cycle=cycle.pk)
        .select_related("actor", "task")
        .order_by("created_at", "id")
    )
    return {
        "engagement": cycle.engagement,
        "cycle": cycle,
        "dev": by_env.get(DEV),
        "prod": by_env.get(PROD),
        "events": events,
        "issues": list(cycle.issues.order_by("-created_at")),
        "actions": cycle_actions(cycle, me=me, tester=tester),
        "severities": Severity.choices,
        "gate_open": production_gate_open(cycle),
    }
