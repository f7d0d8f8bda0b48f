"""The event registry: every kind of event the portal writes, declared once.

A kind says its verb (stored on the Event row), who hears of it (`reach`, read against the
letters of the task the event concerns), whether it counts as an issue (conditional letters,
"I (in the event that there are issues)", fire only on those), whether it carries a
calendar invitation, and its words: the `title` used for email subjects, the notification
list and CSV exports, and the `timeline` phrase that follows the actor's name.

Adding an event kind is one declaration here; services pass the kind object to
`audit.record_event`, so a misspelt kind fails at import and in mypy, and no code
compares verb strings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from .choices import Environment, IssueState, TaskStatus
from .choices import NotificationReason as Reason
from .states import MACHINES

Who = Literal[
    "informed",
    "consulted",
    "responsible",
    "involved",
    "signers",
    "addressed",
    "members",
    "turn",
    "listed",
]


@dataclass(frozen=True)
class Reach:
    """Members of the parties holding `who` on the event's task are told, for `reason`.

    `conditional`: a letter with a condition fires only when the event is an issue;
    `when_to`: only events that moved something to that state."""

    who: Who
    reason: str
    conditional: bool = True
    when_to: str = ""
    when_from: str = ""  # only events that moved something out of that state
    rule: str = ""  # who="turn": the rule (engagements.rules) whose holders act next


def turn(rule: str, *, when_to: str = "") -> Reach:
    """Your turn: the people the named policy rule lets take the next step are told so (the
    rule's letter, side and role on its deciding task; engagements.notifications reads it)."""
    return Reach("turn", Reason.YOUR_TURN, conditional=False, when_to=when_to, rule=rule)


@dataclass(frozen=True)
class EventKind:
    verb: str
    title: str
    timeline: str
    reach: tuple[Reach, ...] = ()
    issue: bool = False
    issue_when_to: str = ""  # an issue only when it moved something to this state
    # The end of an issue, which whoever heard of the issue hears too: a move out of this
    # state (unblocked), or an event whose data carries this flag (a passed re-test, an
    # attestation after a miss).
    issue_when_from: str = ""
    ends_issue_flag: str = ""
    invites: bool = False  # handover events: attendees get the calendar invitation
    machine: str = ""  # the state machine that labels from/to states
    detail: str = ""  # a data key quoted after the timeline phrase

    def is_issue(self, event: Any) -> bool:
        """Whether conditional letters ("in the event that there are issues") fire on it:
        a problem, or the end of one."""
        return (
            self.issue
            or bool(self.issue_when_to and event.to_state == self.issue_when_to)
            or bool(self.issue_when_from and event.from_state == self.issue_when_from)
            or bool(self.ends_issue_flag and (event.data or {}).get(self.ends_issue_flag))
        )


INFORMED = Reach("informed", Reason.INFORMED)
# The people the event names (`to_ids` in its data): whom an escalation went to.
LISTED = Reach("listed", Reason.ESCALATED, conditional=False)
CONSULTED = Reach("consulted", Reason.CONSULTED)
INVOLVED = Reach("involved", Reason.INVOLVED, conditional=False)
RESPONSIBLE = Reach("responsible", Reason.RESPONSIBLE, conditional=False)
# Operations work (update cycles, the handover, issues): the parties working the task hear
# of each other's moves; Consulted and Informed parties per their letters.
WORKING = (CONSULTED, INFORMED, INVOLVED)
# Recorded in the audit trail, told to nobody (membership, template and token changes).
AUDIT_ONLY: tuple[Reach, ...] = ()
SUMMARY_TITLE = "{actor_prefix}{summary}"
SUMMARY = "{summary}"

REGISTRY: dict[str, EventKind] = {}


def _kind(
    verb: str, title: str, timeline: str, *, reach: tuple[Reach, ...], **options: Any
) -> EventKind:
    """Declares a kind. `reach` is required: AUDIT_ONLY says on purpose that nobody is told."""
    kind = EventKind(verb, title, timeline, reach=reach, **options)
    assert verb not in REGISTRY, f"{verb} is declared twice"
    REGISTRY[verb] = kind
    return kind


# --- Tasks ---------------------------------------------------------------------------------
TASK_STATUS_CHANGED = _kind(
    "task.status_changed",
    "{task}: {from} → {to}",
    "moved <em>{task}</em> from {from} to {to}",
    reach=(
        INFORMED,
        Reach("consulted", Reason.CONSULTED, when_to=TaskStatus.BLOCKED),
        Reach("consulted", Reason.CONSULTED, when_from=TaskStatus.BLOCKED),
        turn("task.sign_off", when_to=TaskStatus.DONE),
    ),
    issue_when_to=TaskStatus.BLOCKED,
    issue_when_from=TaskStatus.BLOCKED,
    machine="task",
    detail="reason",
)
TASK_SIGNED_OFF = _kind(
    "task.signed_off",
    "{task} signed off",
    "signed off <em>{task}</em>",
    reach=(INFORMED,),
    machine="task",
    detail="comment",
)
TASK_REOPENED = _kind(
    "task.reopened",
    "{task} reopened",
    "reopened <em>{task}</em>",
    reach=(INFORMED, RESPONSIBLE),
    machine="task",
    detail="reason",
)
TASK_ORDER_OVERRIDDEN = _kind(
    "task.order_overridden",
    "{task} goes ahead before its prerequisites",
    "let <em>{task}</em> go ahead before its prerequisites ({waits_on})",
    reach=(INFORMED, RESPONSIBLE),
    detail="reason",
)
TASK_READY = _kind(
    "task.ready",
    "Your turn: {task}",
    "made <em>{task}</em> ready to start: {after} is {until}",
    reach=(turn("task.move"),),
)
TASK_ESCALATED = _kind(
    "task.escalated",
    "Escalation: {task} is overdue (due {due})",
    "escalated <em>{task}</em>, due {due}, to {to}",
    reach=(LISTED,),
)
TASK_COMMENTED = _kind(
    "task.commented", "Comment on {task}", "commented on <em>{task}</em>", reach=(INVOLVED,)
)
TASK_QUESTION_ASKED = _kind(
    "task.question_asked",
    "Question for {to_party} on {task}",
    "asked {to_party} a question on <em>{task}</em>",
    reach=(Reach("addressed", Reason.YOUR_TURN, conditional=False),),
    issue=True,
)
TASK_QUESTION_ANSWERED = _kind(
    "task.question_answered",
    "{to_party}'s question on {task} answered",
    "answered {to_party}'s question on <em>{task}</em>",
    reach=(Reach("addressed", Reason.CONSULTED, conditional=False),),
    issue=True,  # the end of the question: whoever asked hears it was answered
)
# Attachments (the attachments app): told like a comment, to the parties working the owner's
# task (R, A), and to its Consulted party, who reviews or answers there (the checklist's
# reviewer, the vendor on an issue). The owner's task: the task itself; for a checklist item
# the environment's Preparing VM Infrastructure; for an issue Issue Identification; for the
# handover the Operations Handover task.
ATTACHMENT_ADDED = _kind(
    "attachment.added",
    "File attached to {owner}: {name}",
    "attached <em>{name}</em> to {owner}",
    reach=(INVOLVED, CONSULTED),
)
ATTACHMENT_REMOVED = _kind(
    "attachment.removed",
    "File removed from {owner}: {name}",
    "removed <em>{name}</em> from {owner}",
    reach=(INVOLVED, CONSULTED),
)
# --- The Infrastructure Checklist ------------------------------------------------------------
CHECKLIST_SAVED = _kind(
    "checklist.saved",
    "Infrastructure Checklist saved: {task}",
    "saved the {environment} Infrastructure Checklist",
    reach=AUDIT_ONLY,
)
CHECKLIST_SUBMITTED = _kind(
    "checklist.submitted",
    "Infrastructure Checklist submitted: {task}",
    "submitted the {environment} Infrastructure Checklist",
    reach=(INFORMED, turn("checklist.review")),
    machine="checklist",
)
CHECKLIST_ACCEPTED = _kind(
    "checklist.accepted",
    "Infrastructure Checklist accepted: {task}",
    "accepted the {environment} Infrastructure Checklist",
    reach=(INFORMED,),
    machine="checklist",
    detail="comment",
)
CHECKLIST_RETURNED = _kind(
    "checklist.returned",
    "Infrastructure Checklist returned: {task}",
    "returned the {environment} Infrastructure Checklist",
    reach=(INFORMED, turn("checklist.submit")),
    issue=True,
    machine="checklist",
    detail="comment",
)
# --- The engagement and its members ------------------------------------------------------------
ENGAGEMENT_CREATED = _kind(
    "engagement.created",
    "Engagement created from {template} v{version}",
    "created the engagement from {template} v{version}",
    reach=AUDIT_ONLY,
)
ENGAGEMENT_TEMPLATE_APPLIED = _kind(
    "engagement.template_applied",
    "{template} {to} applied (was {from})",
    "applied {template} {to} to the engagement (it followed {from})",
    reach=AUDIT_ONLY,
)
ENGAGEMENT_STATE_CHANGED = _kind(
    "engagement.state_changed",
    "Engagement {to}",
    "moved the engagement from {from} to {to}",
    reach=AUDIT_ONLY,
    machine="engagement",
    detail="reason",
)
ENGAGEMENT_WENT_LIVE = _kind(
    "engagement.went_live",
    "{task} signed off: the appliance is live",
    "signed off the Production deployment: the engagement is live",
    reach=(Reach("members", Reason.INFORMED, conditional=False),),
    machine="engagement",
)
MEMBER_ADDED = _kind(
    "member.added",
    "{user} added to {party}",
    "added {user} to {party}{as_role}",
    reach=AUDIT_ONLY,
)
MEMBER_CHANGED = _kind(
    "member.changed",
    "{user}'s membership changed",
    "changed {user}'s membership: {party}{as_role}",
    reach=AUDIT_ONLY,
)
MEMBER_REMOVED = _kind(
    "member.removed", "{user} removed from {party}", "removed {user} from {party}", reach=AUDIT_ONLY
)
# Invitations: the invited address is emailed by the invitation service itself (it has no
# account to reach through the letters), so the kinds tell no member.
MEMBER_INVITED = _kind(
    "member.invited",
    "{email} invited to {party}",
    "invited {email} to {party}{as_role}",
    reach=AUDIT_ONLY,
)
MEMBER_INVITATION_RESENT = _kind(
    "member.invitation_resent",
    "Invitation to {email} resent",
    "resent the invitation to {email} (the earlier link no longer works)",
    reach=AUDIT_ONLY,
)
MEMBER_INVITATION_REVOKED = _kind(
    "member.invitation_revoked",
    "Invitation to {email} revoked",
    "revoked the invitation to {email}",
    reach=AUDIT_ONLY,
)


# --- Update cycles ------------------------------------------------------------------------------
def _update(
    verb: str, *, issue: bool = False, then: tuple[Reach, ...] = (), **options: Any
) -> EventKind:
    return _kind(
        verb,
        SUMMARY_TITLE,
        SUMMARY,
        reach=(*then, *WORKING),
        machine="cycle",
        issue=issue,
        **options,
    )


UPDATE_PROPOSED = _update("update.proposed", then=(turn("cycle.accept"),))
UPDATE_WINDOWS_PROPOSED = _update("update.windows_proposed", then=(turn("cycle.accept"),))
UPDATE_WINDOWS_AGREED = _update("update.windows_agreed")
UPDATE_PREPARED = _update("update.prepared")
UPDATE_STARTED = _update("update.started")
UPDATE_STATUS_POSTED = _update("update.status_posted")
UPDATE_NODE_UPDATED = _update("update.node_updated")
UPDATE_COMPLETED = _update("update.completed")
UPDATE_TEST_PASSED = _update(
    "update.test_passed", then=(turn("cycle.start_prod"),), ends_issue_flag="retest"
)
UPDATE_TEST_FAILED = _update("update.test_failed", issue=True)
UPDATE_GATE_OVERRIDDEN = _update("update.gate_overridden")
# The vendor's Responsible people start either environment: the same holders.
UPDATE_WINDOW_OVERRIDDEN = _update("update.window_overridden", then=(turn("cycle.start_dev"),))
UPDATE_CANCELLED = _update("update.cancelled")


# --- The Operations Handover ---------------------------------------------------------------------
def _handover(verb: str) -> EventKind:
    return _kind(verb, SUMMARY_TITLE, SUMMARY, reach=WORKING, machine="handover", invites=True)


HANDOVER_SCHEDULED = _handover("handover.scheduled")
HANDOVER_RESCHEDULED = _handover("handover.rescheduled")
HANDOVER_CANCELLED = _handover("handover.cancelled")
HANDOVER_HELD = _handover("handover.held")
# --- Standing duties and their tokens ----------------------------------------------------------
DUTY_CADENCE_SET = _kind("duty.cadence_set", SUMMARY_TITLE, SUMMARY, reach=AUDIT_ONLY)
DUTY_ATTESTED = _kind(
    "duty.attested", SUMMARY_TITLE, SUMMARY, reach=(INFORMED,), ends_issue_flag="after_miss"
)
DUTY_FAILED = _kind("duty.failed", SUMMARY_TITLE, SUMMARY, reach=(INFORMED,), issue=True)
DUTY_MISSED = _kind(
    "duty.missed", SUMMARY_TITLE, SUMMARY, reach=(INFORMED, RESPONSIBLE), issue=True
)
TOKEN_CREATED = _kind("token.created", SUMMARY_TITLE, SUMMARY, reach=AUDIT_ONLY)
TOKEN_REVOKED = _kind("token.revoked", SUMMARY_TITLE, SUMMARY, reach=AUDIT_ONLY)

# --- Webhooks and chat channels (webhooks/, engagements.chat) ----------------------------------
# The engagement's managers the event names (`to_ids`): whom a disabled endpoint concerns.
MANAGERS = Reach("listed", Reason.MANAGER, conditional=False)
WEBHOOK_CREATED = _kind("webhook.created", SUMMARY_TITLE, SUMMARY, reach=AUDIT_ONLY)
WEBHOOK_CHANGED = _kind("webhook.changed", SUMMARY_TITLE, SUMMARY, reach=AUDIT_ONLY)
WEBHOOK_DELETED = _kind("webhook.deleted", SUMMARY_TITLE, SUMMARY, reach=AUDIT_ONLY)
WEBHOOK_DISABLED = _kind(
    "webhook.disabled",
    "Webhook disabled: {url} failed for {hours} hours",
    "disabled the webhook to {url}: every delivery failed for {hours} hours",
    reach=(MANAGERS,),
)
CHAT_CHANNEL_SET = _kind("chat.channel_set", SUMMARY_TITLE, SUMMARY, reach=AUDIT_ONLY)
CHAT_CHANNEL_REMOVED = _kind("chat.channel_removed", SUMMARY_TITLE, SUMMARY, reach=AUDIT_ONLY)


# --- Issues -------------------------------------------------------------------------------------
def _issue(verb: str, *, then: tuple[Reach, ...] = ()) -> EventKind:
    return _kind(verb, SUMMARY_TITLE, SUMMARY, reach=(*then, *WORKING), machine="issue", issue=True)


ISSUE_RAISED = _issue("issue.raised")
ISSUE_STATE_CHANGED = _issue(
    "issue.state_changed", then=(turn("issue.answer", when_to=IssueState.WAITING),)
)
ISSUE_TICKET_RECORDED = _issue("issue.ticket_recorded")
ISSUE_SCOPE_CHANGED = _issue("issue.scope_changed")
ISSUE_ESCALATED = _kind(
    "issue.escalated",
    "Escalation: issue #{issue} has had no response within {target}",
    "escalated issue #{issue} ({severity}), unanswered within {target}, to {to}",
    reach=(LISTED,),
    machine="issue",
)

# Rows written before a kind was declared read as this (none exist today; a test keeps it so).
UNKNOWN = EventKind("", "{verb_words}", "{verb_words}")


def kind_of(event: Any) -> EventKind:
    return REGISTRY.get(event.verb, UNKNOWN)


# --- Words -----------------------------------------------------------------------------------


def person(user: Any) -> str:
    """A person as the portal names them everywhere: their full name, their username only
    when they have no name ("" for nobody). The `person` template filter is this."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


_person = person


def _state_words(label: str, state: str, machine: Any) -> str:
    """A state as words: its machine's label in lower case; a state the machine does not
    know with its underscores as spaces (never a stored code such as "in_progress")."""
    if label == state:
        return state.replace("_", " ")
    return label.lower() if machine else label


def _context(event: Any, task: Any = None) -> dict[str, str]:
    kind = kind_of(event)
    data = event.data or {}
    ctx: dict[str, str] = defaultdict(str)
    for key, value in data.items():
        if isinstance(value, str | int) and not isinstance(value, bool):
            ctx[key] = str(value)
    task = task if task is not None else getattr(event, "task", None)
    machine = MACHINES.get(kind.machine)
    label = machine.label if machine else (lambda s: s)
    actor = _person(event.actor) if event.actor_id else ""
    role = data.get("role_title") or ""
    ctx.update(
        {
            "task": task.label if task is not None else "",
            "from": _state_words(str(label(event.from_state)), event.from_state, machine),
            "to": _state_words(str(label(event.to_state)), event.to_state, machine),
            "actor": actor or "System",
            "actor_prefix": f"{actor} " if actor else "",
            "environment": str(dict(Environment.choices).get(data.get("environment", ""), "")),
            "as_role": f" as {role}" if role else "",
            "verb_words": event.verb.replace(".", ": ").replace("_", " "),
        }
    )
    return ctx


def title(event: Any, task: Any = None) -> str:
    """One line: the email subject, the notification list, the CSV's "what" column."""
    text = kind_of(event).title.format_map(_context(event, task))
    return text if len(text) <= 150 else text[:149] + "…"


def timeline(event: Any, task: Any = None) -> SafeString:
    """The phrase after the actor's name on a timeline, as HTML (values escaped)."""
    kind = kind_of(event)
    ctx = _context(event, task)
    safe = defaultdict(str, {k: str(conditional_escape(v)) for k, v in ctx.items()})
    text = kind.timeline.format_map(safe)
    detail = (event.data or {}).get(kind.detail) if kind.detail else ""
    if detail and isinstance(detail, str):
        text += f": “{conditional_escape(detail)}”"
    return mark_safe(text)


def plain_timeline(event: Any, task: Any = None) -> str:
    """The timeline phrase without markup (CSV exports)."""
    kind = kind_of(event)
    text = kind.timeline.replace("<em>", "").replace("</em>", "").format_map(_context(event, task))
    detail = (event.data or {}).get(kind.detail) if kind.detail else ""
    if detail and isinstance(detail, str):
        text += f": “{detail}”"
    return text


def sentence(event: Any, task: Any = None) -> str:
    """The event as one plain sentence, who first: "Casey Engineer signed off Monitoring."
    (CSV rows; the portal itself when nobody acted)."""
    actor = person(event.actor) if event.actor_id else "The portal"
    text = f"{actor} {plain_timeline(event, task)}".strip()
    return text if text.endswith((".", "”", "!", "?")) else text + "."


def state_label(event: Any, state: str) -> str:
    """A from/to state in words (its state machine's label), not its stored code."""
    machine = MACHINES.get(kind_of(event).machine)
    if not state:
        return ""
    label = str(machine.label(state)) if machine else state
    return label.replace("_", " ") if label == state else label


DETAIL_KEYS = (("reason", "Reason"), ("comment", "Comment"), ("note", "Note"))


def details(event: Any) -> list[tuple[str, str]]:
    """What the person wrote with the change (a reason, a sign-off or review comment, a
    note), labelled, for emails: (label, text) pairs."""
    data = event.data or {}
    return [
        (label, data[key])
        for key, label in DETAIL_KEYS
        if isinstance(data.get(key), str) and data[key]
    ]
