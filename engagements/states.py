"""Every status of the live work as a state machine: the moves, who may make them (by
policy rule name) and the moves the portal makes itself. Adding a state is an edit of its
choices and of its table here."""

from __future__ import annotations

from typing import Any

from .choices import (
    OPEN_CYCLE_STATES,
    OPEN_ISSUE_STATES,
    OPEN_STATUSES,
    ChecklistStatus,
    CycleState,
    EngagementState,
    HandoverState,
    InvitationState,
    IssueState,
    SeedTask,
    TaskStatus,
)
from .statemachine import Move, StateMachine

T = TaskStatus
TASK = StateMachine(
    "task",
    TaskStatus,
    {
        (T.NOT_STARTED, T.IN_PROGRESS): Move("Start", "task.move"),
        (T.NOT_STARTED, T.BLOCKED): Move("Blocked…", "task.move", needs_reason=True, style="warn"),
        (T.NOT_STARTED, T.NOT_APPLICABLE): Move(
            "Not applicable", "task.move", optional_only=True, style="quiet"
        ),
        (T.IN_PROGRESS, T.DONE): Move("Mark done", "task.move"),
        (T.IN_PROGRESS, T.BLOCKED): Move("Blocked…", "task.move", needs_reason=True, style="warn"),
        (T.IN_PROGRESS, T.NOT_STARTED): Move("Back to not started", "task.move", style="quiet"),
        (T.BLOCKED, T.IN_PROGRESS): Move("Unblock", "task.move"),
        (T.REOPENED, T.IN_PROGRESS): Move("Start again", "task.move"),
        (T.REOPENED, T.BLOCKED): Move("Blocked…", "task.move", needs_reason=True, style="warn"),
        (T.REOPENED, T.DONE): Move("Mark done", "task.move"),
        (T.DONE, T.IN_PROGRESS): Move("Not done yet", "task.move", style="quiet"),
        (T.DONE, T.SIGNED_OFF): Move("Sign off", "task.sign_off"),
        (T.SIGNED_OFF, T.REOPENED): Move("Reopen…", "task.reopen", needs_reason=True, style="warn"),
        (T.NOT_APPLICABLE, T.NOT_STARTED): Move("Applicable after all", "task.move", style="quiet"),
    },
    noun="the task",
    system={
        # The first save of a checklist starts its task; acceptance completes it, from
        # whichever open state it was in.
        "checklist": {(T.NOT_STARTED, T.IN_PROGRESS), *((s, T.DONE) for s in OPEN_STATUSES)},
        # Scheduling the handover, or starting an update, starts the task (again).
        "handover": {
            (T.NOT_STARTED, T.IN_PROGRESS),
            (T.REOPENED, T.IN_PROGRESS),
            *((s, T.DONE) for s in OPEN_STATUSES),  # recorded held
        },
        "update cycle": {(T.NOT_STARTED, T.IN_PROGRESS), (T.REOPENED, T.IN_PROGRESS)},
    },
)
OPEN_TASK_STATES = OPEN_STATUSES

# Tasks whose completion is another object's: a person never marks them done; the system
# move of that cause does (Preparing VM Infrastructure is done when its checklist is
# accepted, and only so).
DONE_ONLY_BY: dict[str, tuple[str, str]] = {
    SeedTask.INFRASTRUCTURE: (
        "checklist",
        "{task} is done when the vendor accepts its Infrastructure Checklist.",
    ),
}


def person_may_reach(task: Any, to: str) -> bool:
    """Whether a person's move may take this task to `to` (see DONE_ONLY_BY)."""
    return not (to == T.DONE and task.key in DONE_ONLY_BY)


C = ChecklistStatus
CHECKLIST = StateMachine(
    "checklist",
    ChecklistStatus,
    {
        (C.DRAFT, C.SUBMITTED): Move("Submit", "checklist.submit"),
        (C.RETURNED, C.SUBMITTED): Move("Submit again", "checklist.submit"),
        (C.SUBMITTED, C.ACCEPTED): Move("Accept", "checklist.review"),
        (C.SUBMITTED, C.RETURNED): Move("Return", "checklist.review"),
    },
    noun="The checklist",
)
EDITABLE_CHECKLIST_STATES = (C.DRAFT, C.RETURNED)

Y = CycleState
CYCLE = StateMachine(
    "cycle",
    CycleState,
    {
        (Y.PROPOSED, Y.PROPOSED): Move("Propose other windows", "cycle.windows"),
        (Y.AGREED, Y.PROPOSED): Move("Propose other windows", "cycle.windows"),
        (Y.PROPOSED, Y.AGREED): Move("Agree the windows", "cycle.accept"),
        (Y.AGREED, Y.DEV_UPDATING): Move("Start the Development update", "cycle.start_dev"),
        (Y.DEV_FAILED, Y.DEV_UPDATING): Move("Update Development again", "cycle.start_dev"),
        (Y.DEV_UPDATING, Y.DEV_TESTING): Move("Finish the update", "cycle.finish"),
        (Y.DEV_TESTING, Y.DEV_PASSED): Move("Development passed", "cycle.test"),
        (Y.DEV_TESTING, Y.DEV_FAILED): Move("Development failed", "cycle.test"),
        # Production waits for a passed test or the Accountable party's override (a gate
        # the service checks), and for the subscriber's preparation. An engagement that
        # runs Production only has no Development to wait for: it starts once agreed.
        (Y.AGREED, Y.PROD_UPDATING): Move("Start the Production update", "cycle.start_prod"),
        (Y.DEV_TESTING, Y.PROD_UPDATING): Move("Start the Production update", "cycle.start_prod"),
        (Y.DEV_FAILED, Y.PROD_UPDATING): Move("Start the Production update", "cycle.start_prod"),
        (Y.DEV_PASSED, Y.PROD_UPDATING): Move("Start the Production update", "cycle.start_prod"),
        (Y.PROD_UPDATING, Y.COMPLETED): Move("Finish the update", "cycle.finish"),
        **{
            (frm, Y.CANCELLED): Move("Cancel", "cycle.cancel", needs_reason=True)
            for frm in (Y.PROPOSED, Y.AGREED, Y.DEV_TESTING, Y.DEV_FAILED, Y.DEV_PASSED)
        },
    },
    field="state",
    noun="The update",
)
UPDATING_STATES = (Y.DEV_UPDATING, Y.PROD_UPDATING)
# The states in which each environment's preparation may still be recorded (or replaced).
PREPARE_STATES = {
    "development": (Y.PROPOSED, Y.AGREED),
    "production": (Y.PROPOSED, Y.AGREED, Y.DEV_UPDATING, Y.DEV_TESTING, Y.DEV_FAILED, Y.DEV_PASSED),
}
OVERRIDE_STATES = (Y.DEV_TESTING, Y.DEV_FAILED)
# The states in which an environment's update may still start, so its window may be
# overridden (the Accountable party lets it start outside the agreed window).
WINDOW_OVERRIDE_STATES = {
    "development": (Y.PROPOSED, Y.AGREED, Y.DEV_FAILED),
    "production": (Y.PROPOSED, Y.AGREED, Y.DEV_UPDATING, Y.DEV_TESTING, Y.DEV_FAILED, Y.DEV_PASSED),
}


def production_gate_open(cycle: Any) -> bool:
    """The gate before Production: Development passed its tests, or the Accountable party
    overrode the gate for this Development run. An engagement without Development has no
    gate (its cycle goes from agreed to the Production update)."""
    if not cycle.engagement.has_development:
        return cycle.state == Y.AGREED
    return cycle.state == Y.DEV_PASSED or (
        cycle.override_at is not None and cycle.state in OVERRIDE_STATES
    )


def other_tool(expected: str, used: str) -> bool:
    """Evidence made with another tool than the one the template names (accepted, flagged)."""

    def norm(text: str) -> str:
        return " ".join(text.split()).casefold()

    return bool(expected.strip()) and norm(used) != norm(expected)


def template_tool(task: Any) -> str:
    """The tool a live task's template names ("" when none, or for a task of no template)."""
    template_task = getattr(task, "template_task", None) if task is not None else None
    return getattr(template_task, "tool", "") or ""


def window_allows_start(stage: Any, now: Any) -> bool:
    """An environment's update starts within its agreed window, or outside it once the
    Accountable party has overridden the window with a reason."""
    return stage.window_override_at is not None or stage.window_start <= now <= stage.window_end


H = HandoverState
HANDOVER = StateMachine(
    "handover",
    HandoverState,
    {
        (H.SCHEDULED, H.SCHEDULED): Move("Reschedule", "handover.reschedule"),
        (H.SCHEDULED, H.HELD): Move("Record as held", "handover.record"),
        (H.SCHEDULED, H.CANCELLED): Move("Cancel", "handover.cancel", needs_reason=True),
    },
    field="state",
    noun="The handover",
)

I = IssueState  # noqa: E741
ISSUE = StateMachine(
    "issue",
    IssueState,
    {
        (I.OPEN, I.INVESTIGATING): Move("Start investigating", "issue.investigate"),
        (I.OPEN, I.WAITING): Move("Ask the subscriber…", "issue.ask", needs_reason=True),
        (I.OPEN, I.RESOLVED): Move("Resolve…", "issue.resolve", needs_reason=True),
        (I.INVESTIGATING, I.WAITING): Move("Ask the subscriber…", "issue.ask", needs_reason=True),
        (I.INVESTIGATING, I.RESOLVED): Move("Resolve…", "issue.resolve", needs_reason=True),
        (I.WAITING, I.INVESTIGATING): Move("Answer…", "issue.answer", needs_reason=True),
        (I.RESOLVED, I.CLOSED): Move("Close", "issue.close"),
        (I.RESOLVED, I.OPEN): Move("Reopen…", "issue.reopen", needs_reason=True),
    },
    field="state",
    noun="The issue",
)

E = EngagementState
ENGAGEMENT = StateMachine(
    "engagement",
    EngagementState,
    {
        (E.ONBOARDING, E.LIVE): Move("Go live", "engagement.go_live"),
        (E.ONBOARDING, E.CLOSED): Move("Close…", "engagement.close", needs_reason=True),
        (E.LIVE, E.CLOSED): Move("Close…", "engagement.close", needs_reason=True),
        (E.CLOSED, E.LIVE): Move("Reopen…", "engagement.reopen", needs_reason=True),
    },
    field="state",
    noun="The engagement",
    # Signing off the Production deployment takes an onboarding engagement live by itself.
    system={"production signed off": {(E.ONBOARDING, E.LIVE)}},
)

__all__ = ["OPEN_CYCLE_STATES", "OPEN_ISSUE_STATES", "OPEN_TASK_STATES"]

INV = InvitationState
# An invitation is revoked by a manager until it is accepted; accepting is the portal's move
# (the invited person follows the link).
INVITATION = StateMachine(
    "invitation",
    InvitationState,
    {(INV.PENDING, INV.REVOKED): Move("Revoke", "member.invite", style="warn")},
    field="state",
    noun="The invitation",
    system={"accepted": {(INV.PENDING, INV.ACCEPTED)}},
)

MACHINES = {m.name: m for m in (TASK, CHECKLIST, CYCLE, HANDOVER, ISSUE, ENGAGEMENT, INVITATION)}
