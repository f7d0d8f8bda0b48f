"""Read-side queries for the operations pages, each in a fixed number of SQL queries."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.db.models import (
    Case,
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
from django.urls import reverse
from django.utils import timezone

from . import operations as ops
from .choices import (
    OPEN_CYCLE_STATES,
    OPEN_ISSUE_STATES,
    OPEN_STATUSES,
    CycleState,
    EngagementState,
    HandoverState,
    IssueState,
    Severity,
)
from .models import (
    Attestation,
    AttestationToken,
    CalendarFeed,
    Engagement,
    EngagementTask,
    Event,
    Handover,
    Issue,
    Membership,
    StandingDuty,
    TaskParty,
    UpdateCycle,
    UpdateStage,
)
from .services import member_party_id

SEVERITY_ORDER = Case(
    *(When(severity=s, then=Value(i)) for i, s in enumerate(Severity.values)),
    output_field=IntegerField(),
)


def _tasks(engagement_id: int, keys: list[str]) -> dict[str, EngagementTask]:
    """One engagement's seed tasks by key (2 queries)."""
    return {key: task for (_, key), task in _tasks_of([engagement_id], keys).items()}


def _tasks_of(engagement_ids, keys: list[str]) -> dict[tuple[int, str], EngagementTask]:
    """(engagement id, key) -> live seed task, letters and parties prefetched (2 queries)."""
    tasks = (
        EngagementTask.objects.live()
        .filter(engagement_id__in=engagement_ids, key__in=keys)
        .prefetch_related(Prefetch("parties", queryset=TaskParty.objects.select_related("party")))
        .order_by("environment")
    )
    out: dict[tuple[int, str], EngagementTask] = {}
    for task in tasks:
        out.setdefault((task.engagement_id, task.key), task)
    return out


def duty_state(duty: StandingDuty, now: dt.datetime) -> str:
    """ "not started" (before go-live), "on time", "due" (past due, within grace) or
    "missed" (past grace)."""
    if duty.due_at is None:
        return "not started"
    if now <= duty.due_at + ops.DUTY_SLACK:
        return "on time"
    if now <= duty.due_at + dt.timedelta(days=duty.grace_days):
        return "due"
    return "missed"


def _duties(engagement: Engagement, now: dt.datetime) -> list[StandingDuty]:
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
        duty.state = duty_state(duty, now)
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
        "duties": _duties(engagement, now),
        "open_issues": list(issues.order_by(SEVERITY_ORDER, "-created_at")[:5]),
        "open_issue_count": issues.count(),
        "now": now,
    }


# --- Update cycles -------------------------------------------------------------------------


def cycles_page(engagement: Engagement, *, user) -> dict:
    party = member_party_id(engagement.pk, user)
    me = ops.side_on(_tasks(engagement.pk, [ops.UPDATES]).get(ops.UPDATES), party)
    has_open = engagement.update_cycles.filter(state__in=OPEN_CYCLE_STATES).exists()
    return {
        "engagement": engagement,
        "cycles": list(
            engagement.update_cycles.prefetch_related("stages").order_by("-created_at", "-id")
        ),
        "has_open": has_open,
        # The vendor proposes; one cycle at a time (the service refuses otherwise).
        "can_propose": me.responsible and me.is_vendor and not has_open,
    }


def cycle_page(cycle: UpdateCycle, *, user) -> dict:
    """Both environments' steps, the cycle's events as a timeline, its issues (8 queries)."""
    stages = list(
        UpdateStage.objects.filter(cycle=cycle)
        .select_related("prepared_by", "tested_by")
        .prefetch_related("snapshots")
    )
    by_env = {s.environment: s for s in stages}
    party = member_party_id(cycle.engagement_id, user)
    tasks = _tasks(cycle.engagement_id, [ops.UPDATES, ops.TESTING])
    me = ops.side_on(tasks.get(ops.UPDATES), party)
    tester = ops.side_on(tasks.get(ops.TESTING), party)
    events = list(
        Event.objects.filter(engagement_id=cycle.engagement_id, data__cycle=cycle.pk)
        .select_related("actor", "task")
        .order_by("created_at", "id")
    )
    return {
        "engagement": cycle.engagement,
        "cycle": cycle,
        "dev": by_env.get(ops.DEV),
        "prod": by_env.get(ops.PROD),
        "events": events,
        "issues": list(cycle.issues.order_by("-created_at")),
        "actions": ops.cycle_actions(cycle, me=me, tester=tester),
        "severities": Severity.choices,
        "gate_open": ops.production_gate_open(cycle),
    }


# --- Handover ---------------------------------------------------------------------------------


def handover_page(engagement: Engagement, *, user) -> dict:
    handovers = list(
        engagement.handovers.select_related("organizer")
        .prefetch_related("attendees")
        .order_by("-starts_at")
    )
    members = list(
        Membership.objects.filter(engagement=engagement, user__is_active=True)
        .select_related("user", "party")
        .order_by("party__name", "user__username")
    )
    tasks = _tasks(engagement.pk, [ops.HANDOVER])
    party = next((m.party_id for m in members if m.user_id == user.pk), None)
    current = next((h for h in handovers if h.state == HandoverState.SCHEDULED), None)
    return {
        "engagement": engagement,
        "current": current,
        "past": [h for h in handovers if h is not current],
        "members": members,
        "me": ops.side_on(tasks.get(ops.HANDOVER), party),
        "task": tasks.get(ops.HANDOVER),
        "agenda": ops.AGENDA,
    }


# --- Standing duties ----------------------------------------------------------------------------


def duties_page(engagement: Engagement, *, user, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    party = member_party_id(engagement.pk, user)
    tasks = _tasks(engagement.pk, list(ops.DUTY_TASK.values()))
    duties = _duties(engagement, now)
    recent = list(
        Attestation.objects.filter(duty__engagement=engagement)
        .select_related("duty", "recorded_by", "via_token")
        .order_by("-performed_at", "-id")[:40]
    )
    for duty in duties:
        duty.me = ops.side_on(tasks.get(ops.DUTY_TASK[duty.kind]), party)
        duty.recent = [a for a in recent if a.duty_id == duty.pk][:10]
    backup_side = ops.side_on(tasks.get(ops.DUTY_TASK["backup"]), party)
    return {
        "engagement": engagement,
        "duties": duties,
        "tokens": list(
            AttestationToken.objects.filter(engagement=engagement).select_related(
                "created_by", "revoked_by"
            )
        )
        if backup_side.responsible
        else [],
        "can_manage_tokens": backup_side.responsible,
        "now": now,
    }


# --- Issues -----------------------------------------------------------------------------------


def issues_page(engagement: Engagement, *, user, page=1, state: str = "open") -> dict:
    issues = engagement.issues.select_related("raised_by", "cycle")
    if state == "open":
        issues = issues.filter(state__in=OPEN_ISSUE_STATES)
    elif state in IssueState.values:
        issues = issues.filter(state=state)
    page_obj = Paginator(issues.order_by(SEVERITY_ORDER, "-created_at", "-id"), 50).get_page(page)
    party = member_party_id(engagement.pk, user)
    tasks = _tasks(engagement.pk, [ops.IDENTIFICATION])
    return {
        "engagement": engagement,
        "issues": page_obj,
        "page_obj": page_obj,
        "state": state,
        "states": IssueState.choices,
        "can_raise": ops.side_on(tasks.get(ops.IDENTIFICATION), party).responsible,
    }


def issue_page(issue: Issue, *, user) -> dict:
    party = member_party_id(issue.engagement_id, user)
    tasks = _tasks(issue.engagement_id, [ops.IDENTIFICATION, ops.RESOLUTION])
    roles = set()
    if ops.side_on(tasks.get(ops.IDENTIFICATION), party).responsible:
        roles.add(ops.REPORTER)
    if ops.side_on(tasks.get(ops.RESOLUTION), party).responsible:
        roles.add(ops.RESOLVER)
    moves = [
        (to, move)
        for (frm, to), move in ops.ISSUE_MOVES.items()
        if frm == issue.state and move.by in roles
    ]
    events = list(
        Event.objects.filter(engagement_id=issue.engagement_id, data__issue=issue.pk)
        .select_related("actor", "task")
        .order_by("created_at", "id")
    )
    return {
        "engagement": issue.engagement,
        "issue": issue,
        "moves": moves,
        "events": events,
        "is_reporter": ops.REPORTER in roles,
    }


# --- Calendar --------------------------------------------------------------------------------


def calendar_entries(user, *, now: dt.datetime | None = None) -> list[dict]:
    """The person's feed: open tasks their party is Responsible or Accountable for with a due
    date, the windows of open update cycles and the scheduled handovers of their engagements
    (3 queries)."""
    now = now or timezone.now()
    tasks = EngagementTask.objects.live().filter(
        Q(engagement__memberships__user=user)
        & Q(parties__party_id=F("engagement__memberships__party_id"))
        & (Q(parties__responsible=True) | Q(parties__accountable=True))
    )
    entries = []
    for task in (
        tasks.filter(status__in=OPEN_STATUSES, due_date__isnull=False)
        .select_related("engagement")
        .distinct()
        .order_by("due_date", "pk")[:500]
    ):
        entries.append(
            {
                "uid": f"task-{task.pk}@psaas-portal",
                "date": task.due_date,
                "summary": f"Due: {task.label} ({task.engagement.name})",
                "url": reverse("engagements:task-detail", args=[task.pk]),
            }
        )
    for stage in (
        UpdateStage.objects.filter(
            cycle__engagement__memberships__user=user, cycle__state__in=OPEN_CYCLE_STATES
        )
        .select_related("cycle__engagement")
        .order_by("window_start")[:200]
    ):
        cycle = stage.cycle
        entries.append(
            {
                "uid": f"update-window-{stage.pk}@psaas-portal",
                "start": stage.window_start,
                "end": stage.window_end,
                "summary": f"Update {cycle.release}: {stage.get_environment_display()} window "
                f"({cycle.engagement.name})",
                "description": f"State: {cycle.get_state_display()}",
                "url": reverse("engagements:cycle-detail", args=[cycle.pk]),
                "status": "CONFIRMED" if cycle.state != CycleState.PROPOSED else "TENTATIVE",
            }
        )
    for handover in (
        Handover.objects.filter(
            engagement__memberships__user=user,
            state=HandoverState.SCHEDULED,
            starts_at__gte=now - dt.timedelta(days=30),
        )
        .select_related("engagement")
        .order_by("starts_at")[:50]
    ):
        entries.append(
            {
                # Not the invitation's UID: a calendar holding both must not merge them.
                "uid": f"handover-{handover.uid}-feed@psaas-portal",
                "start": handover.starts_at,
                "end": handover.ends_at,
                "summary": f"Operations Handover ({handover.engagement.name})",
                "description": handover.agenda,
                "url": reverse("engagements:handover", args=[handover.engagement_id]),
                "sequence": handover.sequence,
                "status": "CONFIRMED",
            }
        )
    return entries


def calendar_page(user) -> dict:
    return {"feed": CalendarFeed.objects.filter(user=user).first()}


# --- My work: operations waiting on me ---------------------------------------------------------


def _holds(letter: str, key) -> Exists:
    """The person's party (annotated `my_party`) holds `letter` on the engagement's live task
    with this key (a string, or an OuterRef to the row's kind)."""
    return Exists(
        TaskParty.objects.filter(
            task__engagement_id=OuterRef("engagement_id"),
            task__key=key,
            task__retired_at__isnull=True,
            party_id=OuterRef("my_party"),
            **{letter: True},
        )
    )


def waiting_on_me(user, *, now: dt.datetime | None = None) -> list[dict]:
    """Operations that wait on the user's party: update cycle steps, duties past due, issues
    in their court, a handover to record (5 queries, whatever the number of engagements)."""
    now = now or timezone.now()
    mine = {
        "engagement__memberships__user": user,
    }
    party = {"my_party": F("engagement__memberships__party_id")}
    items: list[dict] = []
    cycles = list(
        UpdateCycle.objects.filter(state__in=OPEN_CYCLE_STATES, **mine)
        .annotate(**party)
        .filter(_holds("responsible", ops.UPDATES) | _holds("responsible", ops.TESTING))
        .select_related("engagement__organization")
        .prefetch_related("stages")
        .order_by("created_at")[:50]
    )
    tasks = (
        _tasks_of({c.engagement_id for c in cycles}, [ops.UPDATES, ops.TESTING]) if cycles else {}
    )
    for cycle in cycles:
        step = ops.cycle_next_step(
            cycle,
            me=ops.side_on(tasks.get((cycle.engagement_id, ops.UPDATES)), cycle.my_party),
            tester=ops.side_on(tasks.get((cycle.engagement_id, ops.TESTING)), cycle.my_party),
        )
        if step:
            items.append(
                {
                    "what": f"{step}: update to {cycle.release}",
                    "engagement": cycle.engagement,
                    "url": reverse("engagements:cycle-detail", args=[cycle.pk]),
                    "since": cycle.updated_at,
                }
            )
    for duty in (
        StandingDuty.objects.filter(due_at__lt=now - ops.DUTY_SLACK, **mine)
        .exclude(engagement__state=EngagementState.CLOSED)
        .annotate(**party)
        .filter(_holds("responsible", OuterRef("kind")))
        .select_related("engagement__organization")
        .order_by("due_at")[:50]
    ):
        items.append(
            {
                "what": f"{duty.get_kind_display()} is {duty_state(duty, now)}: record an attestation",
                "engagement": duty.engagement,
                "url": reverse("engagements:duties", args=[duty.engagement_id]),
                "since": duty.due_at,
            }
        )
    for issue in (
        Issue.objects.filter(state__in=(*OPEN_ISSUE_STATES, IssueState.RESOLVED), **mine)
        .annotate(**party)
        .filter(
            (
                Q(state__in=(IssueState.OPEN, IssueState.INVESTIGATING))
                & _holds("responsible", ops.RESOLUTION)
            )
            | (
                Q(state__in=(IssueState.WAITING, IssueState.RESOLVED))
                & _holds("responsible", ops.IDENTIFICATION)
            )
        )
        .select_related("engagement__organization")
        .order_by(SEVERITY_ORDER, "created_at")[:50]
    ):
        verb = {
            IssueState.WAITING: "Answer",
            IssueState.RESOLVED: "Confirm or reopen",
        }.get(issue.state, "Resolve")
        items.append(
            {
                "what": f"{verb} issue #{issue.pk}: {issue.title}",
                "engagement": issue.engagement,
                "url": reverse("engagements:issue-detail", args=[issue.pk]),
                "since": issue.updated_at,
            }
        )
    for handover in (
        Handover.objects.filter(state=HandoverState.SCHEDULED, starts_at__lt=now, **mine)
        .annotate(**party)
        .filter(_holds("responsible", ops.HANDOVER))
        .select_related("engagement__organization")[:50]
    ):
        items.append(
            {
                "what": "Record the Operations Handover as held",
                "engagement": handover.engagement,
                "url": reverse("engagements:handover", args=[handover.engagement_id]),
                "since": handover.starts_at,
            }
        )
    return items
