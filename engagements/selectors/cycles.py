"""Reads for update cycles: the list, one cycle's page, and the next step it waits for."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from engagements import policy
from engagements.choices import OPEN_CYCLE_STATES, CycleState, Environment, SeedTask, Severity
from engagements.models import Engagement, Event, UpdateCycle, UpdateStage
from engagements.rules import RuleName
from engagements.selectors.engagements import seed_tasks_of
from engagements.states import WINDOW_OVERRIDE_STATES, production_gate_open, window_allows_start

DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION
CYCLE_TASKS = [SeedTask.UPDATES, SeedTask.UPDATE_TESTING]


def next_step(cycle: UpdateCycle, offered: set[RuleName]) -> str:
    """What the open cycle waits for from a person offered these rules, in words ("" when it
    waits on the other side). Unlike the offered forms, a start waits for its preparation."""
    stages = {s.environment: s for s in cycle.stages.all()}
    dev_ready = DEV in stages and stages[DEV].is_prepared
    prod_ready = PROD in stages and stages[PROD].is_prepared
    # Production's turn: after Development passed, or once agreed where there is no
    # Development.
    prod_turn = cycle.state == CycleState.DEV_PASSED or (
        cycle.state == CycleState.AGREED and DEV not in stages
    )
    steps: list[tuple[RuleName, bool, str]] = [
        ("cycle.accept", True, "Agree the update windows"),
        (
            "cycle.prepare_dev",
            not dev_ready and cycle.state == CycleState.AGREED,
            "Record the Development snapshots",
        ),
        (
            "cycle.start_dev",
            dev_ready and cycle.state == CycleState.AGREED,
            "Start the Development update",
        ),
        (
            "cycle.start_dev",
            cycle.state == CycleState.DEV_FAILED,
            "Fix and update Development again",
        ),
        ("cycle.finish", True, "Finish the update"),
        ("cycle.test", True, "Test Development"),
        (
            "cycle.prepare_prod",
            not prod_ready and prod_turn,
            "Record the Production snapshots",
        ),
        (
            "cycle.start_prod",
            prod_ready and prod_turn,
            "Start the Production update",
        ),
    ]
    return next((text for rule, when, text in steps if rule in offered and when), "")


def cycles_page(engagement: Engagement, *, user: Any) -> dict:
    tasks = seed_tasks_of(engagement.pk, [SeedTask.UPDATES])
    has_open = engagement.update_cycles.filter(state__in=OPEN_CYCLE_STATES).exists()
    offered = policy.offered(user, engagement, names=["cycle.propose"], tasks=tasks)
    return {
        "engagement": engagement,
        "cycles": list(
            engagement.update_cycles.prefetch_related("stages").order_by("-created_at", "-id")
        ),
        "has_open": has_open,
        # The vendor proposes; one cycle at a time (the service refuses otherwise).
        "can_propose": "cycle.propose" in offered and not has_open,
    }


def cycle_page(cycle: UpdateCycle, *, user: Any) -> dict:
    """Both environments' steps, the cycle's events as a timeline, its issues (8 queries)."""
    stages = list(
        UpdateStage.objects.filter(cycle=cycle)
        .select_related("prepared_by", "tested_by", "window_override_by")
        .prefetch_related("snapshots")
    )
    by_env = {s.environment: s for s in stages}
    tasks = seed_tasks_of(cycle.engagement_id, CYCLE_TASKS)
    offered = policy.offered(user, cycle, tasks=tasks)
    now = timezone.now()
    for stage in stages:
        may_start = cycle.state in WINDOW_OVERRIDE_STATES[stage.environment]
        outside = may_start and not window_allows_start(stage, now)
        # What the page shows with each stage: outside its window now, and whether the
        # viewer may let it start anyway.
        setattr(stage, "outside_window", outside)  # noqa: B010
        setattr(stage, "window_overridable", outside and "cycle.override_window" in offered)  # noqa: B010
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
        "offered": offered,
        "severities": Severity.choices,
        "gate_open": production_gate_open(cycle),
    }
