"""Writes for operating the appliance after go-live: update cycles, the Operations Handover,
standing duties (backups, monitoring) with their attestation tokens, issues, and calendar feeds.

Like engagements.services: one transaction each, a keyword-only actor, an Event on the
seed task the work belongs to (whose letters decide who is told), side effects on commit.
Who may act is read from the letters of that task:

- Updates (vendor R; subscriber R, A): the vendor proposes, runs and reports on the update;
  the subscriber agrees windows and records its preparation; the Accountable party alone
  may override the Development gate;
- Testing Updates (subscriber R, A): the subscriber records the Development test result;
- Operations Handover (vendor R): the CSE schedules it and records it held;
- Backing Up / Monitoring (subscriber R, A): the subscriber attests; A sets the cadence;
- Issue Identification (subscriber R, A) raises issues; Issue Resolution (vendor R) works them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import workflow
from .choices import (
    OPEN_STATUSES,
    AttestationResult,
    CycleState,
    DutyKind,
    Environment,
    HandoverState,
    IssueState,
    Severity,
    TaskStatus,
    TestResult,
)
from .models import (
    Attestation,
    AttestationToken,
    CalendarFeed,
    Engagement,
    EngagementTask,
    Handover,
    Issue,
    Membership,
    Snapshot,
    StandingDuty,
    UpdateCycle,
    UpdateStage,
)
from .services import (
    Conflict,
    DomainError,
    NotAllowed,
    _clean_text,
    _system_move,
    member_party_id,
    record_event,
)

UPDATES, TESTING, HANDOVER = "updates", "update_testing", "handover"
IDENTIFICATION, RESOLUTION = "issue_identification", "issue_resolution"
DUTY_TASK = {DutyKind.BACKUP: "backup", DutyKind.MONITORING: "monitoring"}
DUTY_DEFAULTS = {DutyKind.BACKUP: (1, 1), DutyKind.MONITORING: (30, 7)}  # cadence, grace (days)
MAX_WINDOW = dt.timedelta(days=7)
MAX_AHEAD = dt.timedelta(days=730)  # windows and meetings are planned at most two years ahead
MAX_BEHIND = dt.timedelta(days=366)  # and recorded at most a year back
MAX_SIZE = 2**63 - 1
# A nightly job that ends a little later than yesterday's is not late, and is not reminded.
DUTY_SLACK = dt.timedelta(hours=2)
MAX_SNAPSHOTS = 20
CLOCK_SKEW = dt.timedelta(minutes=10)
DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION
AGENDA = (
    "1. Monitoring the PSaaS Appliance: what to watch, where alerts go\n"
    "2. Backing up with the Command-Line Tools: schedule, retention, restore test\n"
    "3. Updates: how cycles are agreed, snapshots before each update, testing Development\n"
    "4. Questions"
)


# --- Who may act ---------------------------------------------------------------------


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


def _utc(value: dt.datetime | None, what: str) -> dt.datetime:
    """The time in UTC; a naive time is taken as UTC."""
    if value is None:
        raise DomainError(f"{what} is required.")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:  # year 1 or 9999 with an offset
        raise DomainError(f"{what} is out of range.") from None


def _aware(value: dt.datetime | None, what: str) -> dt.datetime:
    """The time in UTC, within the range the portal plans and records."""
    value = _utc(value, what)
    now = timezone.now()
    if not now - MAX_BEHIND <= value <= now + MAX_AHEAD:
        raise DomainError(f"{what} must be within a year back and two years ahead.")
    return value.astimezone(dt.UTC)


# --- Update cycles ---------------------------------------------------------------------


S = CycleState
# The states in which each environment's preparation may still be recorded (or replaced).
PREPARE_STATES = {
    DEV: (S.PROPOSED, S.AGREED),
    PROD: (S.PROPOSED, S.AGREED, S.DEV_UPDATING, S.DEV_TESTING, S.DEV_FAILED, S.DEV_PASSED),
}
CANCELLABLE = (S.PROPOSED, S.AGREED, S.DEV_TESTING, S.DEV_FAILED, S.DEV_PASSED)
UPDATING = (S.DEV_UPDATING, S.PROD_UPDATING)


def production_gate_open(cycle: UpdateCycle) -> bool:
    """Development passed its tests, or the Accountable party overrode the gate."""
    return cycle.state == S.DEV_PASSED or (
        cycle.override_at is not None and cycle.state in (S.DEV_TESTING, S.DEV_FAILED)
    )


def cycle_actions(cycle: UpdateCycle, *, me: Side, tester: Side) -> set[str]:
    """The cycle's forms to offer this party now (the services decide: an offered start whose
    gate is shut is refused with the reason)."""
    if not cycle.is_open:
        return set()
    vendor = me.responsible and me.is_vendor
    subscriber = me.responsible and not me.is_vendor
    rules = {
        "accept": cycle.state == S.PROPOSED
        and me.responsible
        and me.party_id != cycle.windows_proposed_by_id,
        "windows": me.responsible and cycle.state in (S.PROPOSED, S.AGREED),
        "prepare_dev": subscriber and cycle.state in PREPARE_STATES[DEV],
        "prepare_prod": subscriber and cycle.state in PREPARE_STATES[PROD],
        "start_dev": vendor and cycle.state in (S.AGREED, S.DEV_FAILED),
        "start_prod": vendor and cycle.state in (S.DEV_TESTING, S.DEV_FAILED, S.DEV_PASSED),
        "status": vendor and cycle.state in UPDATING,
        "finish": vendor and cycle.state in UPDATING,
        "test": tester.responsible and cycle.state == S.DEV_TESTING,
        "override": me.accountable
        and cycle.override_at is None
        and cycle.state in (S.DEV_TESTING, S.DEV_FAILED),
        "cancel": me.responsible and cycle.state in CANCELLABLE,
    }
    return {name for name, offered in rules.items() if offered}


def cycle_next_step(cycle: UpdateCycle, *, me: Side, tester: Side) -> str:
    """What the open cycle waits for from this party, in words ("" when it waits on the
    other side): unlike cycle_actions, a start waits until its preparation is in."""
    stages = {s.environment: s for s in cycle.stages.all()}
    actions = cycle_actions(cycle, me=me, tester=tester)
    dev_ready = stages[DEV].is_prepared
    prod_ready = stages[PROD].is_prepared
    steps = [
        ("accept", True, "Agree the update windows"),
        (
            "prepare_dev",
            not dev_ready and cycle.state == S.AGREED,
            "Record the Development snapshots",
        ),
        ("start_dev", dev_ready and cycle.state == S.AGREED, "Start the Development update"),
        ("start_dev", cycle.state == S.DEV_FAILED, "Fix and update Development again"),
        ("finish", True, "Finish the update"),
        ("test", True, "Test Development"),
        (
            "prepare_prod",
            not prod_ready and cycle.state == S.DEV_PASSED,
            "Record the Production snapshots",
        ),
        ("start_prod", prod_ready and cycle.state == S.DEV_PASSED, "Start the Production update"),
    ]
    return next((text for action, when, text in steps if action in actions and when), "")


def _check_windows(windows: dict[str, tuple[dt.datetime, dt.datetime]]) -> dict:
    out = {}
    for env in (DEV, PROD):
        if env not in windows:
            raise DomainError(f"Give a {Environment(env).label} window.")
        start, end = windows[env]
        label = Environment(env).label
        start, end = _aware(start, f"The {label} start"), _aware(end, f"The {label} end")
        if end <= start:
            raise DomainError(f"The {label} window must end after it starts.")
        if end - start > MAX_WINDOW:
            raise DomainError(f"The {label} window is longer than {MAX_WINDOW.days} days.")
        out[env] = (start, end)
    if out[PROD][0] < out[DEV][1]:
        raise DomainError(
            "The Production window must start after the Development window ends: "
            "Development is updated and tested first."
        )
    return out


def _window_text(windows: dict) -> str:
    return "; ".join(
        f"{Environment(env).label} {s:%Y-%m-%d %H:%M} to {e:%Y-%m-%d %H:%M} UTC"
        for env, (s, e) in ((env, windows[env]) for env in (DEV, PROD))
    )


def _locked_cycle(cycle: UpdateCycle | int, revision: int | None = None) -> UpdateCycle:
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


def _stages(cycle: UpdateCycle) -> dict[str, UpdateStage]:
    return {s.environment: s for s in cycle.stages.select_for_update().all()}


def _cycle_event(cycle: UpdateCycle, verb: str, *, actor, task, summary: str, **data) -> None:
    before = cycle.state
    cycle.revision += 1
    cycle.save()
    record_event(
        cycle.engagement,
        verb,
        actor=actor,
        task=task,
        from_state=data.pop("from_state", before),
        to_state=data.pop("to_state", cycle.state),
        data={"cycle": cycle.pk, "release": cycle.release, "summary": summary, **data},
    )


def _expect(cycle: UpdateCycle, states: Iterable[str], doing: str) -> None:
    if cycle.state not in states:
        raise DomainError(
            f"The update to {cycle.release} is {cycle.get_state_display().lower()}; "
            f"you cannot {doing} now."
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
    who = require(task, actor, "responsible", side="vendor", doing="propose an update")
    release = _clean_text(release, "release", required=True)[:40]
    windows = _check_windows(windows)
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
    _cycle_event(
        cycle,
        "update.proposed",
        actor=actor,
        task=task,
        summary=f"proposed the update to {release}: {_window_text(windows)}",
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
    cycle = _locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    who = require(task, actor, "responsible", doing="propose update windows")
    _expect(cycle, (CycleState.PROPOSED, CycleState.AGREED), "change its windows")
    windows = _check_windows(windows)
    for env, stage in _stages(cycle).items():
        stage.window_start, stage.window_end = windows[env]
        stage.save(update_fields=["window_start", "window_end"])
    cycle.state = CycleState.PROPOSED
    cycle.windows_proposed_by_id = who.party_id
    _cycle_event(
        cycle,
        "update.windows_proposed",
        actor=actor,
        task=task,
        summary=f"proposed other windows for {cycle.release}: {_window_text(windows)}",
    )
    return cycle


@transaction.atomic
def accept_windows(cycle: UpdateCycle, *, actor, revision: int | None = None) -> UpdateCycle:
    cycle = _locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    who = require(task, actor, "responsible", doing="agree update windows")
    _expect(cycle, (CycleState.PROPOSED,), "agree its windows")
    if who.party_id == cycle.windows_proposed_by_id:
        raise NotAllowed("The windows were proposed by your side; the other side agrees them.")
    cycle.state = CycleState.AGREED
    _cycle_event(
        cycle,
        "update.windows_agreed",
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
    cycle = _locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    require(task, actor, "responsible", side="subscriber", doing="record update preparation")
    if environment not in (DEV, PROD):
        raise DomainError("Choose Development or Production.")
    label = Environment(environment).label
    _expect(cycle, PREPARE_STATES[environment], f"record the {label} preparation")
    present = _clean_text(present, "list of who will be present", required=False)[:300]
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
        if _aware(snap.taken_at, f"The time the snapshot of {vm} was taken") > now + CLOCK_SKEW:
            raise DomainError(f"The snapshot of {vm} is dated in the future.")
    stage = _stages(cycle)[environment]
    stage.snapshots.all().delete()
    Snapshot.objects.bulk_create(
        Snapshot(
            stage=stage,
            vm=s.vm.strip(),
            identifier=s.identifier.strip(),
            taken_at=_aware(s.taken_at, "time"),
        )
        for s in snapshots
    )
    stage.access_provided, stage.present = True, present
    stage.prepared_at, stage.prepared_by = now, actor
    stage.save()
    _cycle_event(
        cycle,
        "update.prepared",
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
    cycle = _locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    require(task, actor, "responsible", side="vendor", doing="run the update")
    stages = _stages(cycle)
    if environment == DEV:
        _expect(cycle, (CycleState.AGREED, CycleState.DEV_FAILED), "start the Development update")
        to = CycleState.DEV_UPDATING
    elif environment == PROD:
        _expect(
            cycle,
            (CycleState.DEV_TESTING, CycleState.DEV_FAILED, CycleState.DEV_PASSED),
            "start the Production update",
        )
        if not production_gate_open(cycle):
            raise DomainError(
                "The Production update waits until Development testing has passed. "
                "The Accountable party can record an explicit override with a reason."
            )
        to = CycleState.PROD_UPDATING
    else:
        raise DomainError("Choose Development or Production.")
    stage = stages[environment]
    label = Environment(environment).label
    if not stage.is_prepared:
        raise DomainError(
            f"The {label} update cannot start: the subscriber has not recorded its preparation "
            "(VM snapshots, access, who will be present)."
        )
    stage.started_at, stage.finished_at = timezone.now(), None
    override_cleared = False
    if environment == DEV:
        stage.test_result, stage.test_notes, stage.tested_at, stage.tested_by = "", "", None, None
        # A new Development run is tested again: an override given for the last run lapses.
        override_cleared = bool(cycle.override_at)
        cycle.override_reason, cycle.override_by, cycle.override_at = "", None, None
    stage.save()
    cycle.state = to
    _cycle_event(
        cycle,
        "update.started",
        actor=actor,
        task=task,
        summary=f"started updating {label} to {cycle.release}"
        + ("; the earlier gate override lapses" if override_cleared else ""),
        environment=environment,
        override_cleared=override_cleared,
    )
    _system_move(
        task,
        TaskStatus.IN_PROGRESS,
        actor=actor,
        via="update cycle",
        only_from=(TaskStatus.NOT_STARTED, TaskStatus.REOPENED),
    )
    return cycle


@transaction.atomic
def post_status(
    cycle: UpdateCycle, *, actor, message: str, revision: int | None = None
) -> UpdateCycle:
    """A status update during an update: an event that informs the subscriber."""
    cycle = _locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    require(task, actor, "responsible", side="vendor", doing="post update status")
    _expect(cycle, UPDATING, "post a status update")
    message = _clean_text(message, "status message", required=True)
    env = DEV if cycle.state == CycleState.DEV_UPDATING else PROD
    _cycle_event(
        cycle,
        "update.status_posted",
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
    cycle = _locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    require(task, actor, "responsible", side="vendor", doing="finish the update")
    _expect(cycle, UPDATING, "mark a node updated")
    scripts = _clean_text(scripts, "note of manual scripts run (or 'none required')", required=True)
    env = DEV if cycle.state == CycleState.DEV_UPDATING else PROD
    stage = _stages(cycle)[env]
    stage.scripts, stage.finished_at = scripts, timezone.now()
    stage.save(update_fields=["scripts", "finished_at"])
    cycle.state = CycleState.DEV_TESTING if env == DEV else CycleState.COMPLETED
    verb = "update.node_updated" if env == DEV else "update.completed"
    summary = (
        f"updated Development to {cycle.release}; ready for the subscriber's tests"
        if env == DEV
        else f"updated Production to {cycle.release}; the update is complete"
    )
    _cycle_event(
        cycle, verb, actor=actor, task=task, summary=summary, environment=env, scripts=scripts
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
    cycle = _locked_cycle(cycle, revision)
    testing = seed_task(cycle.engagement_id, TESTING)
    require(testing, actor, "responsible", doing="record the Development test result")
    _expect(cycle, (CycleState.DEV_TESTING,), "record a test result")
    if result not in TestResult.values:
        raise DomainError("The result is passed or failed.")
    notes = _clean_text(notes, "description of what failed", required=result == TestResult.FAILED)
    stage = _stages(cycle)[DEV]
    stage.test_result, stage.test_notes = result, notes
    stage.tested_at, stage.tested_by = timezone.now(), actor
    stage.save()
    data = {"environment": DEV, "result": result, "notes": notes}
    if result == TestResult.PASSED:
        cycle.state = CycleState.DEV_PASSED
        _cycle_event(
            cycle,
            "update.test_passed",
            actor=actor,
            task=testing,
            summary=f"tested Development on {cycle.release}: passed",
            **data,
        )
        return cycle
    cycle.state = CycleState.DEV_FAILED
    issue = _create_issue(
        cycle.engagement,
        actor=actor,
        title=f"Development test failed after the update to {cycle.release}",
        environment=DEV,
        severity=severity,
        description=notes,
        cycle=cycle,
        origin_task=testing,
    )
    _cycle_event(
        cycle,
        "update.test_failed",
        actor=actor,
        task=testing,
        summary=f"tested Development on {cycle.release}: failed (issue #{issue.pk}): {notes}",
        issue=issue.pk,
        **data,
    )
    return cycle


@transaction.atomic
def override_gate(
    cycle: UpdateCycle, *, actor, reason: str, revision: int | None = None
) -> UpdateCycle:
    """The Accountable party lets Production go ahead without passed Development tests."""
    cycle = _locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    require(task, actor, "accountable", doing="override the Development gate")
    _expect(cycle, (CycleState.DEV_TESTING, CycleState.DEV_FAILED), "override the Development gate")
    if cycle.override_at:
        raise Conflict("The gate has already been overridden for this cycle.")
    reason = _clean_text(reason, "reason for the override", required=True)
    cycle.override_reason, cycle.override_by, cycle.override_at = reason, actor, timezone.now()
    _cycle_event(
        cycle,
        "update.gate_overridden",
        actor=actor,
        task=task,
        summary=f"overrode the Development gate for {cycle.release}: {reason}",
        reason=reason,
    )
    return cycle


@transaction.atomic
def cancel_cycle(
    cycle: UpdateCycle, *, actor, reason: str, revision: int | None = None
) -> UpdateCycle:
    cycle = _locked_cycle(cycle, revision)
    task = seed_task(cycle.engagement_id, UPDATES)
    require(task, actor, "responsible", doing="cancel an update")
    _expect(cycle, CANCELLABLE, "cancel it (an update in progress is finished first)")
    reason = _clean_text(reason, "reason", required=True)
    cycle.state = CycleState.CANCELLED
    _cycle_event(
        cycle,
        "update.cancelled",
        actor=actor,
        task=task,
        summary=f"cancelled the update to {cycle.release}: {reason}",
        reason=reason,
    )
    return cycle


# --- The Operations Handover ---------------------------------------------------------------


def _attendees(engagement: Engagement, attendee_ids: Iterable[int]) -> list[Membership]:
    ids = {int(i) for i in attendee_ids}
    members = list(
        Membership.objects.filter(engagement=engagement, user_id__in=ids, user__is_active=True)
        .select_related("user", "party")
        .order_by("party__name", "user__username")
    )
    if len(members) != len(ids):
        raise DomainError("Every attendee must be an active member of this engagement.")
    sides = {m.party.is_vendor for m in members}
    if sides != {True, False}:
        raise DomainError("Invite attendees from both parties: the vendor and the subscriber.")
    return members


def _person(user) -> dict:
    return {"name": user.get_full_name() or user.get_username(), "email": user.email}


def invitation_data(handover: Handover, members: list[Membership]) -> dict:
    """What an invitation says, frozen into the event so the email matches the change."""
    return {
        "uid": str(handover.uid),
        "sequence": handover.sequence,
        "status": handover.state,
        "start": handover.starts_at.astimezone(dt.UTC).isoformat(),
        "minutes": handover.duration_minutes,
        "location": handover.location,
        "agenda": handover.agenda,
        "summary": f"PSaaS Appliance Operations Handover: {handover.engagement.name}",
        "organizer": _person(handover.organizer),
        "attendees": [_person(m.user) for m in members],
    }


def _check_time(starts_at: dt.datetime, minutes: int) -> dt.datetime:
    if _utc(starts_at, "The start time") < timezone.now() - CLOCK_SKEW:
        raise DomainError("The handover must be scheduled in the future.")
    starts_at = _aware(starts_at, "The start time")
    if not 15 <= int(minutes) <= 480:
        raise DomainError("The meeting lasts between 15 and 480 minutes (90 by default).")
    return starts_at


def _handover_event(handover, verb, *, actor, task, summary, members, **data) -> None:
    handover.revision += 1
    handover.save()
    record_event(
        handover.engagement,
        verb,
        actor=actor,
        task=task,
        to_state=handover.state,
        data={
            "handover": handover.pk,
            "summary": summary,
            "attendee_ids": [m.user_id for m in members],
            "invitation": invitation_data(handover, members),
            **data,
        },
    )


@transaction.atomic
def schedule_handover(
    engagement: Engagement,
    *,
    actor,
    starts_at: dt.datetime,
    attendee_ids: Iterable[int],
    duration_minutes: int = 90,
    location: str = "",
    agenda: str = "",
) -> Handover:
    task = seed_task(engagement, HANDOVER)
    require(task, actor, "responsible", doing="schedule the Operations Handover")
    starts_at = _check_time(starts_at, duration_minutes)
    members = _attendees(engagement, attendee_ids)
    agenda = _clean_text(agenda, "agenda", required=False) or AGENDA
    try:
        with transaction.atomic():
            handover = Handover.objects.create(
                engagement=engagement,
                uid=uuid.uuid4(),
                starts_at=starts_at,
                duration_minutes=duration_minutes,
                location=_clean_text(location, "location", required=False)[:300],
                agenda=agenda,
                organizer=actor,
                revision=0,
            )
    except IntegrityError:
        raise DomainError(
            "A handover is already scheduled; reschedule or cancel it instead."
        ) from None
    handover.attendees.set([m.user_id for m in members])
    _handover_event(
        handover,
        "handover.scheduled",
        actor=actor,
        task=task,
        members=members,
        summary=f"scheduled the Operations Handover for {starts_at:%Y-%m-%d %H:%M} UTC "
        f"({duration_minutes} minutes, {len(members)} attendees)",
    )
    _system_move(
        task,
        TaskStatus.IN_PROGRESS,
        actor=actor,
        via="handover",
        only_from=(TaskStatus.NOT_STARTED, TaskStatus.REOPENED),
    )
    return handover


def _locked_handover(handover: Handover | int, revision: int | None) -> Handover:
    pk = handover if isinstance(handover, int) else handover.pk
    locked = (
        Handover.objects.select_for_update(of=("self",))
        .select_related("engagement", "organizer")
        .get(pk=pk)
    )
    if revision is not None and revision != locked.revision:
        raise Conflict("The handover was changed by someone else since you opened it; try again.")
    if locked.state != HandoverState.SCHEDULED:
        raise DomainError(f"The handover is {locked.get_state_display().lower()}.")
    return locked


@transaction.atomic
def reschedule_handover(
    handover: Handover,
    *,
    actor,
    starts_at: dt.datetime,
    duration_minutes: int,
    location: str,
    attendee_ids: Iterable[int],
    revision: int | None = None,
) -> Handover:
    """New time (or attendees): the same UID with a higher SEQUENCE, so calendars update."""
    handover = _locked_handover(handover, revision)
    task = seed_task(handover.engagement_id, HANDOVER)
    require(task, actor, "responsible", doing="reschedule the Operations Handover")
    starts_at = _check_time(starts_at, duration_minutes)
    members = _attendees(handover.engagement, attendee_ids)
    removed = sorted(
        set(handover.attendees.values_list("pk", flat=True)) - {m.user_id for m in members}
    )
    before = handover.starts_at
    handover.starts_at, handover.duration_minutes = starts_at, duration_minutes
    handover.location = _clean_text(location, "location", required=False)[:300]
    handover.sequence += 1
    handover.attendees.set([m.user_id for m in members])
    _handover_event(
        handover,
        "handover.rescheduled",
        actor=actor,
        task=task,
        members=members,
        summary=f"moved the Operations Handover from {before:%Y-%m-%d %H:%M} to "
        f"{starts_at:%Y-%m-%d %H:%M} UTC ({duration_minutes} minutes)",
        # People taken off the list get a cancellation (same UID, this SEQUENCE).
        removed_ids=removed,
    )
    return handover


@transaction.atomic
def cancel_handover(
    handover: Handover, *, actor, reason: str, revision: int | None = None
) -> Handover:
    handover = _locked_handover(handover, revision)
    task = seed_task(handover.engagement_id, HANDOVER)
    require(task, actor, "responsible", doing="cancel the Operations Handover")
    reason = _clean_text(reason, "reason", required=True)
    members = list(
        Membership.objects.filter(
            engagement_id=handover.engagement_id, user__in=handover.attendees.all()
        ).select_related("user")
    )
    handover.state = HandoverState.CANCELLED
    handover.sequence += 1
    _handover_event(
        handover,
        "handover.cancelled",
        actor=actor,
        task=task,
        members=members,
        summary=f"cancelled the Operations Handover of {handover.starts_at:%Y-%m-%d %H:%M} UTC: {reason}",
        reason=reason,
    )
    return handover


@transaction.atomic
def record_handover_held(
    handover: Handover,
    *,
    actor,
    notes: str,
    questions_answered: str = "",
    revision: int | None = None,
) -> Handover:
    """After the meeting: notes and the questions answered; the handover task is done."""
    handover = _locked_handover(handover, revision)
    task = seed_task(handover.engagement_id, HANDOVER)
    require(task, actor, "responsible", doing="record the Operations Handover")
    if handover.starts_at > timezone.now() + CLOCK_SKEW:
        raise DomainError("The handover has not started yet; record it after the meeting.")
    handover.notes = _clean_text(notes, "meeting notes", required=True)
    handover.questions_answered = _clean_text(
        questions_answered, "questions answered", required=False
    )
    handover.state, handover.held_at = HandoverState.HELD, timezone.now()
    handover.revision += 1
    handover.save()
    record_event(
        handover.engagement,
        "handover.held",
        actor=actor,
        task=task,
        to_state=HandoverState.HELD,
        data={
            "handover": handover.pk,
            "summary": "recorded the Operations Handover as held",
            "notes": handover.notes,
            "questions_answered": handover.questions_answered,
        },
    )
    _system_move(task, TaskStatus.DONE, actor=actor, via="handover", only_from=OPEN_STATUSES)
    return handover


# --- Standing duties ------------------------------------------------------------------------


def create_default_duties(engagement: Engagement) -> None:
    """A backup and a monitoring duty with the default cadences, where the template has the
    task (called when an engagement is created); their clocks start at go-live."""
    keys = set(
        engagement.tasks.live().filter(key__in=DUTY_TASK.values()).values_list("key", flat=True)
    )
    StandingDuty.objects.bulk_create(
        [
            StandingDuty(
                engagement=engagement,
                kind=kind,
                cadence_days=DUTY_DEFAULTS[kind][0],
                grace_days=DUTY_DEFAULTS[kind][1],
                due_at=None,  # the clock starts at go-live (start_duty_clocks)
            )
            for kind, key in DUTY_TASK.items()
            if key in keys
        ],
        ignore_conflicts=True,
    )


def start_duty_clocks(engagement: Engagement, *, now: dt.datetime | None = None) -> int:
    """Go-live (the Production deployment signed off): each duty not yet running is due a
    cadence from now. Called inside the sign-off's transaction."""
    now = now or timezone.now()
    started = 0
    for duty in StandingDuty.objects.select_for_update().filter(
        engagement=engagement, due_at__isnull=True
    ):
        duty.due_at = now + dt.timedelta(days=duty.cadence_days)
        duty.save(update_fields=["due_at"])
        started += 1
    return started


def _locked_duty(duty: StandingDuty | int) -> StandingDuty:
    pk = duty if isinstance(duty, int) else duty.pk
    return (
        StandingDuty.objects.select_for_update(of=("self",)).select_related("engagement").get(pk=pk)
    )


@transaction.atomic
def set_cadence(duty: StandingDuty, *, actor, cadence_days: int, grace_days: int) -> StandingDuty:
    duty = _locked_duty(duty)
    task = seed_task(duty.engagement_id, DUTY_TASK[duty.kind])
    require(task, actor, "accountable", doing="set the cadence")
    if not 1 <= int(cadence_days) <= 366 or not 0 <= int(grace_days) <= 60:
        raise DomainError("The cadence is 1 to 366 days and the grace 0 to 60 days.")
    before = (duty.cadence_days, duty.grace_days)
    duty.cadence_days, duty.grace_days = int(cadence_days), int(grace_days)
    if duty.last_attested_at is not None:
        old_due = duty.due_at
        duty.due_at = duty.last_attested_at + dt.timedelta(days=duty.cadence_days)
        if duty.missed_reported_for is not None and duty.missed_reported_for == old_due:
            duty.missed_reported_for = duty.due_at  # the same missed period: told once
    duty.save()
    record_event(
        duty.engagement,
        "duty.cadence_set",
        actor=actor,
        task=task,
        data={
            "duty": duty.pk,
            "summary": f"set {duty.get_kind_display().lower()} to every {duty.cadence_days} "
            f"day(s), {duty.grace_days} day(s) grace (was {before[0]} and {before[1]})",
        },
    )
    return duty


@dataclass(frozen=True)
class AttestationIn:
    performed_at: dt.datetime
    result: str
    tool: str = ""
    reference: str = ""
    size_bytes: int | None = None
    monitored: str = ""
    alerts_to: str = ""
    notes: str = ""


@transaction.atomic
def record_attestation(
    duty: StandingDuty,
    *,
    actor,
    attestation: AttestationIn,
    token: AttestationToken | None = None,
) -> Attestation:
    """The subscriber attests that the duty was done (or that a backup failed).

    Through the portal the person must be Responsible for the duty's task; through a token
    the token vouches for the engagement (the event's actor is the token's creator)."""
    duty = _locked_duty(duty)
    task = seed_task(duty.engagement_id, DUTY_TASK[duty.kind])
    # Through a token, its creator must still be Responsible: a token outlives no one's role.
    require(task, actor, "responsible", doing=f"attest {duty.get_kind_display().lower()}")
    a = attestation
    if a.result not in AttestationResult.values:
        raise DomainError("The result is succeeded or failed.")
    now = timezone.now()
    if _utc(a.performed_at, "The time it was done") > now + CLOCK_SKEW:
        raise DomainError("The time it was done is in the future.")
    performed_at = _aware(a.performed_at, "The time it was done")
    if a.size_bytes is not None and not 0 <= a.size_bytes <= MAX_SIZE:
        raise DomainError("The size is a number of bytes, from 0 to 2^63-1.")
    fields = {
        "tool": _clean_text(a.tool, "tool", required=duty.kind == DutyKind.BACKUP)[:120],
        "reference": _clean_text(a.reference, "reference", required=False)[:200],
        "monitored": _clean_text(
            a.monitored, "what is monitored", required=duty.kind == DutyKind.MONITORING
        )[:300],
        "alerts_to": _clean_text(
            a.alerts_to, "where alerts go", required=duty.kind == DutyKind.MONITORING
        )[:200],
        "notes": _clean_text(a.notes, "notes", required=a.result == AttestationResult.FAILED),
    }
    # On time: within the cadence (and a little slack) of the last one, or the first one.
    on_time = duty.due_at is None or performed_at <= duty.due_at + DUTY_SLACK
    record = Attestation.objects.create(
        duty=duty,
        performed_at=performed_at,
        result=a.result,
        size_bytes=a.size_bytes,
        on_time=on_time,
        recorded_by=actor,
        via_token=token,
        **fields,
    )
    succeeded = a.result == AttestationResult.SUCCEEDED
    if succeeded and (duty.last_attested_at is None or performed_at > duty.last_attested_at):
        # (a first attestation before go-live starts the clock too)
        duty.last_attested_at = performed_at
        duty.due_at = performed_at + dt.timedelta(days=duty.cadence_days)
        duty.save(update_fields=["last_attested_at", "due_at"])
    if token is not None:
        AttestationToken.objects.filter(pk=token.pk).update(last_used_at=now)
    what = duty.get_kind_display().lower()
    late = "" if on_time else " (late)"
    summary = (
        f"attested {what} done at {performed_at:%Y-%m-%d %H:%M} UTC{late}"
        if succeeded
        else f"reported a failed {what} at {performed_at:%Y-%m-%d %H:%M} UTC: {fields['notes']}"
    )
    record_event(
        duty.engagement,
        "duty.attested" if succeeded else "duty.failed",
        actor=actor,
        task=task,
        to_state=a.result,
        data={
            "duty": duty.pk,
            "attestation": record.pk,
            "summary": summary,
            "on_time": on_time,
            **({"via": "token", "token": token.prefix} if token else {}),
        },
    )
    return record


@transaction.atomic
def report_missed(duty_id: int, *, now: dt.datetime) -> bool:
    """Past the grace period, tells the vendor once per missed due time (the conditional
    letter fires: a missed cadence is an issue). Returns whether an event was written."""
    duty = _locked_duty(duty_id)
    if duty.due_at is None or now <= duty.due_at + dt.timedelta(days=duty.grace_days):
        return False
    if duty.missed_reported_for == duty.due_at:
        return False
    duty.missed_reported_for = duty.due_at
    duty.save(update_fields=["missed_reported_for"])
    task = seed_task(duty.engagement_id, DUTY_TASK[duty.kind])
    record_event(
        duty.engagement,
        "duty.missed",
        task=task,
        data={
            "duty": duty.pk,
            "summary": f"{duty.get_kind_display()} was due {duty.due_at:%Y-%m-%d %H:%M} UTC and "
            f"is {(now - duty.due_at).days} day(s) late, past the {duty.grace_days}-day grace",
        },
    )
    return True


# --- Tokens -------------------------------------------------------------------------------


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_attestation_token(
    engagement: Engagement, *, actor, name: str
) -> tuple[AttestationToken, str]:
    """A token for the backup job: returns the row and the value, which is never shown again."""
    task = seed_task(engagement, DUTY_TASK[DutyKind.BACKUP])
    require(task, actor, "responsible", doing="create attestation tokens")
    name = _clean_text(name, "token name", required=True)[:80]
    raw = "psat_" + secrets.token_urlsafe(32)
    token = AttestationToken.objects.create(
        engagement=engagement,
        name=name,
        prefix=raw[:12],
        digest=_digest(raw),
        created_by=actor,
    )
    record_event(
        engagement,
        "token.created",
        actor=actor,
        data={"summary": f"created the attestation token {name!r} ({token.prefix}…)"},
    )
    return token, raw


@transaction.atomic
def revoke_attestation_token(token: AttestationToken, *, actor) -> AttestationToken:
    token = (
        AttestationToken.objects.select_for_update().select_related("engagement").get(pk=token.pk)
    )
    task = seed_task(token.engagement_id, DUTY_TASK[DutyKind.BACKUP])
    require(task, actor, "responsible", doing="revoke attestation tokens")
    if token.revoked_at:
        raise Conflict("That token is already revoked.")
    token.revoked_at, token.revoked_by = timezone.now(), actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    record_event(
        token.engagement,
        "token.revoked",
        actor=actor,
        data={"summary": f"revoked the attestation token {token.name!r} ({token.prefix}…)"},
    )
    return token


def token_for(raw: str) -> AttestationToken | None:
    """The active token with this value (looked up by its SHA-256), or None."""
    if not raw or len(raw) > 200:
        return None
    return (
        AttestationToken.objects.select_related("created_by", "engagement")
        .filter(digest=_digest(raw), revoked_at__isnull=True)
        .first()
    )


def rotate_calendar_feed(user) -> str:
    """A new private feed secret for the user (the old URL stops working); returns it once."""
    raw = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(user=user, defaults={"digest": _digest(raw)})
    return raw


def revoke_calendar_feed(user) -> bool:
    return CalendarFeed.objects.filter(user=user).delete()[0] > 0


def feed_user(raw: str):
    if not raw or len(raw) > 200:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(digest=_digest(raw)).first()
    if feed is None or not feed.user.is_active:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed.user


# --- Issues -------------------------------------------------------------------------------

REPORTER, RESOLVER = "reporter", "resolver"


@dataclass(frozen=True)
class IssueMove:
    label: str
    by: str
    needs_note: bool = False


ISSUE_MOVES: dict[tuple[str, str], IssueMove] = {
    (IssueState.OPEN, IssueState.INVESTIGATING): IssueMove("Start investigating", RESOLVER),
    (IssueState.OPEN, IssueState.WAITING): IssueMove("Ask the subscriber…", RESOLVER, True),
    (IssueState.OPEN, IssueState.RESOLVED): IssueMove("Resolve…", RESOLVER, True),
    (IssueState.INVESTIGATING, IssueState.WAITING): IssueMove(
        "Ask the subscriber…", RESOLVER, True
    ),
    (IssueState.INVESTIGATING, IssueState.RESOLVED): IssueMove("Resolve…", RESOLVER, True),
    (IssueState.WAITING, IssueState.INVESTIGATING): IssueMove("Answer…", REPORTER, True),
    (IssueState.RESOLVED, IssueState.CLOSED): IssueMove("Close", REPORTER),
    (IssueState.RESOLVED, IssueState.OPEN): IssueMove("Reopen…", REPORTER, True),
}


def issue_roles(engagement_id: int, user) -> set[str]:
    """REPORTER (Responsible for Issue Identification), RESOLVER (for Issue Resolution)."""
    party_id = member_party_id(engagement_id, user)
    roles = set()
    if side_on(seed_task(engagement_id, IDENTIFICATION), party_id).responsible:
        roles.add(REPORTER)
    if side_on(seed_task(engagement_id, RESOLUTION), party_id).responsible:
        roles.add(RESOLVER)
    return roles


def _create_issue(
    engagement, *, actor, title, environment, severity, description, **links
) -> Issue:
    if environment not in Environment.values:
        raise DomainError("Choose the environment: Development or Production.")
    if severity not in Severity.values:
        raise DomainError("Choose a severity.")
    issue = Issue.objects.create(
        engagement=engagement,
        title=_clean_text(title, "title", required=True)[:200],
        environment=environment,
        severity=severity,
        description=_clean_text(description, "description", required=True),
        ticket_reference=_clean_text(links.pop("ticket_reference", ""), "ticket", required=False)[
            :60
        ],
        raised_by=actor,
        **links,
    )
    record_event(
        engagement,
        "issue.raised",
        actor=actor,
        task=seed_task(engagement, IDENTIFICATION),
        to_state=IssueState.OPEN,
        data={
            "issue": issue.pk,
            "summary": f"raised issue #{issue.pk} ({issue.get_severity_display().split(':')[0]}, "
            f"{issue.get_environment_display()}): {issue.title}",
        },
    )
    return issue


@transaction.atomic
def raise_issue(
    engagement: Engagement,
    *,
    actor,
    title: str,
    environment: str,
    severity: str,
    description: str,
    ticket_reference: str = "",
    cycle: UpdateCycle | None = None,
    origin_task: EngagementTask | None = None,
) -> Issue:
    require(seed_task(engagement, IDENTIFICATION), actor, "responsible", doing="raise issues")
    for linked in (cycle, origin_task):
        if linked is not None and linked.engagement_id != engagement.pk:
            raise DomainError("An issue can only link to this engagement's own work.")
    return _create_issue(
        engagement,
        actor=actor,
        title=title,
        environment=environment,
        severity=severity,
        description=description,
        ticket_reference=ticket_reference,
        cycle=cycle,
        origin_task=origin_task,
    )


def _locked_issue(issue: Issue | int, revision: int | None) -> Issue:
    pk = issue if isinstance(issue, int) else issue.pk
    locked = Issue.objects.select_for_update(of=("self",)).select_related("engagement").get(pk=pk)
    if revision is not None and revision != locked.revision:
        raise Conflict(
            f"Issue #{locked.pk} was changed by someone else since you opened it "
            f"(it is now {locked.get_state_display().lower()}). Nothing was saved; try again."
        )
    return locked


@transaction.atomic
def move_issue(
    issue: Issue, *, actor, to: str, note: str = "", revision: int | None = None
) -> Issue:
    issue = _locked_issue(issue, revision)
    move = ISSUE_MOVES.get((issue.state, to))
    if move is None:
        label = dict(IssueState.choices).get(to, to)
        raise DomainError(
            f"Issue #{issue.pk} cannot go from {issue.get_state_display().lower()} to {str(label).lower()}."
        )
    if move.by not in issue_roles(issue.engagement_id, actor):
        who = "the party that raised it" if move.by == REPORTER else "the vendor, who resolves it"
        raise NotAllowed(f"Only {who} can {move.label.rstrip('…').lower()} issue #{issue.pk}.")
    note = _clean_text(note, "note", required=move.needs_note)
    before = issue.state
    issue.state = to
    if to == IssueState.RESOLVED:
        issue.resolution = note
    issue.revision += 1
    issue.save()
    task = seed_task(issue.engagement_id, RESOLUTION if move.by == RESOLVER else IDENTIFICATION)
    record_event(
        issue.engagement,
        "issue.state_changed",
        actor=actor,
        task=task,
        from_state=before,
        to_state=to,
        data={
            "issue": issue.pk,
            "note": note,
            "summary": f"moved issue #{issue.pk} from {IssueState(before).label.lower()} to "
            f"{IssueState(to).label.lower()}" + (f": {note}" if note else ""),
        },
    )
    return issue


@transaction.atomic
def set_ticket_reference(
    issue: Issue, *, actor, reference: str, revision: int | None = None
) -> Issue:
    """The Support Center ticket, once the subscriber has submitted it."""
    issue = _locked_issue(issue, revision)
    if REPORTER not in issue_roles(issue.engagement_id, actor):
        raise NotAllowed("Only the party that raises issues records the Support Center ticket.")
    reference = _clean_text(reference, "ticket reference", required=True)
    if len(reference) > 60:
        raise DomainError("A ticket reference is at most 60 characters.")
    issue.ticket_reference = reference
    issue.revision += 1
    issue.save()
    record_event(
        issue.engagement,
        "issue.ticket_recorded",
        actor=actor,
        task=seed_task(issue.engagement_id, IDENTIFICATION),
        data={
            "issue": issue.pk,
            "summary": f"recorded Support Center ticket {reference} for issue #{issue.pk}",
        },
    )
    return issue
