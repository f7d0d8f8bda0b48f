from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from engagements import policy
from engagements.choices import (
    CLOSED_STATUSES,
    OPEN_CYCLE_STATES,
    OPEN_ISSUE_STATES,
    EngagementState,
    HandoverState,
    IssueState,
    TaskStatus,
)
from engagements.models import (
    Comment,
    EngagementTask,
    Handover,
    InfrastructureChecklist,
    Issue,
    MemberRole,
    Membership,
    StandingDuty,
    UpdateCycle,
)
from engagements.querysets import escalated_issue_q, escalated_task_q, late_cutoff
from engagements.rules import RULES, RuleName
from engagements.selectors.common import (
    PAGE_SIZE,
    CountedPaginator,
    expectation,
    letters_prefetch,
    urgency,
    url_maker,
)
from engagements.selectors.cycles import CYCLE_TASKS, next_step
from engagements.selectors.engagements import seed_tasks_of_many
from engagements.selectors.summary import SEVERITY_ORDER
from psaas_portal import prepared
from raci.choices import Phase


def my_work(user, *, page: int | str = 1, today: dt.date | None = None) -> dict:
    """Onboarding tasks where the user's seat is Responsible or Accountable, most urgent first.

    Queries: the counts (1, which also sizes the pages), the page (1), its letters (1),
    the person's seats on the page's engagements (1).
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
        # Operations tasks are worked through their concrete next operations (waiting_on_me),
        # never as a one-off "Not started · Act".
        .filter(phase=Phase.ONBOARDING)
        .annotate(
            urgency=urgency(today),
            my_membership_id=F("engagement__memberships__id"),
            my_role=F("parties__role_title"),
        )
        .filter(  # a letter with a role is the work of the members holding it
            Q(my_role="")
            | Q(
                Exists(
                    MemberRole.objects.filter(
                        membership_id=OuterRef("my_membership_id"), title=OuterRef("my_role")
                    )
                )
            )
        )
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
        .prefetch_related(letters_prefetch())
        .order_by(
            "urgency",
            F("due_date").asc(nulls_last=True),
            "engagement__name",
            "position",
            "environment",
        )
    )
    paginator = CountedPaginator(ordered, PAGE_SIZE, count=counts["total"])
    page_obj = paginator.get_page(page)
    seats = policy.seats_of(user, {task.engagement_id for task in page_obj.object_list})
    task_url = url_maker("engagements:task-detail")
    engagement_url = url_maker("engagements:engagement-detail")
    rows = [
        {
            "task": task,
            "url": task_url(task.pk),
            "engagement_url": engagement_url(task.engagement_id),
            "expected": expectation(task, seats.get(task.engagement_id)),
            "waiting_on": policy.waiting_on(task),
        }
        for task in page_obj.object_list
    ]
    present = operations_present(user)
    return {
        "counts": counts,
        "rows": rows,
        "page_obj": page_obj,
        "today": today,
        "to_review": checklists_to_review(user) if "checklists" in present else [],
        "operations_present": present,
    }


def my_work_page(user, *, page: int | str = 1) -> dict:
    """My work as its page shows it: my_work, the operations, questions and escalations
    waiting on the person (waiting_on_me), and whether there is nothing at all to do
    (`nothing_to_do`: no task, no checklist to review, nothing waiting)."""
    context = my_work(user, page=page)
    context["operations"] = waiting_on_me(user, present=context["operations_present"])
    context["nothing_to_do"] = not (
        context["rows"] or context["to_review"] or context["operations"]
    )
    return context


def _checklists_to_review(user) -> QuerySet[InfrastructureChecklist]:
    my_party = Membership.objects.filter(engagement_id=OuterRef("engagement_id"), user=user).values(
        "party_id"
    )[:1]
    return InfrastructureChecklist.objects.annotate(my_party=Subquery(my_party)).filter(
        policy.rule_q("checklist.review", user=user)
    )


def checklists_to_review(user) -> list[InfrastructureChecklist]:
    """Submitted checklists waiting on a party of the user's that is Consulted on them (1 query)."""
    return list(
        _checklists_to_review(user)
        .select_related("engagement__organization")
        .order_by("submitted_at")
    )


CYCLE_RULES: list[RuleName] = [
    "cycle.accept",
    "cycle.prepare_dev",
    "cycle.prepare_prod",
    "cycle.start_dev",
    "cycle.start_prod",
    "cycle.finish",
    "cycle.test",
]
ISSUE_RULES: list[RuleName] = [
    "issue.investigate",
    "issue.resolve",
    "issue.answer",
    "issue.close",
]


def _any(names: list[RuleName], user) -> Q:
    q = Q(pk__in=[])
    for name in names:
        q |= policy.rule_q(name, user=user)
    return q


def _candidates(user_id: int, now: dt.datetime, late_before: dt.datetime) -> dict[str, QuerySet]:
    """By kind, the operations in the user's engagements in a state that may wait on
    someone: a superset of what waits on the user, cheap to build (no rule). `late_before`
    is late_cutoff(now), a parameter of its own so the query can be compiled once."""
    mine = {"engagement__memberships__user_id": user_id}
    return {
        "cycles": UpdateCycle.objects.filter(state__in=OPEN_CYCLE_STATES, **mine),
        "duties": StandingDuty.objects.due_before(late_before)
        .filter(**mine)
        .exclude(engagement__state=EngagementState.CLOSED),
        "issues": Issue.objects.filter(state__in=(*OPEN_ISSUE_STATES, IssueState.RESOLVED), **mine),
        "handovers": Handover.objects.filter(
            state=HandoverState.SCHEDULED, starts_at__lt=now, **mine
        ),
        "checklists": InfrastructureChecklist.objects.filter(
            status__in=RULES["checklist.review"].states or (), **mine
        ),
        # Open questions put to the party the user sits in (answered by its members).
        "questions": Comment.objects.filter(
            addressed_to__isnull=False,
            answered_at__isnull=True,
            task__retired_at__isnull=True,
            task__engagement__memberships__user_id=user_id,
            task__engagement__memberships__party_id=F("addressed_to_id"),
        ),
        # Escalations open on the engagements where the user is the vendor's CSE.
        "escalated_tasks": EngagementTask.objects.live().filter(
            escalated_task_q(), **_as_cse(user_id, "engagement__")
        ),
        "escalated_issues": Issue.objects.filter(
            escalated_issue_q(), **_as_cse(user_id, "engagement__")
        ),
    }


def _as_cse(user_id: int, to_engagement: str) -> dict:
    memberships = f"{to_engagement}memberships__"
    return {
        f"{memberships}user_id": user_id,
        f"{memberships}party__is_vendor": True,
        f"{memberships}roles__title": settings.CSE_ROLE,
    }


def _waiting(user, now: dt.datetime, kind: str) -> QuerySet:
    """The operations of one kind waiting on the user's party: the candidates, with the
    party the user sits in, filtered by the rules that let that party act."""
    rules = {
        "cycles": lambda: _any(CYCLE_RULES, user),
        "duties": lambda: policy.rule_q("attestation.record", user=user),
        "issues": lambda: _any(ISSUE_RULES, user),
        "handovers": lambda: policy.rule_q("handover.record", user=user),
    }
    return (
        _candidates(user.pk, now, late_cutoff(now))[kind]
        .annotate(my_party=F("engagement__memberships__party_id"))
        .filter(rules[kind]())
    )


def operations_present(user, *, now: dt.datetime | None = None) -> set[str]:
    """Which kinds of operations (and checklists to review) may wait on the user at all, in
    one query over their engagements (no rule yet): on most visits there are none, and
    the kinds' own queries, which apply the rules, are then neither built nor run."""
    if not getattr(user, "is_authenticated", False):
        return set()
    now = now or timezone.now()
    found = prepared.rows(  # compiled once per process
        ("operations present",),
        _presence,
        user_id=user.pk,
        now=now,
        late_before=late_cutoff(now),
    )
    return {kind for (kind,) in found}


def _presence(user_id: int, now: dt.datetime, late_before: dt.datetime) -> QuerySet:
    kinds = [
        qs.annotate(waiting_kind=Value(kind, output_field=CharField()))
        .values_list("waiting_kind")
        .order_by()
        for kind, qs in _candidates(user_id, now, late_before).items()
    ]
    return kinds[0].union(*kinds[1:])


def waiting_on_me(
    user, *, now: dt.datetime | None = None, present: set[str] | None = None
) -> list[dict]:
    """Operations that wait on the user's party: update cycle steps, duties past due, issues
    in their court, a handover to record. One query tells which kinds may have any
    (`present`, when the caller has it), then one query per such kind (2 more for cycles:
    their seed tasks' letters and the seats), whatever the number of engagements."""
    now = now or timezone.now()
    if present is None:
        present = operations_present(user, now=now)
    items: list[dict] = []
    cycles = (
        list(
            _waiting(user, now, "cycles")
            .select_related("engagement__organization")
            .prefetch_related("stages")
            .order_by("created_at")[:50]
        )
        if "cycles" in present
        else []
    )
    tasks = seed_tasks_of_many({c.engagement_id for c in cycles}, CYCLE_TASKS) if cycles else {}
    seats = policy.seats_of(user, {c.engagement_id for c in cycles}) if cycles else {}
    for cycle in cycles:
        offered = policy.offered(
            user,
            cycle,
            names=CYCLE_RULES,
            tasks={key: tasks.get((cycle.engagement_id, key)) for key in CYCLE_TASKS},
            seat=seats.get(cycle.engagement_id),
        )
        step = next_step(cycle, offered)
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
        _waiting(user, now, "duties")
        .select_related("engagement__organization")
        .order_by("due_at")[:50]
        if "duties" in present
        else []
    ):
        items.append(
            {
                "what": f"{duty.get_kind_display()} is {duty.state_at(now)}: record an attestation",
                "engagement": duty.engagement,
                "url": reverse("engagements:duties", args=[duty.engagement_id]),
                "since": duty.due_at,
            }
        )
    for issue in (
        _waiting(user, now, "issues")
        .select_related("engagement__organization")
        .order_by(SEVERITY_ORDER, "created_at")[:50]
        if "issues" in present
        else []
    ):
        verb = {
            IssueState.WAITING: "Answer",
            IssueState.RESOLVED: "Confirm or reopen",
        }.get(IssueState(issue.state), "Resolve")
        items.append(
            {
                "what": f"{verb} issue #{issue.pk}: {issue.title}",
                "engagement": issue.engagement,
                "url": reverse("engagements:issue-detail", args=[issue.pk]),
                "since": issue.updated_at,
            }
        )
    for handover in (
        _waiting(user, now, "handovers").select_related("engagement__organization")[:50]
        if "handovers" in present
        else []
    ):
        items.append(
            {
                "what": "Record the Operations Handover as held",
                "engagement": handover.engagement,
                "url": reverse("engagements:handover", args=[handover.engagement_id]),
                "since": handover.starts_at,
            }
        )
    items.extend(_questions_and_escalations(user, present))
    return items


def _questions_and_escalations(user, present: set[str]) -> list[dict]:
    """Questions the user's party was asked and has not answered; for a CSE, the open
    escalations of their engagements (one query per kind present)."""
    items: list[dict] = []
    if not present & {"questions", "escalated_tasks", "escalated_issues"}:
        return items  # on most visits: no query to build
    now = timezone.now()
    candidates = _candidates(user.pk, now, late_cutoff(now))
    for question in (
        candidates["questions"]
        .select_related("author", "task__engagement__organization")
        .order_by("created_at")[:50]
        if "questions" in present
        else []
    ):
        asker = question.author.get_full_name() or question.author.username
        items.append(
            {
                "what": f"Answer {asker}'s question on {question.task.name}: "
                f"“{Truncator(question.body).chars(80)}”",
                "engagement": question.task.engagement,
                "url": reverse("engagements:task-detail", args=[question.task_id])
                + f"#comment-{question.pk}",
                "since": question.created_at,
            }
        )
    for task in (
        candidates["escalated_tasks"]
        .select_related("engagement__organization")
        .order_by("due_date", "pk")[:50]
        if "escalated_tasks" in present
        else []
    ):
        env = f" [{task.get_environment_display()}]" if task.environment else ""
        items.append(
            {
                "what": f"Escalated: {task.name}{env} is overdue since {task.due_date:%-d %b}",
                "engagement": task.engagement,
                "url": reverse("engagements:task-detail", args=[task.pk]),
                "since": task.due_date,
                "escalated": True,
            }
        )
    for issue in (
        candidates["escalated_issues"]
        .select_related("engagement__organization")
        .order_by(SEVERITY_ORDER, "created_at")[:50]
        if "escalated_issues" in present
        else []
    ):
        items.append(
            {
                "what": f"Escalated: issue #{issue.pk} ({issue.get_severity_display().lower()}) "
                f"is past its response target: {issue.title}",
                "engagement": issue.engagement,
                "url": reverse("engagements:issue-detail", args=[issue.pk]),
                "since": issue.escalated_at,
                "escalated": True,
            }
        )
    return items
