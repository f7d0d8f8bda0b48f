"""The Accountable party's overrides of an update cycle's gates: Production without passed
Development tests, and an update started outside its agreed window. Each needs a reason and
is an audited event."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from engagements import events, policy
from engagements.actions.cycle_windows import span
from engagements.actions.cycles import UPDATES, cycle_event, locked_cycle, locked_stages
from engagements.actions.engagements import check_environment
from engagements.choices import Environment
from engagements.cleaning import clean_text
from engagements.errors import Conflict, DomainError
from engagements.models import UpdateCycle
from engagements.policy import seed_task
from engagements.states import WINDOW_OVERRIDE_STATES

DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION


@transaction.atomic
def override_gate(
    cycle: UpdateCycle, *, actor, reason: str, revision: int | None = None
) -> UpdateCycle:
    """The Accountable party lets Production go ahead without passed Development tests."""
    cycle = locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    policy.check(actor, "cycle.override", cycle, task=task)
    reason = clean_text(reason, "reason for the override", required=True)
    cycle.override_reason, cycle.override_by, cycle.override_at = reason, actor, timezone.now()
    cycle_event(
        cycle,
        events.UPDATE_GATE_OVERRIDDEN,
        actor=actor,
        task=task,
        summary=f"overrode the Development gate for {cycle.release}: {reason}",
        reason=reason,
    )
    return cycle


@transaction.atomic
def override_window(
    cycle: UpdateCycle, *, actor, environment: str, reason: str, revision: int | None = None
) -> UpdateCycle:
    """The Accountable party lets an environment's update start outside its agreed window
    (a window missed, an urgent fix); the reason is recorded on the stage and audited."""
    cycle = locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    check_environment(cycle.engagement, environment)
    policy.check(actor, "cycle.override_window", cycle, task=task)
    label = Environment(environment).label
    if cycle.state not in WINDOW_OVERRIDE_STATES[environment]:
        raise DomainError(f"The {label} update has already started; its window is behind it.")
    reason = clean_text(reason, "reason for starting outside the window", required=True)
    stage = locked_stages(cycle)[environment]
    if stage.window_override_at is not None:
        raise Conflict(f"The {label} window has already been overridden.")
    stage.window_override_reason = reason
    stage.window_override_by, stage.window_override_at = actor, timezone.now()
    stage.save(update_fields=["window_override_reason", "window_override_by", "window_override_at"])
    cycle_event(
        cycle,
        events.UPDATE_WINDOW_OVERRIDDEN,
        actor=actor,
        task=task,
        summary=f"let the {label} update to {cycle.release} start outside its window "
        f"({span(stage.window_start, stage.window_end)}): {reason}",
        environment=environment,
        reason=reason,
    )
    return cycle
