"""Reads for issues: the list with its filters, and one issue with its moves and timeline."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator

from engagements import policy
from engagements.choices import OPEN_ISSUE_STATES, IssueScope, IssueState, SeedTask
from engagements.models import Engagement, Event, Issue
from engagements.selectors.attached import Removal, attached, attached_to
from engagements.selectors.engagements import seed_tasks_of
from engagements.selectors.summary import SEVERITY_ORDER
from engagements.states import ISSUE

ISSUE_TASKS = [SeedTask.ISSUE_IDENTIFICATION, SeedTask.ISSUE_RESOLUTION]


def issues_page(engagement: Engagement, *, user: Any, page: Any = 1, state: str = "open") -> dict:
    issues = engagement.issues.select_related("raised_by", "cycle")
    if state == "open":
        issues = issues.filter(state__in=OPEN_ISSUE_STATES)
    elif state in IssueState.values:
        issues = issues.filter(state=state)
    page_obj = Paginator(issues.order_by(SEVERITY_ORDER, "-created_at", "-id"), 50).get_page(page)
    tasks = seed_tasks_of(engagement.pk, [SeedTask.ISSUE_IDENTIFICATION])
    return {
        "engagement": engagement,
        "issues": page_obj,
        "page_obj": page_obj,
        "state": state,
        "states": IssueState.choices,
        "can_raise": "issue.raise"
        in policy.offered(user, engagement, names=["issue.raise"], tasks=tasks),
    }


def issue_page(issue: Issue, *, user: Any) -> dict:
    tasks = seed_tasks_of(issue.engagement_id, ISSUE_TASKS)
    offered = policy.offered(user, issue, tasks=tasks)
    moves = [(to, move) for to, move in ISSUE.moves_from(issue.state) if move.rule in offered]
    events = list(
        Event.objects.filter(engagement_id=issue.engagement_id, data__issue=issue.pk)
        .select_related("actor", "task")
        .order_by("created_at", "id")
    )
    can_attach = "issue.attach" in offered
    rows = (
        attached(issue.attached_rows)
        if hasattr(issue, "attached_rows")
        else attached_to(Issue.objects.filter(pk=issue.pk), "issue")
    )
    return {
        "attached": Removal(user, issue.engagement, can_attach=can_attach).mark(rows),
        "can_attach": can_attach,
        "engagement": issue.engagement,
        "issue": issue,
        "moves": moves,
        "events": events,
        "offered": offered,
        "scope_choices": IssueScope.choices,
    }
