"""Update cycles: the vendor proposes a release and windows, the subscriber agrees them and
records its preparation, the vendor updates Development, the subscriber tests it, then
Production (behind the gate of a passed test or the Accountable party's override)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from engagements import events, policy
from engagements.actions.cycle_windows import check_windows, span, window_text
from engagements.actions.engagements import check_environment
from engagements.actions.issues import create_issue
from engagements.actions.tasks import system_move
from engagements.audit import record_event
from engagements.choices import (
    CycleState,
    Environment,
    SeedTask,
    Severity,
    TaskStatus,
    TestResult,
)
from engagements.cleaning import CLOCK_SKEW, aware, clean_text
from engagements.errors import Conflict, DomainError
from engagements.events import EventKind
from engagements.models import (
    Engagement,
    Snapshot,
    UpdateCycle,
    UpdateStage,
    VirtualMachine,
)
from engagements.policy import seed_task
from engagements.states import CYCLE, production_gate_open, window_allows_start

DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION
MAX_SNAPSHOTS = 20
UPDATES = SeedTask.UPDATES


def locked_cycle(cycle: UpdateCycle | int, revision: int | None = None) -> UpdateCycle:
    pk = cycle if isinstance(cycle, int) else cycle.pk
    locked = (
        UpdateCycle.objects.select_for_update(of=("self",)).select_related("engagement").get(pk=pk)
    )
    if revision is not None and revision != locked.revision:
        raise Conflict(
            f"The update to {locked.release} was changed by someone else since you opened it "
            f"(it is now {locked.get_state_display().lower()}). Nothing was saved; try again."
        )
    return locked


def locked_stages(cycle: UpdateCycle) -> dict[str, UpdateStage]:
    return {s.environment: s for s in cycle.stages.select_for_update().all()}


def cycle_event(
    cycle: UpdateCycle, kind: EventKind, *, actor: Any, task: Any, summary: str, **data: Any
) -> None:
    before = cycle.state
    cycle.revision += 1
    cycle.save()
    record_event(
        cycle.engagement,
        kind,
        actor=actor,
        task=task,
        from_state=data.pop("from_state", before),
        to_state=data.pop("to_state", cycle.state),
        data={"cycle": cycle.pk, "release": cycle.release, "summary": summary, **data},
    )


@transaction.atomic
def propose_cycle(
    engagement: Engagement,
    *,
    actor,
    release: str,
    windows: dict[str, tuple[dt.datetime, dt.datetime]],
    release_notes_url: str = "",
) -> UpdateCycle:
    """The vendor proposes an update to a release, with a window per environment."""
    task = seed_task(engagement, UPDATES)
    who = policy.check(actor, "cycle.propose", engagement, task=task)
    assert who.party_id is not None
    release = clean_text(release, "release", required=True)[:40]
    windows = check_windows(windows, engagement.environment_list)
    if engagement.update_cycles.filter(release=release).exists():
        raise DomainError(f"There is already an update cycle for {release}.")
    try:
        with transaction.atomic():
            cycle = UpdateCycle.objects.create(
                engagement=engagement,
                release=release,
                release_notes_url=release_notes_url or "",
                windows_proposed_by_id=who.party_id,
                proposed_by=actor,
                revision=0,
            )
    except IntegrityError:
        raise DomainError(
            "Another update cycle is still open on this engagement; complete or cancel it first."
        ) from None
    UpdateStage.objects.bulk_create(
        UpdateStage(cycle=cycle, environment=env, window_start=s, window_end=e)
        for env, (s, e) in windows.items()
    )
    cycle_event(
        cycle,
        events.UPDATE_PROPOSED,
        actor=actor,
        task=task,
        summary=f"proposed the update to {release}: {window_text(windows)}",
        from_state="",
    )
    return cycle


@transaction.atomic
def propose_windows(
    cycle: UpdateCycle,
    *,
    actor,
    windows: dict[str, tuple[dt.datetime, dt.datetime]],
    revision: int | None = None,
) -> UpdateCycle:
    """Either side proposes other windows; the other side then accepts them."""
    cycle = locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    who = policy.check(actor, "cycle.windows", cycle, task=task)
    assert who.party_id is not None
    windows = check_windows(windows, cycle.engagement.environment_list)
    for env, stage in locked_stages(cycle).items():
        stage.window_start, stage.window_end = windows[env]
        # New windows are agreed anew: an override of the old ones lapses.
        stage.window_override_reason, stage.window_override_by = "", None
        stage.window_override_at = None
        stage.save(
            update_fields=[
                "window_start",
                "window_end",
                "window_override_reason",
                "window_override_by",
                "window_override_at",
            ]
        )
    CYCLE.apply(cycle, CycleState.PROPOSED)
    cycle.windows_proposed_by_id = who.party_id
    cycle_event(
        cycle,
        events.UPDATE_WINDOWS_PROPOSED,
        actor=actor,
        task=task,
        summary=f"proposed other windows for {cycle.release}: {window_text(windows)}",
    )
    return cycle


@transaction.atomic
def accept_windows(cycle: UpdateCycle, *, actor, revision: int | None = None) -> UpdateCycle:
    cycle = locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    policy.check(actor, "cycle.accept", cycle, task=task)
    CYCLE.apply(cycle, CycleState.AGREED)
    cycle_event(
        cycle,
        events.UPDATE_WINDOWS_AGREED,
        actor=actor,
        task=task,
        summary=f"agreed the windows for {cycle.release}",
    )
    return cycle


@dataclass(frozen=True)
class SnapshotIn:
    vm: str
    identifier: str
    taken_at: dt.datetime


@transaction.atomic
def record_preparation(
    cycle: UpdateCycle,
    *,
    actor,
    environment: str,
    snapshots: list[SnapshotIn],
    access_provided: bool,
    present: str,
    revision: int | None = None,
) -> UpdateStage:
    """The subscriber's part before an update: a snapshot per VM, access, who will be there.

    All three are required; recording again replaces the earlier evidence (until the update
    of that environment starts)."""
    cycle = locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    check_environment(cycle.engagement, environment)
    policy.check(
        actor, "cycle.prepare_dev" if environment == DEV else "cycle.prepare_prod", cycle, task=task
    )
    label = Environment(environment).label
    present = clean_text(present, "list of who will be present", required=False)[:300]
    missing = []
    if not snapshots:
        missing.append("at least one VM snapshot (VM, snapshot identifier, time taken)")
    if not access_provided:
        missing.append("confirmation that access to the appliance is provided")
    if not present:
        missing.append("who will be present during the update")
    if missing:
        raise DomainError(f"The {label} update needs: {'; '.join(missing)}. Nothing was saved.")
    if len(snapshots) > MAX_SNAPSHOTS:
        raise DomainError(f"At most {MAX_SNAPSHOTS} snapshots per environment.")
    now = timezone.now()
    vms = set()
    for snap in snapshots:
        vm = snap.vm.strip()
        if not vm or not snap.identifier.strip():
            raise DomainError("Each snapshot needs a VM name and a snapshot identifier.")
        if len(vm) > 120 or len(snap.identifier.strip()) > 200 or "\x00" in vm + snap.identifier:
            raise DomainError(
                f"The snapshot of {vm[:40]} is too long: VM names are at most 120 characters, "
                "identifiers at most 200."
            )
        if vm.lower() in vms:
            raise DomainError(f"{vm} is listed twice; give one snapshot per VM.")
        vms.add(vm.lower())
        if aware(snap.taken_at, f"The time the snapshot of {vm} was taken") > now + CLOCK_SKEW:
            raise DomainError(f"The snapshot of {vm} is dated in the future.")
    inventory = list(
        VirtualMachine.objects.filter(
            engagement_id=cycle.engagement_id, environment=environment
        ).values_list("name", flat=True)
    )
    uncovered = [name for name in inventory if name.lower() not in vms]
    if uncovered:
        raise DomainError(
            f"Snapshots: every VM of the {label} inventory needs one; missing "
            f"{', '.join(sorted(uncovered))}. Nothing was saved."
        )
    stage = locked_stages(cycle)[environment]
    stage.snapshots.all().delete()
    Snapshot.objects.bulk_create(
        Snapshot(
            stage=stage,
            vm=s.vm.strip(),
            identifier=s.identifier.strip(),
            taken_at=aware(s.taken_at, "time"),
        )
        for s in snapshots
    )
    stage.access_provided, stage.present = True, present
    stage.prepared_at, stage.prepared_by = now, actor
    stage.save()
    cycle_event(
        cycle,
        events.UPDATE_PREPARED,
        actor=actor,
        task=task,
        summary=(
            f"recorded the {label} preparation for {cycle.release}: "
            f"{len(snapshots)} snapshot(s) ({', '.join(s.vm.strip() for s in snapshots)}), "
            f"access provided, present: {present}"
        ),
        environment=environment,
    )
    return stage


@transaction.atomic
def start_update(
    cycle: UpdateCycle, *, actor, environment: str, revision: int | None = None
) -> UpdateCycle:
    """The vendor starts updating an environment. The gates:

    - no update starts before the subscriber recorded that environment's preparation;
    - Production waits for Development testing to pass, unless the Accountable party
      recorded an override (with a reason) after Development was updated."""
    cycle = locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    check_environment(cycle.engagement, environment)
    policy.check(
        actor, "cycle.start_dev" if environment == DEV else "cycle.start_prod", cycle, task=task
    )
    stages = locked_stages(cycle)
    if environment == DEV:
        to = CycleState.DEV_UPDATING
    else:
        if not production_gate_open(cycle):
            raise DomainError(
                "The Production update waits until Development testing has passed. "
                "The Accountable party can record an explicit override with a reason."
            )
        to = CycleState.PROD_UPDATING
    stage = stages[environment]
    label = Environment(environment).label
    if not stage.is_prepared:
        raise DomainError(
            f"The {label} update cannot start: the subscriber has not recorded its preparation "
            "(VM snapshots, access, who will be present)."
        )
    limit = timezone.now() - dt.timedelta(hours=settings.SNAPSHOT_MAX_AGE_HOURS)
    now = timezone.now()
    if not window_allows_start(stage, now):
        raise DomainError(
            f"The {label} update cannot start now: its agreed window is "
            f"{span(stage.window_start, stage.window_end)}. The Accountable party can let it "
            "start outside the window, with a reason."
        )
    stale = sorted(snap.vm for snap in stage.snapshots.all() if snap.taken_at < limit)
    if stale:
        raise DomainError(
            f"The {label} update cannot start: the snapshots of {', '.join(stale)} are older "
            f"than {settings.SNAPSHOT_MAX_AGE_HOURS} hours; the subscriber records fresh ones."
        )
    stage.started_at, stage.finished_at = timezone.now(), None
    override_cleared = False
    if environment == DEV:
        stage.test_result, stage.test_notes, stage.tested_at, stage.tested_by = "", "", None, None
        # A new Development run is tested again: an override given for the last run lapses.
        override_cleared = bool(cycle.override_at)
        cycle.override_reason, cycle.override_by, cycle.override_at = "", None, None
    stage.save()
    CYCLE.apply(cycle, to)
    cycle_event(
        cycle,
        events.UPDATE_STARTED,
        actor=actor,
        task=task,
        summary=f"started updating {label} to {cycle.release}"
        + ("; the earlier gate override lapses" if override_cleared else ""),
        environment=environment,
        override_cleared=override_cleared,
    )
    system_move(task, TaskStatus.IN_PROGRESS, actor=actor, via="update cycle")
    return cycle


@transaction.atomic
def post_status(
    cycle: UpdateCycle, *, actor, message: str, revision: int | None = None
) -> UpdateCycle:
    """A status update during an update: an event that informs the subscriber."""
    cycle = locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    policy.check(actor, "cycle.status", cycle, task=task)
    message = clean_text(message, "status message", required=True)
    env = DEV if cycle.state == CycleState.DEV_UPDATING else PROD
    cycle_event(
        cycle,
        events.UPDATE_STATUS_POSTED,
        actor=actor,
        task=task,
        summary=f"{Environment(env).label} update to {cycle.release}: {message}",
        environment=env,
        message=message,
    )
    return cycle


@transaction.atomic
def finish_update(
    cycle: UpdateCycle, *, actor, scripts: str, revision: int | None = None
) -> UpdateCycle:
    """The vendor marks the node updated, saying which manual scripts ran (or none).

    Development goes to testing; Production completes the cycle."""
    cycle = locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    policy.check(actor, "cycle.finish", cycle, task=task)
    scripts = clean_text(scripts, "note of manual scripts run (or 'none required')", required=True)
    env = DEV if cycle.state == CycleState.DEV_UPDATING else PROD
    stage = locked_stages(cycle)[env]
    stage.scripts, stage.finished_at = scripts, timezone.now()
    stage.save(update_fields=["scripts", "finished_at"])
    CYCLE.apply(cycle, CycleState.DEV_TESTING if env == DEV else CycleState.COMPLETED)
    kind = events.UPDATE_NODE_UPDATED if env == DEV else events.UPDATE_COMPLETED
    summary = (
        f"updated Development to {cycle.release}; ready for the subscriber's tests"
        if env == DEV
        else f"updated Production to {cycle.release}; the update is complete"
    )
    cycle_event(
        cycle, kind, actor=actor, task=task, summary=summary, environment=env, scripts=scripts
    )
    return cycle


@transaction.atomic
def record_test(
    cycle: UpdateCycle,
    *,
    actor,
    result: str,
    notes: str = "",
    severity: str = Severity.HIGH,
    revision: int | None = None,
) -> UpdateCycle:
    """The subscriber's Development test result. A failure raises an issue linked to the
    cycle and informs the vendor (its conditional letters fire on issues)."""
    cycle = locked_cycle(cycle, revision)
    testing = seed_task(cycle.engagement_id, SeedTask.UPDATE_TESTING)
    policy.check(actor, "cycle.test", cycle, task=testing)
    if result not in TestResult.values:
        raise DomainError("The result is passed or failed.")
    notes = clean_text(notes, "description of what failed", required=result == TestResult.FAILED)
    stage = locked_stages(cycle)[DEV]
    retest = stage.test_result == TestResult.FAILED  # a passed re-test ends the issue
    stage.test_result, stage.test_notes = result, notes
    stage.tested_at, stage.tested_by = timezone.now(), actor
    stage.save()
    data: dict[str, Any] = {"environment": DEV, "result": result, "notes": notes}
    if result == TestResult.PASSED:
        data["retest"] = retest
        CYCLE.apply(cycle, CycleState.DEV_PASSED)
        cycle_event(
            cycle,
            events.UPDATE_TEST_PASSED,
            actor=actor,
            task=testing,
            summary=f"tested Development on {cycle.release}: passed",
            **data,
        )
        return cycle
    CYCLE.apply(cycle, CycleState.DEV_FAILED)
    issue = create_issue(
        cycle.engagement,
        actor=actor,
        title=f"Development test failed after the update to {cycle.release}",
        environment=DEV,
        severity=severity,
        description=notes,
        cycle=cycle,
        origin_task=testing,
    )
    cycle_event(
        cycle,
        events.UPDATE_TEST_FAILED,
        actor=actor,
        task=testing,
        summary=f"tested Development on {cycle.release}: failed (issue #{issue.pk}): {notes}",
        issue=issue.pk,
        **data,
    )
    return cycle


@transaction.atomic
def cancel_cycle(
    cycle: UpdateCycle, *, actor, reason: str, revision: int | None = None
) -> UpdateCycle:
    cycle = locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    policy.check(actor, "cycle.cancel", cycle, task=task)
    reason = clean_text(reason, "reason", required=True)
    CYCLE.apply(cycle, CycleState.CANCELLED)
    cycle_event(
        cycle,
        events.UPDATE_CANCELLED,
        actor=actor,
        task=task,
        summary=f"cancelled the update to {cycle.release}: {reason}",
        reason=reason,
    )
    return cycle
