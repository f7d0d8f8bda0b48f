"""Issues as the seed words them (issue 12, item 5): the scope decides who resolves; the
Support Center ticket comes before the investigation and is a link."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.actions.issues import move_issue, set_issue_scope
from engagements.choices import IssueState
from engagements.errors import DomainError, NotAllowed
from engagements.models import Event, Issue
from tests.factories import raise_production_issue

pytestmark = pytest.mark.django_db


def test_the_ticket_comes_before_the_investigation(engagement_a, engineer_a, cse):
    issue = raise_production_issue(engagement_a, engineer_a)
    with pytest.raises(DomainError, match="Support Center ticket first"):
        move_issue(issue, actor=cse, to=IssueState.INVESTIGATING)
    with pytest.raises(DomainError, match="not a ticket reference"):
        raise_production_issue(engagement_a, engineer_a, ticket_reference="call me")
    issue.refresh_from_db()
    assert issue.state == IssueState.OPEN and Issue.objects.count() == 1


def test_an_integration_issue_is_resolved_by_the_subscriber(engagement_a, engineer_a, cse):
    issue = raise_production_issue(engagement_a, engineer_a, ticket_reference="SC-77")
    with pytest.raises(NotAllowed, match="vendor's Responsible people on Issue Resolution"):
        set_issue_scope(issue, actor=engineer_a, scope="integration", reason="ours")
    with pytest.raises(DomainError, match="reason"):
        set_issue_scope(issue, actor=cse, scope="integration", reason="")
    set_issue_scope(issue, actor=cse, scope="integration", reason="It is the app's callback URL")
    event = Event.objects.get(verb="issue.scope_changed")
    assert "It is the app's callback URL" in event.data["summary"]
    issue.refresh_from_db()
    # The vendor consults; the subscriber investigates and resolves.
    with pytest.raises(NotAllowed):
        move_issue(issue, actor=cse, to=IssueState.INVESTIGATING)
    move_issue(issue, actor=engineer_a, to=IssueState.INVESTIGATING)
    issue.refresh_from_db()
    move_issue(issue, actor=engineer_a, to=IssueState.RESOLVED, note="Fixed the callback URL")
    issue.refresh_from_db()
    assert issue.state == IssueState.RESOLVED


def test_the_issue_page_links_the_ticket_and_offers_the_scope(
    client_for, engagement_a, engineer_a, cse, settings
):
    settings.ISSUE_TICKET_URL = "https://support.example.com/tickets/{ticket}"
    issue = raise_production_issue(engagement_a, engineer_a, ticket_reference="SC-77")
    page = client_for(cse).get(reverse("engagements:issue-detail", args=[issue.pk])).content
    html = page.decode()
    assert 'href="https://support.example.com/tickets/SC-77"' in html
    assert "Change where it lies" in html
    subscriber_view = (
        client_for(engineer_a).get(reverse("engagements:issue-detail", args=[issue.pk])).content
    )
    assert b"Change where it lies" not in subscriber_view
