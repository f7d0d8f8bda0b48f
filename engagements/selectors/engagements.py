from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import (
    Case,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from engagements import policy
from engagements.choices import (
    OPEN_CYCLE_STATES,
    OPEN_ISSUE_STATES,
    HandoverState,
    Severity,
    TaskStatus,
)
from engagements.models import (
    Attestation,
    Engagement,
    EngagementTask,
    Event,
    Membership,
    StandingDuty,
    TaskParty,
)
from engagements.selectors.common import EVENTS_PAGE_SIZE, letters_prefetch, progress
from raci.matrix import Matrix, Row
from raci.models import VersionParty


@dataclass
class MatrixRow:
    """One template task of an engagement: its letters and a task per environment."""

    position: int
    name: str
    notes: str
    is_optional: bool
    cells: list[TaskParty | None] = field(default_factory=list)
    tasks: list[EngagementTask] = field(default_factory=list)


def engagement_page(engagement: Engagement, *, user, events_page: int | str = 1) -> dict:
    """Everything the engagement page shows.

    Queries: columns (1), tasks (1), their letters (1), members (1) and their roles (1),
    my membership (1), events page count and rows (2).
    """
    columns = list(
        VersionParty.objects.filter(version_id=engagement.template_version_id).select_related(
            "party"
        )
    )
    tasks = list(
        engagement.tasks.live()
        .prefetch_related(letters_prefetch())
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
        task.waiting = policy.waiting_on(task)
        row.tasks.append(task)
    status_counts = Counter(task.status for task in tasks)
    today = timezone.localdate()
    overdue = sum(1 for t in tasks if t.is_overdue)
    members = list(
        Membership.objects.filter(engagement=engagement)
        .select_related("user", "party")
        .prefetch_related("roles")
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
        .prefetch_related(letters_prefetch())
        .order_by("position", "environment")
    ):
        row = rows.get(task.position)
        if row is None:
            row = rows[task.position] = Row.of(task, task.parties.all(), extra={"status": {}})
        row.extra["status"][task.environment or "all"] = {
            "status": task.status,
            "due_date": task.due_date.isoformat() if task.due_date else None,
        }
    return Matrix(
        title=f"{engagement.organization.name}: {engagement.name}",
        parties=[(c.party.name, c.party.is_vendor) for c in columns],
        rows=list(rows.values()),
    )


SEVERITY_ORDER = Case(
    *(When(severity=s, then=Value(i)) for i, s in enumerate(Severity.values)),
    output_field=IntegerField(),
)


def seed_tasks_of(engagement_id: int, keys: Sequence[str]) -> dict[str, EngagementTask]:
    """One engagement's seed tasks by key (2 queries)."""
    return {key: task for (_, key), task in seed_tasks_of_many([engagement_id], keys).items()}


def seed_tasks_of_many(
    engagement_ids: Iterable[int], keys: Sequence[str]
) -> dict[tuple[int, str], EngagementTask]:
    """(engagement id, key) -> live seed task, letters and parties prefetched (2 queries)."""
    tasks = (
        EngagementTask.objects.live()
        .filter(engagement_id__in=engagement_ids, key__in=keys)
        .prefetch_related(letters_prefetch())
        .order_by("environment")
    )
    out: dict[tuple[int, str], EngagementTask] = {}
    for task in tasks:
        out.setdefault((task.engagement_id, task.key), task)
    return out


def duties_of(engagement: Engagement, now: dt.datetime) -> list[StandingDuty]:
    """Each duty with its last attestation's result, time and timeliness (1 query)."""
    last = Attestation.objects.filter(duty=OuterRef("pk")).order_by("-performed_at", "-id")
    duties = list(
        engagement.duties.annotate(
            last_result=Subquery(last.values("result")[:1]),
            last_performed_at=Subquery(last.values("performed_at")[:1]),
            last_on_time=Subquery(last.values("on_time")[:1]),
        ).order_by("kind")
    )
    for duty in duties:
        duty.state = duty.state_at(now)
    return duties


def operations_summary(engagement: Engagement, *, now: dt.datetime | None = None) -> dict:
    """The engagement page's Operations section: the current update cycle, the next handover
    or window, each duty's last attestation and timeliness, and the open issues (6 queries)."""
    now = now or timezone.now()
    cycle = (
        engagement.update_cycles.order_by(
            Case(When(state__in=OPEN_CYCLE_STATES, then=Value(0)), default=Value(1)),
            "-created_at",
        )
        .prefetch_related("stages")
        .first()
    )
    handover = (
        engagement.handovers.exclude(state=HandoverState.CANCELLED)
        .order_by(Case(When(state=HandoverState.SCHEDULED, then=Value(0)), default=Value(1)))
        .first()
    )
    issues = engagement.issues.filter(state__in=OPEN_ISSUE_STATES)
    next_window = None
    if cycle is not None and cycle.is_open:
        upcoming = [s for s in cycle.stages.all() if s.started_at is None and s.window_end > now]
        next_window = upcoming[0] if upcoming else None
    return {
        "cycle": cycle,
        "next_window": next_window,
        "handover": handover,
        "duties": duties_of(engagement, now),
        "open_issues": list(issues.order_by(SEVERITY_ORDER, "-created_at")[:5]),
        "open_issue_count": issues.count(),
        "now": now,
    }
