"""Checklists, update cycles and issues over the API: the same services and rules as the
pages; refused writes save nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.actions.checklists import save_checklist
from engagements.actions.cycles import propose_cycle
from engagements.choices import ChecklistStatus, Environment, IssueState, TaskStatus
from engagements.models import Event, InfrastructureChecklist, Issue
from tests.conftest import task_of
from tests.factories import checklist_items, checklist_vms, update_windows


def api_vms() -> list[dict]:
    """The VMs as JSON numbers (the API takes integers, not the form's strings)."""
    return [
        {k: int(v) if k in ("processors", "memory_gb", "storage_gb") else v for k, v in vm.items()}
        for vm in checklist_vms()
    ]


pytestmark = pytest.mark.django_db
DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION


def url(name, *args):
    return reverse(f"api:{name}", args=args)


@pytest.fixture
def checklist(engagement_a):
    return InfrastructureChecklist.objects.get(engagement=engagement_a, environment=DEV)


def test_checklist_save_submit_accept(as_user, checklist, engineer_a, cse, engagement_a):
    subscriber, vendor = as_user(engineer_a), as_user(cse)
    listed = subscriber.get(url("checklist-list"), {"engagement": engagement_a.pk}).json()
    assert {c["environment"] for c in listed["results"]} == {DEV, PROD}
    response = subscriber.post(
        url("checklist-save", checklist.pk),
        {"items": {"memory": {"value": "16", "confirmed": True}}, "revision": 1},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "draft" and body["revision"] == 2
    assert next(i for i in body["items"] if i["key"] == "memory")["value"].startswith("16")
    # A malformed value is refused naming the item, and saves nothing of this request.
    refused = subscriber.post(
        url("checklist-submit", checklist.pk), {"items": {"storage": {"value": "1 TB"}}}
    )
    assert refused.status_code == 400 and "Storage" in refused.json()["error"]
    assert not checklist.items.get(key="storage").value
    # The vendor may not fill it in.
    assert vendor.post(url("checklist-save", checklist.pk), {"items": {}}).status_code == 403
    response = subscriber.post(
        url("checklist-submit", checklist.pk), {"items": checklist_items(), "vms": api_vms()}
    )
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    # The subscriber may not review its own checklist.
    assert (
        subscriber.post(url("checklist-review", checklist.pk), {"decision": "accept"}).status_code
        == 403
    )
    response = vendor.post(url("checklist-review", checklist.pk), {"decision": "accept"})
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert task_of(engagement_a, "infrastructure", DEV).status == TaskStatus.DONE


def test_checklist_stale_save_and_return_needs_a_comment(as_user, checklist, engineer_a, cse):
    save_checklist(
        checklist, actor=engineer_a, items=checklist_items(), vms=checklist_vms(), submit=True
    )
    stale = as_user(engineer_a).post(url("checklist-save", checklist.pk), {"revision": 1})
    assert stale.status_code == 409 and stale.json()["current"]["status"] == "submitted"
    vendor = as_user(cse)
    bare = vendor.post(url("checklist-review", checklist.pk), {"decision": "return"})
    assert bare.status_code == 400
    response = vendor.post(
        url("checklist-review", checklist.pk),
        {"decision": "return", "item_comments": {"dns_records": "Missing the admin host"}},
    )
    assert response.status_code == 200 and response.json()["status"] == "returned"
    checklist.refresh_from_db()
    assert checklist.status == ChecklistStatus.RETURNED


def test_cycles_are_read(as_user, engagement_a, engagement_b, cse, engineer_a, engineer_b):
    cycle = propose_cycle(engagement_a, actor=cse, release="2026.12.1", windows=update_windows())
    data = as_user(engineer_a).get(url("cycle-list")).json()
    assert [c["id"] for c in data["results"]] == [cycle.pk]
    detail = as_user(engineer_a).get(url("cycle-detail", cycle.pk)).json()
    assert detail["release"] == "2026.12.1" and {s["environment"] for s in detail["stages"]} == {
        DEV,
        PROD,
    }
    assert as_user(engineer_b).get(url("cycle-detail", cycle.pk)).status_code == 404
    assert as_user(engineer_b).get(url("cycle-list")).json()["count"] == 0


def raise_body(engagement, **extra):
    return {
        "engagement": engagement.pk,
        "title": "Emails not sent",
        "environment": PROD,
        "severity": "critical",
        "description": "SMTP relay refuses",
        "ticket_reference": "SC-12345",
        **extra,
    }


def test_issue_raise_and_move(as_user, engagement_a, engineer_a, cse):
    subscriber, vendor = as_user(engineer_a), as_user(cse)
    assert vendor.post(url("issue-list"), raise_body(engagement_a)).status_code == 403
    response = subscriber.post(url("issue-list"), raise_body(engagement_a))
    assert response.status_code == 201, response.content
    issue = Issue.objects.get(pk=response.json()["id"])
    assert issue.raised_by == engineer_a and issue.state == IssueState.OPEN
    assert Event.objects.filter(verb="issue.raised", data__issue=issue.pk).exists()
    refused = subscriber.post(url("issue-move", issue.pk), {"to": "resolved", "note": "me"})
    assert refused.status_code == 403 and refused.json()["error"]
    moved = vendor.post(url("issue-move", issue.pk), {"to": "investigating", "revision": 1})
    assert moved.status_code == 200, moved.content
    assert moved.json()["state"] == "investigating"
    stale = vendor.post(url("issue-move", issue.pk), {"to": "resolved", "note": "x", "revision": 1})
    assert stale.status_code == 409 and stale.json()["current"]["state"] == "investigating"
    listed = subscriber.get(url("issue-list"), {"state": "investigating"}).json()
    assert [i["id"] for i in listed["results"]] == [issue.pk]


def test_an_issue_on_a_foreign_engagement_is_refused_naming_the_field(
    as_user, engagement_b, engineer_a
):
    response = as_user(engineer_a).post(url("issue-list"), raise_body(engagement_b))
    assert response.status_code == 400
    assert response.json()["fields"] == {"engagement": ["No such engagement."]}
    assert not Issue.objects.exists()
