"""Nobody waits unknowingly (issue 12, item 1): whenever the next step belongs to someone
else, exactly those people are told it is their turn (derived from the policy rule of that
step), and nobody else hears "your turn"."""

from __future__ import annotations

import pytest

from engagements.actions.checklists import review_checklist, save_checklist
from engagements.actions.cycles import propose_cycle, record_test
from engagements.actions.issues import move_issue, raise_issue
from engagements.actions.membership import add_member
from engagements.actions.tasks import transition_task
from engagements.choices import Environment, IssueState, Severity, TaskStatus
from engagements.events import REGISTRY
from engagements.models import Event, InfrastructureChecklist, Notification
from engagements.rules import RULES
from tests.conftest import task_of
from tests.factories import (
    UserFactory,
    checklist_items,
    checklist_vms,
    subscriber_party,
    update_windows,
    vendor_party,
)

pytestmark = pytest.mark.django_db
DEV = Environment.DEVELOPMENT
CSE, ENGINEER = "Auth0 Customer Success Engineer", "subscriber's infrastructure engineer"


@pytest.fixture
def people(engagement_a, cse, engineer_a, vendor_org, org_a):
    """Two of each side holding the roles, plus one of each side holding none."""
    cse2 = UserFactory(username="cse-2", organization=vendor_org)
    eng2 = UserFactory(username="engineer-a2", organization=org_a)
    sales = UserFactory(username="vendor-sales", organization=vendor_org)
    intern = UserFactory(username="acme-intern", organization=org_a)
    add_member(engagement_a, cse2, party=vendor_party(), roles=[CSE])
    add_member(engagement_a, eng2, party=subscriber_party(), roles=[ENGINEER])
    add_member(engagement_a, sales, party=vendor_party())
    add_member(engagement_a, intern, party=subscriber_party())
    return {
        "cse": cse,
        "cse2": cse2,
        "sales": sales,
        "eng": engineer_a,
        "eng2": eng2,
        "intern": intern,
    }


def your_turn(verb: str) -> set[str]:
    """The people told "your turn" by the latest event of the kind, on both channels."""
    event = Event.objects.filter(verb=verb).latest("id")
    rows = Notification.objects.filter(event=event, reason="your_turn")
    by_channel = {
        channel: {n.recipient.username for n in rows if n.channel == channel}
        for channel in ("email", "portal")
    }
    assert by_channel["email"] == by_channel["portal"], by_channel
    return by_channel["email"]


def test_every_turn_names_a_rule_of_the_policy():
    for kind in REGISTRY.values():
        for reach in kind.reach:
            if reach.who == "turn":
                assert reach.rule in RULES, (kind.verb, reach.rule)


def test_the_checklist_goes_back_and_forth(engagement_a, people):
    checklist = InfrastructureChecklist.objects.get(engagement=engagement_a, environment=DEV)
    save_checklist(
        checklist, actor=people["eng"], items=checklist_items(), vms=checklist_vms(), submit=True
    )
    # The vendor's reviewers (Consulted on Preparing VM Infrastructure): every vendor member.
    assert your_turn("checklist.submitted") == {"cse", "cse-2", "vendor-sales"}
    checklist.refresh_from_db()
    review_checklist(checklist, actor=people["cse"], accept=False, comment="Add the DNS record")
    # Back to the subscriber's Responsible people: the infrastructure engineers only.
    assert your_turn("checklist.returned") == {"engineer-a", "engineer-a2"}


def test_work_done_is_the_signers_turn(engagement_a, people):
    deploy = task_of(engagement_a, "deployment", DEV)
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=people["cse"])
    deploy.refresh_from_db()
    transition_task(deploy, to=TaskStatus.DONE, actor=people["cse"])
    # Deployment's A names the CSE role: the other CSE, not the vendor's sales person.
    assert your_turn("task.status_changed") == {"cse-2"}


def test_windows_proposed_are_the_other_sides_turn(engagement_a, people):
    propose_cycle(engagement_a, actor=people["cse"], release="2026.12.1", windows=update_windows())
    # Updates: Auth0 R, Subscriber R, A; the vendor proposed, the subscriber agrees.
    assert your_turn("update.proposed") == {"engineer-a", "engineer-a2", "acme-intern"}


def test_a_passed_development_test_is_the_vendors_turn(engagement_a, people):
    from engagements.actions.cycles import accept_windows, finish_update, start_update
    from tests.engagements.test_operations import prepare

    cycle = propose_cycle(
        engagement_a, actor=people["cse"], release="2026.12.1", windows=update_windows()
    )
    accept_windows(cycle, actor=people["eng"])
    prepare(cycle, people["eng"])
    start_update(cycle, actor=people["cse"], environment=DEV)
    finish_update(cycle, actor=people["cse"], scripts="none")
    record_test(cycle, actor=people["eng"], result="passed")
    assert your_turn("update.test_passed") == {"cse", "cse-2", "vendor-sales"}


def test_an_issue_waiting_on_the_subscriber(engagement_a, people):
    issue = raise_issue(
        engagement_a,
        actor=people["eng"],
        title="Login slow",
        environment=Environment.PRODUCTION,
        severity=Severity.HIGH,
        description="p95 8 s",
        ticket_reference="SC-1",
    )
    move_issue(issue, actor=people["cse"], to=IssueState.INVESTIGATING)
    assert your_turn("issue.state_changed") == set()  # investigating: nobody else's turn
    move_issue(issue, actor=people["cse"], to=IssueState.WAITING, note="Which browser?")
    assert your_turn("issue.state_changed") == {"engineer-a", "engineer-a2", "acme-intern"}


def test_the_notification_page_groups_by_engagement_and_marks_turns(
    client_for, engagement_a, engagement_b, people
):
    from django.urls import reverse

    checklist = InfrastructureChecklist.objects.get(engagement=engagement_a, environment=DEV)
    save_checklist(
        checklist, actor=people["eng"], items=checklist_items(), vms=checklist_vms(), submit=True
    )
    html = client_for(people["cse"]).get(reverse("engagements:notifications")).content.decode()
    assert html.count('data-testid="notification-group"') == 1
    assert "Your turn" in html and engagement_a.name in html
