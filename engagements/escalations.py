"""Escalation that fires: overdue work past its grace period, and open issues past their
response target, each escalated once, as an audited event that tells people beyond the ones
already reminded.

Overdue work goes to its Accountable role holders when they are other people than its
Responsible ones; when the same people hold both, to their party's managers and to the
engagement's CSE (the vendor members holding settings.CSE_ROLE). An issue still open past
its severity's target goes to the engagement's CSE.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import events, policy
from .audit import record_event
from .choices import OPEN_STATUSES, IssueState, SeedTask
from .models import EngagementTask, Issue, Membership
from .querysets import grace_cutoff


@dataclass
class Seats:
    """The members of a batch of engagements: who holds which roles, who manages."""

    roles: dict[tuple[int, int], dict[int, set[str]]] = field(
        default_factory=lambda: defaultdict(dict)
    )  # (engagement, party) -> user -> roles
    managers: dict[tuple[int, int], set[int]] = field(default_factory=lambda: defaultdict(set))
    cses: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    names: dict[int, str] = field(default_factory=dict)

    def holders(self, engagement_id: int, cells, letter: str | None) -> set[int]:
        """The people a letter names (any letter of the cells where None): its party's
        members holding the cell's role (every member where the cell names none)."""
        out: set[int] = set()
        for cell in cells:
            if letter is not None and not getattr(cell, letter):
                continue
            for user_id, roles in self.roles[(engagement_id, cell.party_id)].items():
                if not cell.role_title or cell.role_title in roles:
                    out.add(user_id)
        return out


def seats_of(engagement_ids) -> Seats:
    """One query for a batch of engagements."""
    seats = Seats()
    for engagement_id, party_id, user_id, is_manager, vendor, role, first, last, username in (
        Membership.objects.filter(engagement_id__in=engagement_ids, user__is_active=True)
        .values_list(
            "engagement_id",
            "party_id",
            "user_id",
            "is_manager",
            "party__is_vendor",
            "roles__title",
            "user__first_name",
            "user__last_name",
            "user__username",
        )
        .order_by()
    ):
        roles = seats.roles[(engagement_id, party_id)].setdefault(user_id, set())
        if role:
            roles.add(role)
        if is_manager:
            seats.managers[(engagement_id, party_id)].add(user_id)
        if vendor and role == settings.CSE_ROLE:
            seats.cses[engagement_id].add(user_id)
        seats.names[user_id] = f"{first} {last}".strip() or username
    return seats


def task_escalation_targets(task: EngagementTask, seats: Seats) -> set[int]:
    """Whom an overdue task escalates to (letters prefetched)."""
    cells = list(task.parties.all())
    responsible = seats.holders(task.engagement_id, cells, "responsible")
    accountable = seats.holders(task.engagement_id, cells, "accountable")
    others = accountable - responsible
    if others:
        return others
    parties = {c.party_id for c in cells if c.responsible}
    managers = {u for p in parties for u in seats.managers[(task.engagement_id, p)]}
    return managers | seats.cses[task.engagement_id]


def sweep_task_escalations(today: dt.date | None = None, batch_size: int | None = None) -> int:
    """Escalates each open task past its grace period once per due date (2 queries a batch,
    plus one transaction per task newly escalated)."""
    today = today or timezone.localdate()
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    due = (
        EngagementTask.objects.live()
        .filter(status__in=OPEN_STATUSES, due_date__lt=grace_cutoff(today))
        .exclude(escalated_for=F("due_date"))
    )
    escalated, last_pk = 0, 0
    while True:
        tasks = list(
            due.filter(pk__gt=last_pk)
            .order_by("pk")
            .select_related("engagement")
            .prefetch_related("parties")[:batch_size]
        )
        if not tasks:
            return escalated
        last_pk = tasks[-1].pk
        seats = seats_of({t.engagement_id for t in tasks})
        for task in tasks:
            escalated += _escalate_task(task, seats)


@transaction.atomic
def _escalate_task(task: EngagementTask, seats: Seats) -> int:
    locked = EngagementTask.objects.select_for_update().filter(pk=task.pk).first()
    if locked is None or locked.escalated_for == locked.due_date:
        return 0  # another sweep did it meanwhile
    locked.escalated_for = locked.due_date
    locked.save(update_fields=["escalated_for", "updated_at"])
    to = sorted(task_escalation_targets(task, seats))
    record_event(
        task.engagement,
        events.TASK_ESCALATED,
        task=task,
        data={
            "due": f"{task.due_date:%d %b %Y}",
            "to_ids": to,
            "to": ", ".join(seats.names[u] for u in to) or "nobody else (no one holds the roles)",
        },
    )
    return 1


def working_deadline(start: dt.datetime, target: str) -> dt.datetime:
    """`start` plus a target of hours ("4h") or working days ("3d", Monday to Friday)."""
    amount, unit = int(target[:-1]), target[-1]
    if unit == "h":
        return start + dt.timedelta(hours=amount)
    when = start
    while amount:
        when += dt.timedelta(days=1)
        if when.weekday() < 5:
            amount -= 1
    return when


def sweep_issue_escalations(now: dt.datetime | None = None) -> int:
    """Open issues nobody has answered within their severity's response target: escalated to
    the engagement's CSE once (2 queries, plus one transaction per issue escalated)."""
    now = now or timezone.now()
    # No target is shorter than an hour: issues raised within the last hour are not read.
    waiting = list(
        Issue.objects.filter(
            state=IssueState.OPEN,
            escalated_at__isnull=True,
            created_at__lt=now - dt.timedelta(hours=1),
        )
        .select_related("engagement")
        .order_by("pk")
    )
    late = [
        i
        for i in waiting
        if working_deadline(i.created_at, settings.ISSUE_RESPONSE_TARGETS[i.severity]) < now
    ]
    if not late:
        return 0
    seats = seats_of({i.engagement_id for i in late})
    for issue in late:
        _escalate_issue(issue, seats, now)
    return len(late)


@transaction.atomic
def _escalate_issue(issue: Issue, seats: Seats, now: dt.datetime) -> None:
    locked = Issue.objects.select_for_update().get(pk=issue.pk)
    if locked.escalated_at is not None or locked.state != IssueState.OPEN:
        return
    locked.escalated_at = now
    locked.save(update_fields=["escalated_at"])
    to = sorted(seats.cses[issue.engagement_id])
    record_event(
        issue.engagement,
        events.ISSUE_ESCALATED,
        task=policy.seed_task(issue.engagement_id, SeedTask.ISSUE_IDENTIFICATION),
        data={
            "issue": issue.pk,
            "severity": issue.get_severity_display().lower(),
            "target": settings.ISSUE_RESPONSE_TARGETS[issue.severity]
            .replace("h", " hours")
            .replace("d", " working days"),
            "to_ids": to,
            "to": ", ".join(seats.names[u] for u in to) or "nobody (no one holds the CSE role)",
        },
    )
