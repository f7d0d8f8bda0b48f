"""The rule book: who may do what, as one table of named rules.

Each rule says on what kind of object it is checked, which letter (Responsible,
Accountable, Consulted, the signing party, any member, a manager) on which task of the
engagement allows it, on which side where the seed splits a shared letter, and in which
states of the object (read from the state machines in engagements.states, so a move and
the rule that allows it cannot drift apart). engagements.policy applies the table.

Adding a rule is one entry in RULES and its name in RuleName (mypy checks every use).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from .choices import OPEN_ISSUE_STATES, OPEN_STATUSES, DutyKind, SeedTask
from .statemachine import StateMachine
from .states import (
    CHECKLIST,
    CYCLE,
    EDITABLE_CHECKLIST_STATES,
    ENGAGEMENT,
    HANDOVER,
    INVITATION,
    ISSUE,
    OVERRIDE_STATES,
    PREPARE_STATES,
    TASK,
    UPDATING_STATES,
    WINDOW_OVERRIDE_STATES,
)

Letter = Literal["responsible", "accountable", "consulted", "signer", "member", "manager"]
On = Literal["task", "checklist", "cycle", "handover", "duty", "token", "issue", "engagement"]
# The state machine of each kind of object a rule is checked on (where it has one).
MACHINE_OF: dict[On, StateMachine] = {
    "task": TASK,
    "checklist": CHECKLIST,
    "cycle": CYCLE,
    "handover": HANDOVER,
    "issue": ISSUE,
    "engagement": ENGAGEMENT,
}
RuleName = Literal[
    "task.move",
    "task.sign_off",
    "task.reopen",
    "task.comment",
    "task.ask",
    "task.override_order",
    "task.consult",
    "task.answer",
    "checklist.edit",
    "checklist.submit",
    "checklist.review",
    "cycle.propose",
    "cycle.windows",
    "cycle.accept",
    "cycle.prepare_dev",
    "cycle.prepare_prod",
    "cycle.start_dev",
    "cycle.start_prod",
    "cycle.status",
    "cycle.finish",
    "cycle.test",
    "cycle.override",
    "cycle.override_window",
    "cycle.cancel",
    "handover.schedule",
    "handover.reschedule",
    "handover.record",
    "handover.cancel",
    "duty.cadence",
    "attestation.record",
    "token.create",
    "token.revoke",
    "issue.raise",
    "issue.ticket",
    "issue.investigate",
    "issue.ask",
    "issue.resolve",
    "issue.answer",
    "issue.scope",
    "issue.close",
    "issue.reopen",
    "engagement.administer",
    "engagement.go_live",
    "engagement.close",
    "engagement.reopen",
    "member.invite",
    "member.change",
    "member.remove",
    "task.attach",
    "checklist.attach",
    "issue.attach",
    "handover.attach",
    "attachment.remove_any",
    "engagement.manage_webhooks",
    "engagement.manage_chat",
]

# The standing duties and the seed tasks whose letters govern them.
DUTY_TASK: dict[str, SeedTask] = {
    DutyKind.BACKUP: SeedTask.BACKUP,
    DutyKind.MONITORING: SeedTask.MONITORING,
}


@dataclass(frozen=True)
class Rule:
    """Who may do one thing: the letter on the task (`task`: a seed task of the engagement;
    None: the object's own task), the side, and the object's states (None: any)."""

    on: On
    letter: Letter
    doing: str
    task: SeedTask | None = None
    side: Literal["", "vendor", "subscriber"] = ""
    states: frozenset[str] | None = None
    # The windows of an update cycle are agreed by the side that did not propose them.
    not_proposer: bool = False
    # A property of the object that must hold, and what is said when it does not (a
    # conflict: someone already did it).
    requires: str = ""
    unmet: str = ""
    # For an issue of integration scope, the letter that decides instead (the seed: the
    # vendor consults on integration issues, the subscriber resolves them).
    integration_letter: Letter | None = None
    # An unmet `requires` is a conflict (someone did it already) unless this says it is a
    # step still missing (a DomainError).
    requires_conflict: bool = True
    # Refused to the person who completed the object when it asks for four eyes.
    four_eyes: bool = False
    # Said to a person who does not hold the letter (a default otherwise).
    refusal: str = ""
    # Said when the object's state does not allow it ({noun}, {state}); a default otherwise.
    in_state: str = "{noun} is {state}; you cannot {doing} now."


def _from(machine: StateMachine, rule: str) -> frozenset[str]:
    return machine.states_for(rule)


U, IDENT, RESOL = SeedTask.UPDATES, SeedTask.ISSUE_IDENTIFICATION, SeedTask.ISSUE_RESOLUTION
RULES: dict[RuleName, Rule] = {
    # The task in hand: R moves it, the signing party (A, or R where there is no A) signs
    # it off and may reopen it; any member comments; R asks the Consulted party.
    "task.move": Rule("task", "responsible", "move this task", states=_from(TASK, "task.move")),
    "task.sign_off": Rule(
        "task", "signer", "sign off this task", states=_from(TASK, "task.sign_off"), four_eyes=True
    ),
    "task.reopen": Rule("task", "signer", "reopen this task", states=_from(TASK, "task.reopen")),
    "task.comment": Rule("task", "member", "comment on its tasks"),
    "task.ask": Rule(
        "task",
        "responsible",
        "ask a Consulted party a question",
        refusal="Only the Responsible party can ask a Consulted party a question.",
    ),
    # Consultation both ways: a Consulted party opens a question to the Responsible party;
    # the party asked answers (any of its members; the service checks the party).
    "task.consult": Rule(
        "task",
        "consulted",
        "ask the Responsible party a question",
        refusal="Only a Consulted party can open a question to the Responsible party.",
    ),
    "task.answer": Rule("task", "member", "answer questions on its tasks"),
    # The Accountable party (R where the task has no A) lets a task go ahead before its
    # prerequisites are met.
    "task.override_order": Rule(
        "task",
        "signer",
        "let this task go ahead before its prerequisites are met",
        states=frozenset(OPEN_STATUSES),
        in_state="{noun} is {state}; its prerequisites no longer matter.",
    ),
    # The Infrastructure Checklist of an environment: R (the subscriber) fills and submits
    # it, C (the vendor) reviews it.
    "checklist.edit": Rule(
        "checklist",
        "responsible",
        "edit this checklist",
        SeedTask.INFRASTRUCTURE,
        states=frozenset(EDITABLE_CHECKLIST_STATES),
        in_state="{noun} is {state}; it can no longer be edited.",
    ),
    "checklist.submit": Rule(
        "checklist",
        "responsible",
        "submit this checklist",
        SeedTask.INFRASTRUCTURE,
        states=_from(CHECKLIST, "checklist.submit"),
    ),
    "checklist.review": Rule(
        "checklist",
        "consulted",
        "review this checklist",
        SeedTask.INFRASTRUCTURE,
        states=_from(CHECKLIST, "checklist.review"),
    ),
    # Updates (vendor R; subscriber R, A) and Testing Updates (subscriber R, A).
    "cycle.propose": Rule("engagement", "responsible", "propose an update", U, "vendor"),
    "cycle.windows": Rule(
        "cycle", "responsible", "propose update windows", U, states=_from(CYCLE, "cycle.windows")
    ),
    "cycle.accept": Rule(
        "cycle",
        "responsible",
        "agree update windows",
        U,
        states=_from(CYCLE, "cycle.accept"),
        not_proposer=True,
    ),
    "cycle.prepare_dev": Rule(
        "cycle",
        "responsible",
        "record the Development preparation",
        U,
        "subscriber",
        frozenset(PREPARE_STATES["development"]),
        requires="has_development",
        unmet="This engagement runs Production only: it has no Development environment.",
        requires_conflict=False,
    ),
    "cycle.prepare_prod": Rule(
        "cycle",
        "responsible",
        "record the Production preparation",
        U,
        "subscriber",
        frozenset(PREPARE_STATES["production"]),
    ),
    "cycle.start_dev": Rule(
        "cycle",
        "responsible",
        "start the Development update",
        U,
        "vendor",
        _from(CYCLE, "cycle.start_dev"),
        requires="has_development",
        unmet="This engagement runs Production only: it has no Development environment.",
        requires_conflict=False,
    ),
    "cycle.start_prod": Rule(
        "cycle",
        "responsible",
        "start the Production update",
        U,
        "vendor",
        _from(CYCLE, "cycle.start_prod"),
        requires="production_startable",
        unmet="The Production update waits until Development testing has passed.",
        requires_conflict=False,
    ),
    "cycle.status": Rule(
        "cycle", "responsible", "post update status", U, "vendor", frozenset(UPDATING_STATES)
    ),
    "cycle.finish": Rule(
        "cycle", "responsible", "finish the update", U, "vendor", _from(CYCLE, "cycle.finish")
    ),
    "cycle.test": Rule(
        "cycle",
        "responsible",
        "record the Development test result",
        SeedTask.UPDATE_TESTING,
        states=_from(CYCLE, "cycle.test"),
    ),
    "cycle.override": Rule(
        "cycle",
        "accountable",
        "override the Development gate",
        U,
        states=frozenset(OVERRIDE_STATES),
        requires="gate_overridable",
        unmet="The gate has already been overridden for this cycle.",
    ),
    "cycle.override_window": Rule(
        "cycle",
        "accountable",
        "let an update start outside its agreed window",
        U,
        states=frozenset(s for states in WINDOW_OVERRIDE_STATES.values() for s in states),
    ),
    "cycle.cancel": Rule(
        "cycle", "responsible", "cancel the update", U, states=_from(CYCLE, "cycle.cancel")
    ),
    # The Operations Handover (vendor R).
    "handover.schedule": Rule(
        "engagement", "responsible", "schedule the Operations Handover", SeedTask.HANDOVER
    ),
    "handover.reschedule": Rule(
        "handover",
        "responsible",
        "reschedule the Operations Handover",
        SeedTask.HANDOVER,
        states=_from(HANDOVER, "handover.reschedule"),
    ),
    "handover.record": Rule(
        "handover",
        "responsible",
        "record the Operations Handover",
        SeedTask.HANDOVER,
        states=_from(HANDOVER, "handover.record"),
    ),
    "handover.cancel": Rule(
        "handover",
        "responsible",
        "cancel the Operations Handover",
        SeedTask.HANDOVER,
        states=_from(HANDOVER, "handover.cancel"),
    ),
    # Standing duties (Backing Up, Monitoring: subscriber R, A); tokens for the backup job.
    "duty.cadence": Rule("duty", "accountable", "set the cadence"),
    "attestation.record": Rule("duty", "responsible", "attest"),
    "token.create": Rule("engagement", "responsible", "create attestation tokens", SeedTask.BACKUP),
    "token.revoke": Rule("token", "responsible", "revoke attestation tokens", SeedTask.BACKUP),
    # Issues: Issue Identification (subscriber R, A) raises, answers, closes and reopens;
    # Issue Resolution (vendor R) investigates, asks and resolves.
    "issue.raise": Rule("engagement", "responsible", "raise issues", IDENT),
    "issue.ticket": Rule("issue", "responsible", "record the Support Center ticket", IDENT),
    "issue.investigate": Rule(
        "issue",
        "responsible",
        "investigate this issue",
        RESOL,
        states=_from(ISSUE, "issue.investigate"),
        integration_letter="consulted",
        requires="has_ticket",
        requires_conflict=False,
        unmet="Record the Support Center ticket first: issues are submitted via the Support "
        "Center before they are investigated.",
    ),
    "issue.ask": Rule(
        "issue",
        "responsible",
        "ask the subscriber about this issue",
        RESOL,
        states=_from(ISSUE, "issue.ask"),
        integration_letter="consulted",
    ),
    "issue.resolve": Rule(
        "issue",
        "responsible",
        "resolve this issue",
        RESOL,
        states=_from(ISSUE, "issue.resolve"),
        integration_letter="consulted",
    ),
    "issue.scope": Rule(
        "issue",
        "responsible",
        "change where this issue lies",
        RESOL,
        states=frozenset(OPEN_ISSUE_STATES),
        refusal="Only the vendor's Responsible people on Issue Resolution decide whether an "
        "issue lies in the appliance's core or in the integration.",
    ),
    "issue.answer": Rule(
        "issue", "responsible", "answer on this issue", IDENT, states=_from(ISSUE, "issue.answer")
    ),
    "issue.close": Rule(
        "issue", "responsible", "close this issue", IDENT, states=_from(ISSUE, "issue.close")
    ),
    "issue.reopen": Rule(
        "issue", "responsible", "reopen this issue", IDENT, states=_from(ISSUE, "issue.reopen")
    ),
    # The engagement itself: its managers (and portal admins).
    "engagement.administer": Rule("engagement", "manager", "administer the engagement"),
    "engagement.go_live": Rule(
        "engagement", "manager", "take it live", states=_from(ENGAGEMENT, "engagement.go_live")
    ),
    "engagement.close": Rule(
        "engagement", "manager", "close it", states=_from(ENGAGEMENT, "engagement.close")
    ),
    "engagement.reopen": Rule(
        "engagement", "manager", "reopen it", states=_from(ENGAGEMENT, "engagement.reopen")
    ),
    # Members: the engagement's managers (and portal admins) invite and add people, change
    # their roles and remove them; a manager on the subscriber's side only within its own
    # party (engagements.policy.check_party_scope).
    "member.invite": Rule("engagement", "manager", "invite or add members"),
    "member.change": Rule("engagement", "manager", "change members' roles"),
    "member.remove": Rule("engagement", "manager", "remove members"),
    # Attachments (the attachments app): any member attaches files where members comment and
    # work (a task, a checklist item, an issue, the handover); the person who attached a
    # file removes it while they are a member, and the engagement's managers remove any.
    "task.attach": Rule("task", "member", "attach files to its tasks"),
    "checklist.attach": Rule(
        "checklist", "member", "attach files to this checklist", SeedTask.INFRASTRUCTURE
    ),
    "issue.attach": Rule("issue", "member", "attach files to this issue", IDENT),
    "handover.attach": Rule(
        "handover", "member", "attach files to the Operations Handover", SeedTask.HANDOVER
    ),
    "attachment.remove_any": Rule("engagement", "manager", "remove other people's attachments"),
    "engagement.manage_webhooks": Rule("engagement", "manager", "manage its webhooks"),
    "engagement.manage_chat": Rule("engagement", "manager", "manage its chat channels"),
}
assert set(RULES) == set(get_args(RuleName)), "every rule name is declared once"


def _every_move_names_a_rule() -> None:
    """A move's rule is a name in this table: a misspelling fails at import (and in tests)."""
    for machine in (TASK, CHECKLIST, CYCLE, HANDOVER, ISSUE, ENGAGEMENT, INVITATION):
        for (frm, to), move in machine.moves.items():
            assert move.rule in RULES, f"{machine.name} {frm} -> {to}: no rule {move.rule!r}"


_every_move_names_a_rule()
