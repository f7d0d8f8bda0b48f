"""Every API route, walked with a token: anonymous gets 401, another tenant's object is a
404 (lists simply leave it out), and a person who sees the object but holds no letter for
the action gets 403 with the rule's reason. A new API route fails here until it is listed."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from api.models import Scope
from engagements.actions.checklists import save_checklist
from engagements.actions.cycles import propose_cycle
from engagements.actions.issues import raise_issue
from engagements.actions.tasks import add_comment, transition_task
from engagements.actions.tokens import create_attestation_token
from engagements.choices import Environment, TaskStatus
from engagements.models import Event, InfrastructureChecklist, Notification
from tests.api.conftest import Caller, make_token
from tests.conftest import task_of
from tests.factories import checklist_items, checklist_vms, subscriber_party, update_windows
from tests.test_isolation_walk import API_PK, portal_patterns


def api_vms() -> list[dict]:
    """The VMs as JSON numbers (the API takes integers, not the form's strings)."""
    return [
        {k: int(v) if k in ("processors", "memory_gb", "storage_gb") else v for k, v in vm.items()}
        for vm in checklist_vms()
    ]


pytestmark = pytest.mark.django_db
DEV = Environment.DEVELOPMENT

# Every API route that takes an object id, and how it is called: (method, JSON body).
DETAIL = {
    "api:engagement-detail": ("get", None),
    "api:task-detail": ("get", None),
    "api:task-transition": ("post", {"to": "in_progress"}),
    "api:task-sign-off": ("post", {}),
    "api:task-reopen": ("post", {"reason": "x"}),
    "api:task-comment": ("post", {"body": "x"}),
    "api:checklist-detail": ("get", None),
    "api:checklist-save": ("post", {}),
    "api:checklist-submit": ("post", {}),
    "api:checklist-review": ("post", {"decision": "accept"}),
    "api:cycle-detail": ("get", None),
    "api:issue-detail": ("get", None),
    "api:issue-move": ("post", {"to": "investigating"}),
    "api:event-detail": ("get", None),
    "api:notification-detail": ("get", None),
    "api:notification-read": ("post", None),
}
LISTS = {
    "api:engagement-list": ("get", None),
    "api:task-list": ("get", None),
    "api:checklist-list": ("get", None),
    "api:cycle-list": ("get", None),
    "api:issue-list": ("get", None),
    "api:event-list": ("get", None),
    "api:notification-list": ("get", None),
    "api:notification-read-all": ("post", None),
}
ELSEWHERE = {  # covered in their own tests
    "api:attestations",  # test_attestations_v1 (its own token)
    "api:schema",
    "api:docs",  # public, no data: test_schema
    "api:tokens",
    "api:token-revoke",  # the account page: test_tokens
}


def test_every_api_route_is_walked():
    names = {name for name, _ in portal_patterns() if name.startswith("api:")}
    assert names == set(DETAIL) | set(LISTS) | ELSEWHERE, sorted(
        names ^ (set(DETAIL) | set(LISTS) | ELSEWHERE)
    )


@pytest.fixture
def b_ids(engagement_b, cse):
    engineer_b = engagement_b.memberships.get(party__is_vendor=False).user
    deploy = task_of(engagement_b, "deployment", DEV)
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)
    transition_task(deploy, to=TaskStatus.BLOCKED, actor=cse, reason="Secret of subscriber B")
    add_comment(deploy, actor=cse, body="Secret of subscriber B")
    cycle = propose_cycle(engagement_b, actor=cse, release="B-release", windows=update_windows())
    issue = raise_issue(
        engagement_b,
        actor=engineer_b,
        title="Appliance B issue",
        environment="production",
        severity="high",
        description="Secret of subscriber B",
    )
    return {
        "engagement_id": engagement_b.pk,
        "task_id": deploy.pk,
        "checklist_id": InfrastructureChecklist.objects.filter(engagement=engagement_b).first().pk,
        "cycle_id": cycle.pk,
        "issue_id": issue.pk,
        "event_id": Event.objects.filter(engagement=engagement_b).first().pk,
        "notification_id": Notification.objects.filter(recipient=engineer_b, channel="portal")
        .first()
        .pk,
    }


def call(caller: Caller, name: str, how: tuple, ids: dict | None = None):
    method, payload = how
    kwargs = {}
    if ids is not None:
        kwargs["pk"] = ids[next(v for k, v in API_PK.items() if name.startswith(k + "-"))]
    url = reverse(name, kwargs=kwargs)
    if method == "get":
        return caller.get(url)
    return caller.post(url, json.dumps(payload) if payload is not None else "")


def b_state(engagement_b):
    return (
        Event.objects.filter(engagement=engagement_b).count(),
        list(engagement_b.tasks.order_by("pk").values_list("status", "revision")),
        list(
            Notification.objects.filter(engagement=engagement_b)
            .order_by("pk")
            .values_list("read_at", flat=True)
        ),
    )


def test_anonymous_gets_401_everywhere(engagement_b, b_ids):
    for name, how in {**DETAIL, **LISTS}.items():
        response = call(Caller(), name, how, b_ids if name in DETAIL else None)
        assert response.status_code == 401, (name, response.status_code)
        assert response["WWW-Authenticate"].startswith("Bearer")
    for bad in ("psap_wrong", "psat_wrong", ""):
        assert Caller(bad).get("/api/v1/engagements/").status_code == 401


@pytest.mark.parametrize("persona", ["engineer_a", "vendor_outsider"])
def test_another_tenants_objects_are_404_and_lists_leave_them_out(
    request, persona, engagement_a, engagement_b, b_ids
):
    caller = Caller(make_token(request.getfixturevalue(persona))[1])
    before = b_state(engagement_b)
    for name, how in DETAIL.items():
        response = call(caller, name, how, b_ids)
        assert response.status_code == 404, (name, response.status_code)
        assert response.json()["error"]
    for name, how in LISTS.items():
        response = call(caller, name, how)
        assert response.status_code == 200, (name, response.status_code)
        assert b"Appliance B" not in response.content, name
        assert b"Secret of subscriber B" not in response.content, name
    assert b_state(engagement_b) == before


@pytest.fixture
def a_objects(engagement_a, engineer_a, cse):
    checklist = InfrastructureChecklist.objects.get(engagement=engagement_a, environment=DEV)
    issue = raise_issue(
        engagement_a,
        actor=engineer_a,
        title="t",
        environment="production",
        severity="low",
        description="d",
    )
    return {"checklist": checklist, "issue": issue}


def test_visible_but_not_allowed_is_403_with_the_rules_reason(
    engagement_a, engineer_a, cse, a_objects
):
    deploy = task_of(engagement_a, "deployment", DEV)
    monitoring = task_of(engagement_a, "monitoring")
    for to in (TaskStatus.IN_PROGRESS, TaskStatus.DONE):
        transition_task(deploy, to=to, actor=cse)
    subscriber = Caller(make_token(engineer_a)[1])
    vendor = Caller(make_token(cse)[1])
    checklist, issue = a_objects["checklist"], a_objects["issue"]
    refused = [
        (subscriber, f"/api/v1/tasks/{deploy.pk}/sign-off/", {}),
        # a question to a Consulted party is asked by the Responsible party only
        (
            vendor,
            f"/api/v1/tasks/{monitoring.pk}/comments/",
            {"body": "?", "addressed_to": subscriber_party().pk},
        ),
        (vendor, f"/api/v1/checklists/{checklist.pk}/save/", {}),
        (
            vendor,
            f"/api/v1/checklists/{checklist.pk}/submit/",
            {"items": checklist_items(), "vms": api_vms()},
        ),
        (subscriber, f"/api/v1/issues/{issue.pk}/move/", {"to": "resolved", "note": "me"}),
        (
            vendor,
            "/api/v1/issues/",
            {
                "engagement": engagement_a.pk,
                "title": "t",
                "environment": "production",
                "severity": "low",
                "description": "d",
            },
        ),
    ]
    before = Event.objects.count()
    for caller, url, body in refused:
        response = caller.post(url, body)
        assert response.status_code == 403, (url, response.status_code, response.content)
        assert response.json()["error"].startswith(("Only", "The")), response.json()
    assert Event.objects.count() == before
    save_checklist(
        checklist, actor=engineer_a, items=checklist_items(), vms=checklist_vms(), submit=True
    )
    before = Event.objects.count()
    response = subscriber.post(f"/api/v1/checklists/{checklist.pk}/review/", {"decision": "accept"})
    assert response.status_code == 403 and "Only" in response.json()["error"]
    assert Event.objects.count() == before


def test_a_read_only_token_is_403_on_every_write(engagement_a, engineer_a, a_objects):
    caller = Caller(make_token(engineer_a, Scope.READ)[1])
    ids = {
        "task_id": task_of(engagement_a, "monitoring").pk,
        "checklist_id": a_objects["checklist"].pk,
        "issue_id": a_objects["issue"].pk,
        "notification_id": 1,
    }
    before = Event.objects.count()
    for name, how in {**DETAIL, **LISTS}.items():
        if how[0] != "post":
            continue
        response = call(caller, name, how, ids if name in DETAIL else None)
        assert response.status_code == 403, (name, response.status_code)
        assert "read-only" in response.json()["error"]
    assert caller.post("/api/v1/issues/", {"engagement": engagement_a.pk}).status_code == 403
    assert Event.objects.count() == before


def test_an_attestation_token_is_not_a_personal_token(engagement_a, engineer_a):
    _, raw = create_attestation_token(engagement_a, actor=engineer_a, name="nightly")
    assert Caller(raw).get("/api/v1/engagements/").status_code == 401
