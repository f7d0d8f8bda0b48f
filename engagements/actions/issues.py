from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from engagements.choices import (
    Environment,
    IssueState,
    Severity,
)
from engagements.cleaning import clean_text
from engagements.errors import Conflict, DomainError, NotAllowed
from engagements.events import record_event
from engagements.models import (
    Engagement,
    EngagementTask,
    Issue,
    UpdateCycle,
)
from engagements.policy import member_party_id, require, seed_task, side_on

IDENTIFICATION, RESOLUTION = "issue_identification", "issue_resolution"


REPORTER, RESOLVER = "reporter", "resolver"


@dataclass(frozen=True)
class IssueMove:
    label: str
    by: str
    needs_note: bool = False


ISSUE_MOVES: dict[tuple[str, str], IssueMove] = {
    (IssueState.OPEN, IssueState.INVESTIGATING): IssueMove("Start investigating", RESOLVER),
    (IssueState.OPEN, IssueState.WAITING): IssueMove("Ask the subscriber…", RESOLVER, True),
    (IssueState.OPEN, IssueState.RESOLVED): IssueMove("Resolve…", RESOLVER, True),
    (IssueState.INVESTIGATING, IssueState.WAITING): IssueMove(
        "Ask the subscriber…", RESOLVER, True
    ),
    (IssueState.INVESTIGATING, IssueState.RESOLVED): IssueMove("Resolve…", RESOLVER, True),
    (IssueState.WAITING, IssueState.INVESTIGATING): IssueMove("Answer…", REPORTER, True),
    (IssueState.RESOLVED, IssueState.CLOSED): IssueMove("Close", REPORTER),
    (IssueState.RESOLVED, IssueState.OPEN): IssueMove("Reopen…", REPORTER, True),
}


def issue_roles(engagement_id: int, user) -> set[str]:
    """REPORTER (Responsible for Issue Identification), RESOLVER (for Issue Resolution)."""
    party_id = member_party_id(engagement_id, user)
    roles = set()
    if side_on(seed_task(engagement_id, IDENTIFICATION), party_id).responsible:
        roles.add(REPORTER)
    if side_on(seed_task(engagement_id, RESOLUTION), party_id).responsible:
        roles.add(RESOLVER)
    return roles


def create_issue(
    engagement, *, actor, title, environment, severity, description, **links
) -> Issue:
    if environment not in Environment.values:
        raise DomainError("Choose the environment: Development or Production.")
    if severity not in Severity.values:
        raise DomainError("Choose a severity.")
    issue = Issue.objects.create(
        engagement=engagement,
        title=clean_text(title, "title", required=True)[:200],
        environment=environment,
        severity=severity,
        description=clean_text(description, "description", required=True),
        ticket_reference=clean_text(links.pop("ticket_reference", ""), "ticket", required=False)[
            :60
        ],
        raised_by=actor,
        **links,
    )
    record_event(
        engagement,
        "issue.raised",
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
    cycle: UpdateCycle | None = None,
    origin_task: EngagementTask | None = None,
) -> Issue:
    require(seed_task(engagement, IDENTIFICATION), actor, "responsible", doing="raise issues")
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
    move = ISSUE_MOVES.get((issue.state, to))
    if move is None:
        label = dict(IssueState.choices).get(to, to)
        raise DomainError(
            f"Issue #{issue.pk} cannot go from {issue.get_state_display().lower()} to {str(label).lower()}."
        )
    if move.by not in issue_roles(issue.engagement_id, actor):
        who = "the party that raised it" if move.by == REPORTER else "the vendor, who resolves it"
        raise NotAllowed(f"Only {who} can {move.label.rstrip('…').lower()} issue #{issue.pk}.")
    note = clean_text(note, "note", required=move.needs_note)
    before = issue.state
    issue.state = to
    if to == IssueState.RESOLVED:
        issue.resolution = note
    issue.revision += 1
    issue.save()
    task = seed_task(issue.engagement_id, RESOLUTION if move.by == RESOLVER else IDENTIFICATION)
    record_event(
        issue.engagement,
        "issue.state_changed",
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
    if REPORTER not in issue_roles(issue.engagement_id, actor):
        raise NotAllowed("Only the party that raises issues records the Support Center ticket.")
    reference = clean_text(reference, "ticket reference", required=True)
    if len(reference) > 60:
        raise DomainError("A ticket reference is at most 60 characters.")
    issue.ticket_reference = reference
    issue.revision += 1
    issue.save()
    record_event(
        issue.engagement,
        "issue.ticket_recorded",
        actor=actor,
        task=seed_task(issue.engagement_id, IDENTIFICATION),
        data={
            "issue": issue.pk,
            "summary": f"recorded Support Center ticket {reference} for issue #{issue.pk}",
        },
    )
    return issue
