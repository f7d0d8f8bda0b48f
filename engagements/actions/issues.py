"""Issues with the appliance: the subscriber raises them (and submits them to the Support
Center), the vendor investigates, asks and resolves, the subscriber answers, closes or
reopens; a failed Development test raises one too."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction

from engagements import events, policy
from engagements.actions.engagements import check_environment
from engagements.audit import record_event
from engagements.choices import (
    IssueScope,
    IssueState,
    SeedTask,
    Severity,
)
from engagements.cleaning import clean_text
from engagements.errors import Conflict, DomainError
from engagements.models import (
    Engagement,
    EngagementTask,
    Issue,
    UpdateCycle,
)
from engagements.policy import seed_task
from engagements.rules import RULES
from engagements.states import ISSUE

IDENTIFICATION, RESOLUTION = SeedTask.ISSUE_IDENTIFICATION, SeedTask.ISSUE_RESOLUTION


def clean_ticket(reference: str, *, required: bool) -> str:
    """A Support Center ticket reference in the configured format (settings)."""
    reference = clean_text(reference, "ticket reference", required=required)
    if not reference:
        return ""
    if len(reference) > 60 or not re.fullmatch(settings.ISSUE_TICKET_PATTERN, reference):
        raise DomainError(
            f"Support Center ticket: {reference!r} is not a ticket reference of the Support "
            "Center (e.g. SC-20417)."
        )
    return reference


def create_issue(
    engagement,
    *,
    actor,
    title,
    environment,
    severity,
    description,
    scope=IssueScope.CORE,
    **links,
) -> Issue:
    check_environment(engagement, environment)
    if severity not in Severity.values:
        raise DomainError("Choose a severity.")
    if scope not in IssueScope.values:
        raise DomainError("Scope: choose the appliance's core or the integration.")
    ticket = clean_ticket(links.pop("ticket_reference", ""), required=False)
    issue = Issue.objects.create(
        engagement=engagement,
        title=clean_text(title, "title", required=True)[:200],
        environment=environment,
        severity=severity,
        description=clean_text(description, "description", required=True),
        ticket_reference=ticket,
        scope=scope,
        raised_by=actor,
        **links,
    )
    record_event(
        engagement,
        events.ISSUE_RAISED,
        actor=actor,
        task=seed_task(engagement, IDENTIFICATION),
        to_state=IssueState.OPEN,
        data={
            "issue": issue.pk,
            "summary": f"raised issue #{issue.pk} ({issue.get_severity_display().split(':')[0]}, "
            f"{issue.get_environment_display()}): {issue.title}",
        },
    )
    return issue


@transaction.atomic
def raise_issue(
    engagement: Engagement,
    *,
    actor,
    title: str,
    environment: str,
    severity: str,
    description: str,
    ticket_reference: str = "",
    scope: str = IssueScope.CORE,
    cycle: UpdateCycle | None = None,
    origin_task: EngagementTask | None = None,
) -> Issue:
    policy.check(actor, "issue.raise", engagement)
    for linked in (cycle, origin_task):
        if linked is not None and linked.engagement_id != engagement.pk:
            raise DomainError("An issue can only link to this engagement's own work.")
    return create_issue(
        engagement,
        actor=actor,
        title=title,
        environment=environment,
        severity=severity,
        description=description,
        ticket_reference=ticket_reference,
        scope=scope,
        cycle=cycle,
        origin_task=origin_task,
    )


def _locked_issue(issue: Issue | int, revision: int | None) -> Issue:
    pk = issue if isinstance(issue, int) else issue.pk
    locked = Issue.objects.select_for_update(of=("self",)).select_related("engagement").get(pk=pk)
    if revision is not None and revision != locked.revision:
        raise Conflict(
            f"Issue #{locked.pk} was changed by someone else since you opened it "
            f"(it is now {locked.get_state_display().lower()}). Nothing was saved; try again."
        )
    return locked


@transaction.atomic
def move_issue(
    issue: Issue, *, actor, to: str, note: str = "", revision: int | None = None
) -> Issue:
    issue = _locked_issue(issue, revision)
    move = ISSUE.check(issue, to, what=f"Issue #{issue.pk}")
    rule = RULES[move.rule]  # type: ignore[index]
    task = seed_task(issue.engagement_id, rule.task or IDENTIFICATION)
    policy.check(actor, move.rule, issue, task=task)  # type: ignore[arg-type]
    note = clean_text(note, "note", required=move.needs_reason)
    before = ISSUE.apply(issue, to)
    if to == IssueState.RESOLVED:
        issue.resolution = note
    issue.revision += 1
    issue.save()
    record_event(
        issue.engagement,
        events.ISSUE_STATE_CHANGED,
        actor=actor,
        task=task,
        from_state=before,
        to_state=to,
        data={
            "issue": issue.pk,
            "note": note,
            "summary": f"moved issue #{issue.pk} from {IssueState(before).label.lower()} to "
            f"{IssueState(to).label.lower()}" + (f": {note}" if note else ""),
        },
    )
    return issue


@transaction.atomic
def set_ticket_reference(
    issue: Issue, *, actor, reference: str, revision: int | None = None
) -> Issue:
    """The Support Center ticket, once the subscriber has submitted it."""
    issue = _locked_issue(issue, revision)
    policy.check(actor, "issue.ticket", issue)
    reference = clean_ticket(reference, required=True)
    issue.ticket_reference = reference
    issue.revision += 1
    issue.save()
    record_event(
        issue.engagement,
        events.ISSUE_TICKET_RECORDED,
        actor=actor,
        task=seed_task(issue.engagement_id, IDENTIFICATION),
        data={
            "issue": issue.pk,
            "summary": f"recorded Support Center ticket {reference} for issue #{issue.pk}",
        },
    )
    return issue


@transaction.atomic
def set_issue_scope(
    issue: Issue, *, actor, scope: str, reason: str, revision: int | None = None
) -> Issue:
    """Where the issue lies decides who resolves it: the vendor for the appliance's core,
    the subscriber (the vendor consulting) for the integration. The vendor's Responsible
    people on Issue Resolution decide, with a reason; an event."""
    issue = _locked_issue(issue, revision)
    task = seed_task(issue.engagement_id, RESOLUTION)
    policy.check(actor, "issue.scope", issue, task=task)
    if scope not in IssueScope.values:
        raise DomainError("Scope: choose the appliance's core or the integration.")
    if scope == issue.scope:
        raise DomainError(f"Issue #{issue.pk} already lies there.")
    reason = clean_text(reason, "reason", required=True)
    before = issue.scope
    issue.scope = scope
    issue.revision += 1
    issue.save()
    record_event(
        issue.engagement,
        events.ISSUE_SCOPE_CHANGED,
        actor=actor,
        task=seed_task(issue.engagement_id, IDENTIFICATION),
        data={
            "issue": issue.pk,
            "reason": reason,
            "summary": f"moved issue #{issue.pk} from {IssueScope(before).label.split(' (')[0]} "
            f"to {IssueScope(scope).label.split(' (')[0]}: {reason}",
        },
    )
    return issue
