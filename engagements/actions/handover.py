"""The Operations Handover: the CSE schedules the 90-minute meeting (an iCalendar
invitation to both parties), reschedules or cancels it, and records it held, which completes
the handover task."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from engagements import events, policy
from engagements.actions.tasks import system_move
from engagements.audit import record_event
from engagements.choices import (
    HandoverState,
    SeedTask,
    TaskStatus,
)
from engagements.cleaning import CLOCK_SKEW, aware, clean_text, utc
from engagements.errors import Conflict, DomainError
from engagements.events import EventKind
from engagements.models import (
    Engagement,
    Handover,
    Membership,
)
from engagements.policy import seed_task
from engagements.states import HANDOVER


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
    if utc(starts_at, "The start time") < timezone.now() - CLOCK_SKEW:
        raise DomainError("The handover must be scheduled in the future.")
    starts_at = aware(starts_at, "The start time")
    if not 15 <= int(minutes) <= 480:
        raise DomainError("The meeting lasts between 15 and 480 minutes (90 by default).")
    return starts_at


def _handover_event(
    handover: Handover,
    kind: EventKind,
    *,
    actor: Any,
    task: Any,
    summary: str,
    members: list[Membership],
    **data: Any,
) -> None:
    handover.revision += 1
    handover.save()
    record_event(
        handover.engagement,
        kind,
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
    task = seed_task(engagement, SeedTask.HANDOVER)
    policy.check(actor, "handover.schedule", engagement, task=task)
    starts_at = _check_time(starts_at, duration_minutes)
    members = _attendees(engagement, attendee_ids)
    agenda = clean_text(agenda, "agenda", required=False) or Handover.DEFAULT_AGENDA
    try:
        with transaction.atomic():
            handover = Handover.objects.create(
                engagement=engagement,
                uid=uuid.uuid4(),
                starts_at=starts_at,
                duration_minutes=duration_minutes,
                location=clean_text(location, "location", required=False)[:300],
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
        events.HANDOVER_SCHEDULED,
        actor=actor,
        task=task,
        members=members,
        summary=f"scheduled the Operations Handover for {starts_at:%Y-%m-%d %H:%M} UTC "
        f"({duration_minutes} minutes, {len(members)} attendees)",
    )
    system_move(task, TaskStatus.IN_PROGRESS, actor=actor, via="handover")
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
    task = seed_task(handover.engagement_id, SeedTask.HANDOVER)
    policy.check(actor, "handover.reschedule", handover, task=task)
    starts_at = _check_time(starts_at, duration_minutes)
    members = _attendees(handover.engagement, attendee_ids)
    removed = sorted(
        set(handover.attendees.values_list("pk", flat=True)) - {m.user_id for m in members}
    )
    before = handover.starts_at
    handover.starts_at, handover.duration_minutes = starts_at, duration_minutes
    handover.location = clean_text(location, "location", required=False)[:300]
    handover.sequence += 1
    handover.attendees.set([m.user_id for m in members])
    _handover_event(
        handover,
        events.HANDOVER_RESCHEDULED,
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
    task = seed_task(handover.engagement_id, SeedTask.HANDOVER)
    policy.check(actor, "handover.cancel", handover, task=task)
    reason = clean_text(reason, "reason", required=True)
    members = list(
        Membership.objects.filter(
            engagement_id=handover.engagement_id, user__in=handover.attendees.all()
        ).select_related("user")
    )
    HANDOVER.apply(handover, HandoverState.CANCELLED)
    handover.sequence += 1
    _handover_event(
        handover,
        events.HANDOVER_CANCELLED,
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
    task = seed_task(handover.engagement_id, SeedTask.HANDOVER)
    policy.check(actor, "handover.record", handover, task=task)
    if handover.starts_at > timezone.now() + CLOCK_SKEW:
        raise DomainError("The handover has not started yet; record it after the meeting.")
    handover.notes = clean_text(notes, "meeting notes", required=True)
    handover.questions_answered = clean_text(
        questions_answered, "questions answered", required=False
    )
    HANDOVER.apply(handover, HandoverState.HELD)
    handover.held_at = timezone.now()
    handover.revision += 1
    handover.save()
    record_event(
        handover.engagement,
        events.HANDOVER_HELD,
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
    system_move(task, TaskStatus.DONE, actor=actor, via="handover")
    return handover
