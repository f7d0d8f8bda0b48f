"""Who is told about an event: its kind's declared reach (engagements.events) read against
the letters of the task it concerns, then each person's delivery preferences. The rows are
the outbox: written in the change's transaction, delivered by a worker after commit.

The person who acted is never notified; a person in two roles gets one notification.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from psaas_portal import prepared

from . import policy
from .chat import deliver_chat_event
from .choices import Channel, Delivery
from .choices import NotificationReason as Reason
from .errors import DomainError
from .events import kind_of
from .models import ChatChannel, Event, Membership, Notification, Profile
from .rules import RULES
from .tasks import request_delivery

log = logging.getLogger(__name__)


def is_issue(event: Event) -> bool:
    """Issue events are the ones conditional letters fire on (declared per event kind)."""
    return kind_of(event).is_issue(event)


@dataclass(frozen=True)
class Audience:
    """A party to tell, and why; where the letter names a role, only its holders."""

    party_id: int
    reason: str
    role: str = ""


def audiences(event: Event, task) -> list[Audience]:
    """The parties an event on a task reaches: its kind's declared reach, read against the
    task's letters (task.parties prefetched)."""
    if task is None:
        return []
    kind = kind_of(event)
    cells = list(task.parties.all())
    issue = kind.is_issue(event)
    out: list[Audience] = []
    for reach in kind.reach:
        if reach.when_to and event.to_state != reach.when_to:
            continue
        if reach.when_from and event.from_state != reach.when_from:
            continue
        if reach.who == "turn":
            out += turn_audiences(event, task, reach)
            continue
        if reach.who == "listed":
            continue  # people, not parties: see listed()
        if reach.who == "signers":
            signers = policy.signer_party_ids(task)
            out += [
                Audience(c.party_id, reach.reason, c.role_title)
                for c in cells
                if c.party_id in signers
            ]
            continue
        for cell in cells:
            if reach.conditional and cell.condition and not issue:
                continue
            if reach.who == "members":  # every party with a letter on the task
                holds = True
            elif reach.who == "involved":
                holds = cell.responsible or cell.accountable
            elif reach.who == "addressed":  # the party a question (or its answer) is for
                holds = cell.party_id == event.data.get("to_party_id")
            else:
                holds = getattr(cell, reach.who)
            if holds:
                out.append(Audience(cell.party_id, reach.reason, cell.role_title))
    return out


def turn_audiences(event: Event, task, reach) -> list[Audience]:
    """The people whose turn it is: those the rule lets take the next step, read from the
    letters of the rule's deciding task (the event's own task, or the engagement's seed
    task the rule names), its side, and, for a step the other side takes (agreeing update
    windows), not the actor's party."""
    rule = RULES[reach.rule]  # type: ignore[index]
    deciding = task
    if rule.on != "task" and rule.task is not None and rule.task != task.key:
        try:
            deciding = policy.seed_task(event.engagement_id, rule.task)
        except DomainError:
            return []
    cells = list(deciding.parties.all())
    if rule.letter == "signer":
        signers = policy.signer_party_ids(deciding)
        chosen = [c for c in cells if c.party_id in signers]
    else:
        chosen = [c for c in cells if getattr(c, rule.letter, False)]
    if rule.side:
        chosen = [c for c in chosen if c.party.is_vendor == (rule.side == "vendor")]
    if rule.not_proposer and event.actor_id:
        actor_party = policy.member_party_id(event.engagement_id, event.actor)
        chosen = [c for c in chosen if c.party_id != actor_party]
    return [Audience(c.party_id, reach.reason, c.role_title) for c in chosen]


def listed(event: Event) -> list[int]:
    """The people an escalation event names."""
    if not any(r.who == "listed" for r in kind_of(event).reach):
        return []
    return [int(i) for i in event.data.get("to_ids", ())]


def invitees(event: Event) -> list[int]:
    """The people a handover event sends an invitation (or a cancellation) to."""
    if not kind_of(event).invites:
        return []
    return [*event.data.get("attendee_ids", ()), *event.data.get("removed_ids", ())]


def recipients(event: Event, task) -> dict[int, str]:
    """user id -> reason: the members of the parties reached, less the actor, each once."""
    return _recipients(event, task)[0]


# A person's delivery preferences: email, portal, and their own chat channel's (None: none).
Prefs = dict[int, tuple[str, str, str | None]]
# An active member's row: user id, party id, a role title they hold (or None), their email
# and portal delivery preferences (None without a profile), their chat channel's (or None).
MemberRow = tuple[int, int, str | None, str | None, str | None, str | None]
MEMBER_ROW = (
    "user_id",
    "party_id",
    "roles__title",
    "user__profile__email_delivery",
    "user__profile__portal_delivery",
    "user__chat_channel__delivery",
)


def member_rows(engagement_ids) -> dict[int, list[MemberRow]]:
    """Engagement id -> its active members' rows (one query for a batch of engagements)."""
    out: dict[int, list[MemberRow]] = {}
    for engagement_id, *row in Membership.objects.filter(
        engagement_id__in=list(engagement_ids), user__is_active=True
    ).values_list("engagement_id", *MEMBER_ROW):
        out.setdefault(engagement_id, []).append(tuple(row))  # type: ignore[arg-type]
    return out


def _recipients(
    event: Event, task, members: list[MemberRow] | None = None
) -> tuple[dict[int, str], Prefs, list[Audience]]:
    """The recipients (as `recipients`), the delivery preferences of the members among
    them, read in the same query as the members (one query for an event on a task; none
    when the caller read the engagement's `members` already), and the parties reached."""
    reached = audiences(event, task)
    if not reached and not invitees(event) and not listed(event):
        return {}, {}, []
    # Your turn first: a person reached twice hears the reason that asks them to act.
    reached.sort(key=lambda a: a.reason != Reason.YOUR_TURN)
    people: dict[int, str] = {}
    # Handover invitations go to the attendees whatever their party (the email carries the .ics).
    for user_id in invitees(event):
        if user_id != event.actor_id:
            people[user_id] = Reason.ATTENDEE
    for user_id in listed(event):
        if user_id != event.actor_id:
            people.setdefault(user_id, Reason.ESCALATED)
    held: dict[tuple[int, int], set[str]] = {}
    prefs: Prefs = {}
    parties = {a.party_id for a in reached}
    if parties:
        if members is None:
            members = prepared.rows(
                ("recipients", len(parties)),
                _members_of,
                engagement_id=event.engagement_id,
                **{f"p{i}": party_id for i, party_id in enumerate(sorted(parties))},
            )
        for user_id, party_id, role, email, portal, chat in members:
            if party_id not in parties:
                continue
            held.setdefault((user_id, party_id), set()).add(role or "")
            if email is not None and portal is not None:
                prefs[user_id] = (email, portal, chat)
    for audience in reached:
        for (user_id, party_id), roles in held.items():
            if user_id == event.actor_id or party_id != audience.party_id:
                continue
            if not audience.role or audience.role in roles:
                people.setdefault(user_id, audience.reason)
    return people, prefs, reached


def _rows(event: Event, task, people: dict[int, str], prefs: Prefs) -> list[Notification]:
    """The notification rows for the people an event reaches, by their preferences."""
    rows = []
    for user_id, reason in people.items():
        email, portal, chat = prefs.get(user_id, (Delivery.IMMEDIATE, Delivery.IMMEDIATE, None))
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
        if chat and chat != Delivery.OFF:
            rows.append(
                Notification(channel=Channel.CHAT, digest=chat == Delivery.DIGEST, **common)
            )
    return rows


def _members_of(engagement_id: int, **parties: int):
    """The active members of the parties on the engagement, as MEMBER_ROW (the recipients'
    read: compiled once per number of parties, psaas_portal.prepared)."""
    return Membership.objects.filter(
        engagement_id=engagement_id, party_id__in=list(parties.values()), user__is_active=True
    ).values_list(*MEMBER_ROW)


def _channels_of(**ids: int):
    engagements = [v for k, v in sorted(ids.items()) if k.startswith("e")]
    parties = [v for k, v in sorted(ids.items()) if k.startswith("p")]
    return ChatChannel.objects.filter(engagement_id__in=engagements, party_id__in=parties).exclude(
        delivery=Delivery.OFF
    )


def _party_channels(engagement_ids, party_ids) -> dict[tuple[int, int], ChatChannel]:
    """(engagement, party) -> the party's chat channel on that engagement, for the parties
    reached (one query, compiled once per number of engagements and parties; none when no
    party is reached)."""
    if not party_ids:
        return {}
    engagements, parties = sorted(set(engagement_ids)), sorted(set(party_ids))
    ids = {f"e{i:05d}": e for i, e in enumerate(engagements)}
    ids |= {f"p{i:05d}": p for i, p in enumerate(parties)}
    return {
        (c.engagement_id, c.party_id): c
        for c in prepared.rows(("channels", len(engagements), len(parties)), _channels_of, **ids)
    }


def _channel_rows(
    event: Event, task, reached: list[Audience], channels: dict[tuple[int, int], ChatChannel]
) -> list[Notification]:
    """An engagement's chat channel for a party gets what that party's letters reach, with
    the channel's own preference and the first reason the party is reached for."""
    rows = []
    reasons = {a.party_id: a.reason for a in reversed(reached)}
    for party_id, reason in reasons.items():
        channel = channels.get((event.engagement_id, party_id))
        if channel is not None:
            rows.append(
                Notification(
                    engagement_id=event.engagement_id,
                    event=event,
                    task=task,
                    kind=event.verb,
                    channel=Channel.CHAT,
                    chat=channel,
                    digest=channel.delivery == Delivery.DIGEST,
                    reason=reason,
                )
            )
    return rows


def _write(rows: list[Notification]) -> list[Notification]:
    """One INSERT for the rows; after commit, one request for the email drain if any email
    is immediate (the drain takes every event's), and one enqueue per event with immediate
    chat messages."""
    created = Notification.objects.bulk_create(rows)
    if any(n.channel == Channel.EMAIL and not n.digest for n in created):
        transaction.on_commit(enqueue_delivery)
    for event_id in dict.fromkeys(
        n.event_id for n in created if n.channel == Channel.CHAT and not n.digest
    ):
        transaction.on_commit(partial(enqueue_chat, event_id))
    return created


def fan_out(event: Event, task=None) -> list[Notification]:
    """Writes the event's notification rows (inside the caller's transaction) and enqueues
    their delivery after commit. Preferences decide the channels: immediate, digest or off,
    for email, the portal and a person's chat channel; an engagement's chat channel for a
    party gets what that party's letters reach."""
    people, prefs, reached = _recipients(event, task)
    channels = _party_channels([event.engagement_id], {a.party_id for a in reached})
    if not people and not channels:
        return []
    unread = [user_id for user_id in people if user_id not in prefs]  # not members, or no profile
    if unread:
        prefs |= {
            user_id: (email, portal, chat)
            for user_id, email, portal, chat in Profile.objects.filter(
                user_id__in=unread
            ).values_list(
                "user_id", "email_delivery", "portal_delivery", "user__chat_channel__delivery"
            )
        }
    rows = _rows(event, task, people, prefs) + _channel_rows(event, task, reached, channels)
    return _write(rows) if rows else []


def fan_out_many(items: list[tuple[Event, object]], members: dict[int, list[MemberRow]]):
    """fan_out for a batch of events on tasks whose engagements' members the caller read
    (member_rows): one INSERT for all their rows, and one read of the parties' chat
    channels. Every recipient is a member (events that invite or name people outside the
    parties reached go through fan_out)."""
    found = []
    for event, task in items:
        assert not invitees(event) and not listed(event), event.verb
        people, prefs, reached = _recipients(event, task, members.get(event.engagement_id, []))
        found.append((event, task, people, prefs, reached))
    channels = _party_channels(
        {event.engagement_id for event, *_ in found},
        {a.party_id for *_, reached in found for a in reached},
    )
    rows: list[Notification] = []
    for event, task, people, prefs, reached in found:
        rows += _rows(event, task, people, prefs) + _channel_rows(event, task, reached, channels)
    return _write(rows) if rows else []


def enqueue_delivery() -> None:
    """After commit: ask a worker to send the pending emails (one batch across events; none
    published while a drain is already queued). A broker outage loses nothing: the rows stay
    unsent and the periodic sweep delivers them."""
    try:
        request_delivery()
    except Exception:  # kombu raises several types for an unreachable broker
        log.warning("broker unreachable; the emails wait for the sweep", exc_info=True)


def enqueue_chat(event_id: int) -> None:
    """After commit: hand the event's chat messages to a worker (the sweep if Redis is down)."""
    try:
        deliver_chat_event.delay(event_id)
    except Exception:  # kombu raises several types for an unreachable broker
        log.warning("broker unreachable; event %s's chat messages wait for the sweep", event_id)
