"""Read-side queries for the pages: each returns everything a page needs in a
fixed number of SQL queries, whatever the size of the engagement or portfolio."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from psaas_portal.params import parse_id
from raci.matrix import Cell, Matrix, Row
from raci.models import VersionParty

from . import workflow
from .choices import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Channel,
    ChecklistStatus,
    Delivery,
    EngagementState,
    TaskStatus,
)
from .models import (
    Engagement,
    EngagementTask,
    Event,
    InfrastructureChecklist,
    Membership,
    Notification,
    Organization,
    Profile,
    TaskParty,
)

PAGE_SIZE = 50
EVENTS_PAGE_SIZE = 25


def _letters_prefetch() -> Prefetch:
    return Prefetch("parties", queryset=TaskParty.objects.select_related("party"))


def urgency(today: dt.date) -> Case:
    soon = today + dt.timedelta(days=settings.PORTAL_DUE_SOON_DAYS)
    return Case(
        When(due_date__lt=today, then=Value(0)),
        When(due_date__lte=soon, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def expectation(task: EngagementTask, party_id: int | None) -> str:
    """What the task expects of this party now, in words for My work."""
    roles = workflow.roles_of(task, party_id)
    if task.status == TaskStatus.DONE:
        return "Sign off" if workflow.Role.SIGNER in roles else "Waiting for sign-off"
    if task.status in CLOSED_STATUSES:
        return ""
    if workflow.Role.RESPONSIBLE in roles:
        return "Unblock" if task.status == TaskStatus.BLOCKED else "Act"
    return "Waiting on the Responsible party"


def my_work(user, *, page: int | str = 1, today: dt.date | None = None) -> dict:
    """Tasks where the user's party is Responsible or Accountable, most urgent first.

    Queries: the counts (1), the page count (1), the page (1), its letters (1).
    """
    today = today or timezone.localdate()
    mine = (
        EngagementTask.objects.live()
        .filter(
            Q(engagement__memberships__user=user)
            & Q(parties__party_id=F("engagement__memberships__party_id"))
            & (Q(parties__responsible=True) | Q(parties__accountable=True))
        )
        .exclude(status__in=CLOSED_STATUSES)
        .annotate(urgency=urgency(today), my_party_id=F("engagement__memberships__party_id"))
    )
    counts = mine.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(urgency=0)),
        due_soon=Count("pk", filter=Q(urgency=1)),
        blocked=Count("pk", filter=Q(status=TaskStatus.BLOCKED)),
        to_sign=Count("pk", filter=Q(status=TaskStatus.DONE)),
    )
    ordered = (
        mine.select_related("engagement__organization")
        .prefetch_related(_letters_prefetch())
        .order_by(
            "urgency",
            F("due_date").asc(nulls_last=True),
            "engagement__name",
            "position",
            "environment",
        )
    )
    paginator = Paginator(ordered, PAGE_SIZE)
    page_obj = paginator.get_page(page)
    rows = [
        {
            "task": task,
            "expected": expectation(task, task.my_party_id),
            "waiting_on": workflow.waiting_on(task),
        }
        for task in page_obj.object_list
    ]
    return {
        "counts": counts,
        "rows": rows,
        "page_obj": page_obj,
        "today": today,
        "to_review": checklists_to_review(user),
    }


def checklists_to_review(user) -> list[InfrastructureChecklist]:
    """Submitted checklists waiting on a party of the user's that is Consulted on them (1 query)."""
    my_party = Membership.objects.filter(
        engagement_id=OuterRef(OuterRef("engagement_id")), user=user
    ).values("party_id")[:1]
    consulted = TaskParty.objects.filter(
        consulted=True,
        task__key="infrastructure",
        task__retired_at__isnull=True,
        task__engagement_id=OuterRef("engagement_id"),
        task__environment=OuterRef("environment"),
        party_id=Subquery(my_party),
    )
    return list(
        InfrastructureChecklist.objects.filter(status=ChecklistStatus.SUBMITTED)
        .filter(Exists(consulted))
        .select_related("engagement__organization")
        .order_by("submitted_at")
    )


@dataclass
class MatrixRow:
    """One template task of an engagement: its letters and a task per environment."""

    position: int
    name: str
    notes: str
    is_optional: bool
    cells: list[TaskParty | None] = field(default_factory=list)
    tasks: list[EngagementTask] = field(default_factory=list)


def progress(status_counts: Counter) -> dict:
    applicable = sum(n for s, n in status_counts.items() if s != TaskStatus.NOT_APPLICABLE)
    finished = status_counts[TaskStatus.DONE] + status_counts[TaskStatus.SIGNED_OFF]
    return {
        "applicable": applicable,
        "finished": finished,
        "percent": round(100 * finished / applicable) if applicable else 0,
    }


def engagement_page(engagement: Engagement, *, user, events_page: int | str = 1) -> dict:
    """Everything the engagement page shows.

    Queries: columns (1), tasks (1), their letters (1), members (1), my
    membership (1), events page count and rows (2).
    """
    columns = list(
        VersionParty.objects.filter(version_id=engagement.template_version_id).select_related(
            "party"
        )
    )
    tasks = list(
        engagement.tasks.live()
        .prefetch_related(_letters_prefetch())
        .order_by("position", "environment")
    )
    rows: dict[int, MatrixRow] = {}
    for task in tasks:
        row = rows.get(task.position)
        if row is None:
            by_party = {tp.party_id: tp for tp in task.parties.all()}
            row = rows[task.position] = MatrixRow(
                position=task.position,
                name=task.name,
                notes=task.notes,
                is_optional=task.is_optional,
                cells=[by_party.get(c.party_id) for c in columns],
            )
        task.waiting = workflow.waiting_on(task)
        row.tasks.append(task)
    status_counts = Counter(task.status for task in tasks)
    today = timezone.localdate()
    overdue = sum(
        1
        for t in tasks
        if t.due_date and t.due_date < today and t.status not in (*CLOSED_STATUSES, TaskStatus.DONE)
    )
    members = list(
        Membership.objects.filter(engagement=engagement)
        .select_related("user", "party")
        .order_by("party__name", "user__username")
    )
    members_by_party = [
        (c.party, [m for m in members if m.party_id == c.party_id]) for c in columns
    ]
    my_membership = next((m for m in members if m.user_id == user.pk), None)
    events = Paginator(
        Event.objects.filter(engagement=engagement).select_related("actor", "task"),
        EVENTS_PAGE_SIZE,
    ).get_page(events_page)
    return {
        "engagement": engagement,
        "columns": columns,
        "rows": list(rows.values()),
        "status_counts": [
            (s, TaskStatus(s).label, status_counts[s])
            for s in TaskStatus.values
            if status_counts[s]
        ],
        "progress": progress(status_counts),
        "overdue": overdue,
        "today": today,
        "members_by_party": members_by_party,
        "my_membership": my_membership,
        "events": events,
    }


def engagement_rows(user):
    return Engagement.objects.visible_to(user).select_related(
        "organization", "template_version__template"
    )


def engagement_matrix(engagement: Engagement) -> Matrix:
    """The engagement's copy of the matrix (letters as copied), one row per template task.

    The JSON form also carries each environment's status and due date.
    """
    columns = list(
        VersionParty.objects.filter(version_id=engagement.template_version_id).select_related(
            "party"
        )
    )
    rows: dict[int, Row] = {}
    for task in (
        engagement.tasks.live()
        .prefetch_related(_letters_prefetch())
        .order_by("position", "environment")
    ):
        row = rows.get(task.position)
        if row is None:
            row = rows[task.position] = Row(
                name=task.name,
                key=task.key,
                cells={tp.party.name: Cell.of(tp) for tp in task.parties.all()},
                notes=task.notes,
                description=task.description,
                is_optional=task.is_optional,
                tracking=task.tracking,
                extra={"status": {}},
            )
        row.extra["status"][task.environment or "all"] = {
            "status": task.status,
            "due_date": task.due_date.isoformat() if task.due_date else None,
        }
    return Matrix(
        title=f"{engagement.organization.name}: {engagement.name}",
        parties=[(c.party.name, c.party.is_vendor) for c in columns],
        rows=list(rows.values()),
    )


def task_page(task: EngagementTask, *, user) -> dict:
    """The task view. Queries: my party (1), sign-offs (1), comments (1), history (1),
    and for the infrastructure task its checklist and items (2)."""
    from .services import CHECKLIST_TASK_KEY, member_party_id

    party_id = member_party_id(task.engagement_id, user)
    roles = workflow.roles_of(task, party_id)
    moves = workflow.allowed_moves(task, party_id)
    cells = sorted(task.parties.all(), key=lambda tp: (not tp.party.is_vendor, tp.party.name))
    checklist = None
    if task.key == CHECKLIST_TASK_KEY and task.environment:
        checklist = (
            InfrastructureChecklist.objects.filter(
                engagement_id=task.engagement_id, environment=task.environment
            )
            .select_related("submitted_by", "reviewed_by")
            .prefetch_related("items")
            .first()
        )
    return {
        "task": task,
        "engagement": task.engagement,
        "cells": cells,
        "my_party_id": party_id,
        "is_responsible": workflow.Role.RESPONSIBLE in roles,
        "is_signer": workflow.Role.SIGNER in roles,
        "moves": [(to, m) for to, m in moves if to not in workflow.SPECIAL_TARGETS],
        "can_sign_off": any(to == TaskStatus.SIGNED_OFF for to, _ in moves),
        "can_reopen": any(to == TaskStatus.REOPENED for to, _ in moves),
        "consulted": [tp.party for tp in cells if tp.consulted and tp.party_id != party_id],
        "signoffs": list(task.signoffs.select_related("signed_by", "party")),
        "comments": list(task.comments.select_related("author", "addressed_to")),
        "history": list(
            task.events.select_related("actor", "task").order_by("-created_at", "-id")[:100]
        ),
        "waiting_on": workflow.waiting_on(task),
        "checklist": checklist,
        "today": timezone.localdate(),
    }


def checklist_page(checklist: InfrastructureChecklist, *, user) -> dict:
    """Queries: the task and letters (2), my party (1), items (1)."""
    from .services import checklist_task, member_party_id

    task = checklist_task(checklist)
    party_id = member_party_id(checklist.engagement_id, user)
    cells = list(task.parties.all()) if task else []
    responsible = any(tp.responsible and tp.party_id == party_id for tp in cells)
    consulted = any(tp.consulted and tp.party_id == party_id for tp in cells)
    return {
        "checklist": checklist,
        "engagement": checklist.engagement,
        "task": task,
        "items": list(checklist.items.all()),
        "can_edit": responsible and checklist.is_editable,
        "can_review": consulted and checklist.status == ChecklistStatus.SUBMITTED,
    }


# --- Portfolio ------------------------------------------------------------------------

PORTFOLIO_PAGE_SIZE = 25
PORTFOLIO_SORTS = {
    "subscriber": ("organization__name", "name"),
    "name": ("name",),
    "kickoff": ("-kickoff_date", "name"),
    "progress": ("progress_pct", "organization__name"),
    "-progress": ("-progress_pct", "organization__name"),
    "overdue": ("-overdue_count", "organization__name"),
}


def _task_count(today: dt.date | None = None, **filters) -> Subquery:
    qs = EngagementTask.objects.live().filter(engagement=OuterRef("pk"), **filters)
    if today is not None:
        qs = qs.filter(due_date__lt=today).exclude(status__in=(*CLOSED_STATUSES, TaskStatus.DONE))
    return Coalesce(
        Subquery(qs.order_by().values("engagement").annotate(n=Count("pk")).values("n")[:1]),
        0,
    )


def portfolio(
    user,
    *,
    cse: str = "",
    subscriber: str = "",
    state: str = "",
    sort: str = "subscriber",
    page: int | str = 1,
) -> dict:
    """The engagements visible to the user with their progress and who they wait on.

    Queries: the page count (1), the page with its annotated counts (1), the
    status counts and waiting-on counts of the page's tasks (1), the CSEs of
    the page (1), and the filter choices (2).
    """
    today = timezone.localdate()
    qs = (
        Engagement.objects.visible_to(user)
        .select_related("organization")
        .annotate(
            applicable=_task_count(
                status__in=[s for s in TaskStatus.values if s != TaskStatus.NOT_APPLICABLE]
            ),
            finished=_task_count(status__in=[TaskStatus.DONE, TaskStatus.SIGNED_OFF]),
            overdue_count=_task_count(today=today),
        )
        .annotate(
            progress_pct=Case(
                When(applicable=0, then=Value(0)),
                default=F("finished") * 100 / F("applicable"),
                output_field=IntegerField(),
            )
        )
    )
    if (cse_id := parse_id(cse)) is not None:
        qs = qs.filter(memberships__user_id=cse_id, memberships__party__is_vendor=True)
    if (subscriber_id := parse_id(subscriber)) is not None:
        qs = qs.filter(organization_id=subscriber_id)
    if state in EngagementState.values:
        qs = qs.filter(state=state)
    sort = sort if sort in PORTFOLIO_SORTS else "subscriber"
    page_obj = Paginator(qs.order_by(*PORTFOLIO_SORTS[sort], "pk"), PORTFOLIO_PAGE_SIZE).get_page(
        page
    )
    engagements = list(page_obj.object_list)
    ids = [e.pk for e in engagements]
    stats = _waiting_counts(ids)
    cses = defaultdict(list)
    for m in Membership.objects.filter(engagement_id__in=ids, party__is_vendor=True).select_related(
        "user"
    ):
        cses[m.engagement_id].append(m.user)
    rows = [
        {
            "engagement": e,
            "cses": cses[e.pk],
            **stats.get(e.pk, {"status_counts": [], "waiting_vendor": 0, "waiting_subscriber": 0}),
        }
        for e in engagements
    ]
    User = get_user_model()
    visible = Engagement.objects.visible_to(user)
    return {
        "rows": rows,
        "page_obj": page_obj,
        "filters": {"cse": cse, "subscriber": subscriber, "state": state, "sort": sort},
        "cse_choices": User.objects.filter(
            memberships__party__is_vendor=True, memberships__engagement__in=visible
        )
        .distinct()
        .order_by("username"),
        "subscriber_choices": Organization.objects.filter(engagements__in=visible)
        .distinct()
        .order_by("name"),
        "state_choices": EngagementState.choices,
        "sorts": [
            ("subscriber", "Subscriber"),
            ("name", "Name"),
            ("kickoff", "Newest kickoff"),
            ("progress", "Least progress"),
            ("-progress", "Most progress"),
            ("overdue", "Most overdue"),
        ],
    }


def _waiting_counts(engagement_ids: list[int]) -> dict[int, dict]:
    """Counts by status and by whose move it is, for a page of engagements, in one query."""
    if not engagement_ids:
        return {}

    def holds(**letters):
        return Exists(TaskParty.objects.filter(task=OuterRef("pk"), **letters))

    rows = (
        EngagementTask.objects.live()
        .filter(engagement_id__in=engagement_ids)
        .annotate(
            v_r=holds(responsible=True, party__is_vendor=True),
            s_r=holds(responsible=True, party__is_vendor=False),
            v_a=holds(accountable=True, party__is_vendor=True),
            s_a=holds(accountable=True, party__is_vendor=False),
            any_a=holds(accountable=True),
        )
        .values("engagement_id", "status", "v_r", "s_r", "v_a", "s_a", "any_a")
        .annotate(n=Count("pk"))
        .order_by()
    )
    out: dict[int, dict] = {}
    for r in rows:
        entry = out.setdefault(
            r["engagement_id"], {"counts": Counter(), "waiting_vendor": 0, "waiting_subscriber": 0}
        )
        entry["counts"][r["status"]] += r["n"]
        if r["status"] in OPEN_STATUSES:
            vendor, sub = r["v_r"], r["s_r"]
        elif r["status"] == TaskStatus.DONE:
            vendor = r["v_a"] or (not r["any_a"] and r["v_r"])
            sub = r["s_a"] or (not r["any_a"] and r["s_r"])
        else:
            continue
        entry["waiting_vendor"] += r["n"] if vendor else 0
        entry["waiting_subscriber"] += r["n"] if sub else 0
    for entry in out.values():
        counts = entry.pop("counts")
        entry["status_counts"] = [
            (s, TaskStatus(s).label, counts[s]) for s in TaskStatus.values if counts[s]
        ]
    return out


# --- Notifications ----------------------------------------------------------------------


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(
        recipient=user, channel=Channel.PORTAL, read_at__isnull=True
    ).count()


def inbox(user, *, page: int | str = 1, unread_only: bool = False) -> dict:
    """Queries: the page count (1) and the page with its events, tasks and engagements (1)."""
    qs = Notification.objects.filter(recipient=user, channel=Channel.PORTAL).select_related(
        "event__actor", "task", "engagement__organization"
    )
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return {
        "page_obj": Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(page),
        "unread_only": unread_only,
    }


def preferences(user) -> dict:
    profile = Profile.objects.filter(user=user).first()
    return {
        "profile": profile,
        "email_choices": Delivery.choices,
        "portal_choices": [
            (Delivery.IMMEDIATE, Delivery.IMMEDIATE.label),
            (Delivery.OFF, Delivery.OFF.label),
        ],
    }
