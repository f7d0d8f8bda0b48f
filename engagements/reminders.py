"""Reminders: today's reminder rows for due-soon and overdue tasks and for standing duties
past due, written by the hourly beat sweep (each once a day by a unique key), then delivered."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from celery import shared_task
from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone

from . import policy
from .actions.duties import report_missed
from .choices import (
    OPEN_CYCLE_STATES,
    OPEN_STATUSES,
    Channel,
    Delivery,
    EngagementState,
    ReminderKind,
    SeedTask,
    TaskStatus,
)
from .escalations import seats_of, sweep_issue_escalations, sweep_task_escalations
from .models import (
    EngagementTask,
    Notification,
    Profile,
    StandingDuty,
    TaskParty,
    UpdateStage,
)
from .notifications import MemberRow, member_rows
from .policy import DUTY_TASK
from .querysets import is_overdue, remind_until
from .tasks import deliver_pending_batches, retrying


def _wanted_channels(prefs: tuple[str, str]) -> list[tuple[str, bool]]:
    email, portal = prefs
    out = []
    if email != Delivery.OFF:
        out.append((Channel.EMAIL, email == Delivery.DIGEST))
    if portal != Delivery.OFF:
        out.append((Channel.PORTAL, False))
    return out


def _prefs(users) -> dict:
    return {
        u: (e, p)
        for u, e, p in Profile.objects.filter(user_id__in=users).values_list(
            "user_id", "email_delivery", "portal_delivery"
        )
    }


def _members_and_prefs(rows: dict[int, list[MemberRow]]) -> tuple[dict, dict]:
    """(engagement, party) -> active member ids, and user id -> (email, portal) delivery
    preferences, from the members' rows of a batch of engagements (notifications.member_rows,
    one query)."""
    members: dict[tuple[int, int], list[int]] = defaultdict(list)
    prefs = {}
    for engagement_id, people in rows.items():
        for user_id, party_id, _role, email, portal, _chat in people:
            if user_id not in members[(engagement_id, party_id)]:
                members[(engagement_id, party_id)].append(user_id)
            if email is not None and portal is not None:
                prefs[user_id] = (email, portal)
    return members, prefs


def _reminder_rows(task, kinds: dict[int, str], prefs: dict, today: dt.date) -> list:
    """Today's reminder rows for one task: user id -> reminder kind, per wanted channel."""
    return [
        Notification(
            engagement_id=task.engagement_id,
            task=task,
            recipient_id=user_id,
            channel=channel,
            kind=kind,
            reason="accountable" if kind == ReminderKind.SIGN_OFF_DUE else "responsible",
            digest=digest,
            day=today,
        )
        for user_id, kind in kinds.items()
        for channel, digest in _wanted_channels(
            prefs.get(user_id, (Delivery.IMMEDIATE, Delivery.IMMEDIATE))
        )
    ]


def sweep_reminders(today: dt.date | None = None, batch_size: int | None = None) -> int:
    """Writes today's reminder rows, batch by batch: due-soon and overdue tasks remind their
    Responsible people (the holders of the letter's role), and work done before today that
    waits for sign-off reminds its signers. Past the grace period, overdue work escalates
    once (engagements.escalations), not daily.

    The unique key (task, person, channel, kind, day) makes a second sweep, at once or later
    the same day, write nothing: each reminder once a day. Queries grow with the number of
    batches (4 each), not with the number of tasks.
    """
    today = today or timezone.localdate()
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    start_of_today = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    due = EngagementTask.objects.live().filter(
        Q(status__in=OPEN_STATUSES, due_date__isnull=False, due_date__lte=remind_until(today))
        | Q(status=TaskStatus.DONE, updated_at__lt=start_of_today)
    )
    written, last_pk = 0, 0
    while True:
        tasks = list(
            due.filter(pk__gt=last_pk).order_by("pk").prefetch_related("parties")[:batch_size]
        )
        if not tasks:
            return written
        last_pk = tasks[-1].pk
        seats = seats_of({t.engagement_id for t in tasks})
        prefs = _prefs({u for people in seats.roles.values() for u in people})
        rows = []
        for task in tasks:
            cells = list(task.parties.all())
            if task.status == TaskStatus.DONE:
                signers = policy.signer_party_ids(task)
                letter_cells = [c for c in cells if c.party_id in signers]
                people = seats.holders(task.engagement_id, letter_cells, None)
                kind = ReminderKind.SIGN_OFF_DUE
            else:
                people = seats.holders(task.engagement_id, cells, "responsible")
                kind = (
                    ReminderKind.OVERDUE
                    if is_overdue(task.due_date, today)
                    else ReminderKind.DUE_SOON
                )
            rows += _reminder_rows(task, dict.fromkeys(people, kind), prefs, today)
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        written += len(rows)


def sweep_duties(now: dt.datetime | None = None, batch_size: int | None = None) -> dict:
    """Standing duties past due: today's reminder to the Responsible party (once a day, by the
    same unique key as task reminders), and past the grace period one `duty.missed` event per
    missed due time, which informs the vendor (their conditional letter fires on issues).
    Batches of duties: 4 queries a batch (duties, their tasks with letters, members with
    their preferences, the reminder rows), and 4 more in one transaction for the batch's
    duties newly past grace, however many (actions.duties.report_missed)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    due = StandingDuty.objects.late(now).exclude(engagement__state=EngagementState.CLOSED)
    reminded, missed, last_pk = 0, 0, 0
    while True:
        duties = list(due.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
        if not duties:
            return {"reminders": reminded, "missed": missed}
        last_pk = duties[-1].pk
        engagement_ids = {d.engagement_id for d in duties}
        tasks = {
            (t.engagement_id, t.key): t
            for t in EngagementTask.objects.live()
            .filter(engagement_id__in=engagement_ids, key__in=DUTY_TASK.values())
            .prefetch_related(
                Prefetch("parties", queryset=TaskParty.objects.select_related("party").order_by())
            )
        }
        people = member_rows(engagement_ids)
        members, prefs = _members_and_prefs(people)
        rows, newly_missed = [], []
        for duty in duties:
            task = tasks.get((duty.engagement_id, DUTY_TASK[duty.kind]))
            if task is None:
                continue
            kinds = {
                user_id: ReminderKind.DUTY_DUE
                for party_id in policy.responsible_party_ids(task)
                for user_id in members[(duty.engagement_id, party_id)]
            }
            rows += _reminder_rows(task, kinds, prefs, today)
            if duty.is_past_grace(now) and duty.missed_reported_for != duty.due_at:
                newly_missed.append(duty.pk)
        if newly_missed:
            missed += report_missed(newly_missed, now=now, tasks=tasks, members=people)
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        reminded += len(rows)


def sweep_windows(now: dt.datetime | None = None) -> int:
    """Before each update window: the subscriber's Responsible people on Updates are reminded
    within the 24 hours before it (snapshots, access, presence), and the vendor's within the
    hour before if the preparation is still missing. Once per window and person (the unique
    key's day is the window's day). Four queries, whatever the number of windows."""
    now = now or timezone.now()
    stages = list(
        UpdateStage.objects.filter(
            started_at__isnull=True,
            window_start__gt=now,
            window_start__lte=now + dt.timedelta(hours=24),
            cycle__state__in=OPEN_CYCLE_STATES,
        )
        .exclude(cycle__engagement__state=EngagementState.CLOSED)
        .select_related("cycle")
    )
    if not stages:
        return 0
    engagement_ids = {s.cycle.engagement_id for s in stages}
    tasks = {
        t.engagement_id: t
        for t in EngagementTask.objects.live()
        .filter(engagement_id__in=engagement_ids, key=SeedTask.UPDATES)
        .prefetch_related("parties__party")
    }
    seats = seats_of(engagement_ids)
    prefs = _prefs({u for people in seats.roles.values() for u in people})
    rows = []
    for stage in stages:
        task = tasks.get(stage.cycle.engagement_id)
        if task is None:
            continue
        cells = list(task.parties.all())
        subscriber = [c for c in cells if not c.party.is_vendor]
        vendor = [c for c in cells if c.party.is_vendor]
        day = timezone.localdate(stage.window_start)
        kinds = dict.fromkeys(
            seats.holders(task.engagement_id, subscriber, "responsible"), ReminderKind.WINDOW_SOON
        )
        if not stage.is_prepared and stage.window_start <= now + dt.timedelta(hours=1):
            for user_id in seats.holders(task.engagement_id, vendor, "responsible"):
                kinds.setdefault(user_id, ReminderKind.WINDOW_UNPREPARED)
        rows += _reminder_rows(task, kinds, prefs, day)
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@shared_task(name="engagements.tasks.send_reminders", **retrying)
def send_reminders() -> int:
    """Beat (hourly by default): today's reminders for tasks and standing duties, then
    their delivery."""
    sweep_reminders()
    sweep_duties()
    sweep_windows()
    sweep_task_escalations()
    sweep_issue_escalations()
    return deliver_pending_batches()
