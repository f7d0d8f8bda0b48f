from __future__ import annotations

from django.core.paginator import Paginator

from engagements.actions.issues import IDENTIFICATION, ISSUE_MOVES, REPORTER, RESOLUTION, RESOLVER
from engagements.choices import (
    OPEN_ISSUE_STATES,
    IssueState,
)
from engagements.models import (
    Engagement,
    Event,
    Issue,
)
from engagements.policy import member_party_id, side_on
from engagements.selectors.engagements import SEVERITY_ORDER, seed_tasks_of


def issues_page(engagement: Engagement, *, user, page=1, state: str = "open") -> dict:
    issues = engagement.issues.select_related("raised_by", "cycle")
    if state == "open":
        issues = issues.filter(state__in=OPEN_ISSUE_STATES)
    elif state in IssueState.values:
        issues = issues.filter(state=state)
    page_obj = Paginator(issues.order_by(SEVERITY_ORDER, "-created_at", "-id"), 50).get_page(page)
    party = member_party_id(engagement.pk, user)
    tasks = seed_tasks_of(engagement.pk, [IDENTIFICATION])
    return {
        "engagement": engagement,
        "issues": page_obj,
        "page_obj": page_obj,
        "state": state,
        "states": IssueState.choices,
        "can_raise": side_on(tasks.get(IDENTIFICATION), party).responsible,
    }


def issue_page(issue: Issue, *, user) -> dict:
    party = member_party_id(issue.engagement_id, user)
    tasks = seed_tasks_of(issue.engagement_id, [IDENTIFICATION, RESOLUTION])
    roles = set()
    if side_on(tasks.get(IDENTIFICATION), party).responsible:
        roles.add(REPORTER)
    if side_on(tasks.get(RESOLUTION), party).responsible:
        roles.add(RESOLVER)
    moves = [
        (to, move)
        for (frm, to), move in ISSUE_MOVES.items()
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
        "is_reporter": REPORTER in roles,
    }
