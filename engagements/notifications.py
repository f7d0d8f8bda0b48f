"""Who is told about what, derived from the task's RACI letters, in one place.

- Informed parties: every status move, sign-off, reopening, checklist submission or review;
- Consulted parties: a question addressed to them, and the task becoming blocked;
- a conditional letter ("in the event that there are issues") fires only for issue events:
  the task becoming blocked, a question raised on it, a checklist returned (and, with the
  operations issue, an issue raised or a failed update test);
- the Accountable party (the signing party): a task done and waiting for their sign-off;
- the Responsible party: their task reopened, or their checklist returned;
- a plain comment: the Responsible and Accountable parties, who work the task;
- operations (update cycles, the handover, issues): the parties working the task hear of
  each other's moves, Consulted and Informed parties per their letters (a failed update
  test, any issue event fires the conditional ones); handover attendees get the invitation;
- standing duties: each attestation tells the Informed parties; a failed backup or a duty
  missed past its grace is an issue (the vendor's conditional letter fires), and a missed
  duty also tells the Responsible party.
The person who acted is never notified; a person in two roles gets one notification.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from . import workflow
from .choices import Channel, Delivery, TaskStatus
from .choices import NotificationReason as Reason
from .models import Event, Membership, Notification, Profile
from .tasks import deliver_event

log = logging.getLogger(__name__)

STATUS_EVENTS = {"task.status_changed", "task.signed_off", "task.reopened"}
CHECKLIST_EVENTS = {"checklist.submitted", "checklist.accepted", "checklist.returned"}
# Events that only announce and are not issues; the issue events are decided per event.
ISSUE_VERBS = {
    "task.question_asked",
    "checklist.returned",
    "update.test_failed",
    "duty.failed",
    "duty.missed",
}
# Operations work (update cycles, the handover, issues): the parties working the task
# (Responsible, Accountable) are told of each other's moves; Consulted and Informed per letters.
WORKING_PREFIXES = ("update.", "handover.", "issue.")
# Standing duties: attestations tell the Informed parties (the vendor: always for monitoring,
# only on issues for backups, per the seed's conditional letter).
DUTY_PREFIX = "duty."


def is_issue(event: Event) -> bool:
    """Issue events are the ones conditional letters fire on: every event about an issue,
    a failed update test, a failed backup, a duty missed past grace, a question, a block."""
    if event.verb in ISSUE_VERBS or event.verb.startswith("issue."):
        return True
    return event.verb == "task.status_changed" and event.to_state == TaskStatus.BLOCKED


@dataclass(frozen=True)
class Audience:
    """A party to tell, and why."""

    party_id: int
    reason: str


def audiences(event: Event, task) -> list[Audience]:
    """The parties an event on a task reaches, from its letters (task.parties prefetched)."""
    if task is None:
        return []
    cells = list(task.parties.all())
    issue = is_issue(event)
    verb = event.verb
    out: list[Audience] = []

    def fires(cell) -> bool:
        return not cell.condition or issue

    if verb in STATUS_EVENTS or verb in CHECKLIST_EVENTS:
        out += [Audience(c.party_id, Reason.INFORMED) for c in cells if c.informed and fires(c)]
    if verb == "task.question_asked":
        to_party = event.data.get("to_party_id")
        out += [
            Audience(c.party_id, Reason.CONSULTED)
            for c in cells
            if c.consulted and c.party_id == to_party
        ]
    if verb == "task.status_changed" and event.to_state == TaskStatus.BLOCKED:
        out += [Audience(c.party_id, Reason.CONSULTED) for c in cells if c.consulted and fires(c)]
    if verb == "task.status_changed" and event.to_state == TaskStatus.DONE:
        out += [Audience(p, Reason.ACCOUNTABLE) for p in workflow.signer_party_ids(task)]
    if verb in ("task.reopened", "checklist.returned"):
        out += [Audience(c.party_id, Reason.RESPONSIBLE) for c in cells if c.responsible]
    if verb.startswith(WORKING_PREFIXES):
        out += [Audience(c.party_id, Reason.CONSULTED) for c in cells if c.consulted and fires(c)]
        out += [Audience(c.party_id, Reason.INFORMED) for c in cells if c.informed and fires(c)]
        out += [
            Audience(c.party_id, Reason.INVOLVED) for c in cells if c.responsible or c.accountable
        ]
    if verb.startswith(DUTY_PREFIX) and verb != "duty.cadence_set":
        out += [Audience(c.party_id, Reason.INFORMED) for c in cells if c.informed and fires(c)]
    if verb == "duty.missed":
        out += [Audience(c.party_id, Reason.RESPONSIBLE) for c in cells if c.responsible]
    if verb == "task.commented":
        out += [
            Audience(c.party_id, Reason.INVOLVED) for c in cells if c.responsible or c.accountable
        ]
    return out


def invitees(event: Event) -> list[int]:
    """The people a handover event sends an invitation (or a cancellation) to."""
    if not event.verb.startswith("handover."):
        return []
    return [*event.data.get("attendee_ids", ()), *event.data.get("removed_ids", ())]


def recipients(event: Event, task) -> dict[int, str]:
    """user id -> reason: the members of the parties reached, less the actor, each once."""
    reached = audiences(event, task)
    if not reached and not invitees(event):
        return {}
    reason_of_party: dict[int, str] = {}
    for audience in reached:
        reason_of_party.setdefault(audience.party_id, audience.reason)
    people: dict[int, str] = {}
    # Handover invitations go to the attendees whatever their party (the email carries the .ics).
    for user_id in invitees(event):
        if user_id != event.actor_id:
            people[user_id] = Reason.ATTENDEE
    members = Membership.objects.filter(
        engagement_id=event.engagement_id, party_id__in=reason_of_party, user__is_active=True
    ).values_list("user_id", "party_id")
    for user_id, party_id in members:
        if user_id != event.actor_id:
            people.setdefault(user_id, reason_of_party[party_id])
    return people


def fan_out(event: Event, task=None) -> list[Notification]:
    """Writes the event's notification rows (inside the caller's transaction) and enqueues
    their delivery after commit. Preferences decide the channels: immediate, digest or off."""
    people = recipients(event, task)
    if not people:
        return []
    prefs = dict(
        (user_id, (email, portal))
        for user_id, email, portal in Profile.objects.filter(user_id__in=people).values_list(
            "user_id", "email_delivery", "portal_delivery"
        )
    )
    rows = []
    for user_id, reason in people.items():
        email, portal = prefs.get(user_id, (Delivery.IMMEDIATE, Delivery.IMMEDIATE))
        if reason == Reason.ATTENDEE and email == Delivery.DIGEST:
            email = Delivery.IMMEDIATE  # an invitation cannot wait for tomorrow's digest
        common = {
            "engagement_id": event.engagement_id,
            "event": event,
            "task": task,
            "recipient_id": user_id,
            "kind": event.verb,
            "reason": reason,
        }
        if email != Delivery.OFF:
            rows.append(
                Notification(channel=Channel.EMAIL, digest=email == Delivery.DIGEST, **common)
            )
        if portal != Delivery.OFF:
            rows.append(Notification(channel=Channel.PORTAL, **common))
    created = Notification.objects.bulk_create(rows)
    if any(n.channel == Channel.EMAIL and not n.digest for n in created):
        transaction.on_commit(partial(enqueue_delivery, event.pk))
    return created


def enqueue_delivery(event_id: int) -> None:
    """After commit: hand the event's emails to a worker. A broker outage loses nothing:
    the rows stay unsent and the periodic sweep delivers them."""
    try:
        deliver_event.delay(event_id)
    except Exception:  # kombu raises several types for an unreachable broker
        log.warning(
            "broker unreachable; event %s's emails wait for the sweep", event_id, exc_info=True
        )
