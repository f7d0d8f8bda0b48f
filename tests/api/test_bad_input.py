"""Bad input over the API: malformed JSON, unknown fields, wrong types, oversized bodies,
other media types, foreign ids. Each is a documented 4xx with a JSON error naming the field;
nothing is saved; never a 500."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from engagements.models import ChecklistItem, Comment, Event, InfrastructureChecklist, Issue
from tests.api.conftest import Caller, make_token
from tests.conftest import task_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller(engagement_a, engineer_a):
    return Caller(make_token(engineer_a)[1])


@pytest.fixture
def task(engagement_a):
    return task_of(engagement_a, "monitoring")


def transition(task):
    return reverse("api:task-transition", args=[task.pk])


@pytest.mark.parametrize(
    "body, field",
    [
        ("{not json", "body"),
        ('{"to": "in_progress",}', "body"),
        ("[" * 5000 + "]" * 5000, "body"),
        ('{"to": NaN}', "body"),
        ('{"to": "in_\\ud800progress"}', "to"),
        ("[1, 2]", "body"),
        ('"in_progress"', "body"),
        ({"to": "in_progress", "colour": "red"}, "colour"),
        ({"to": 3}, "to"),
        ({"to": "sideways"}, "to"),
        ({"to": "in_progress", "revision": "1"}, "revision"),
        ({"to": "in_progress", "revision": True}, "revision"),
        ({"to": "in_progress", "revision": 1.5}, "revision"),
        ({"to": "in_progress", "revision": 0}, "revision"),
        ({"to": "in_progress", "revision": 2**70}, "revision"),
        ({"to": "blocked", "reason": 12}, "reason"),
        ({"to": "blocked", "reason": ["x"]}, "reason"),
        ({"to": "blocked", "reason": "x" * 6000}, "reason"),
        ({"to": None}, "to"),
        ({}, "to"),
    ],
)
def test_a_bad_transition_body_is_a_400_naming_the_field(caller, task, body, field):
    response = caller.post(transition(task), body)
    assert response.status_code == 400, response.content
    data = response.json()
    assert field in data["fields"], data
    assert data["error"].startswith(field)
    task.refresh_from_db()
    assert task.status == "not_started" and not Event.objects.filter(task=task).exists()


def test_an_oversized_body_is_a_413(settings, caller, task):
    settings.API_MAX_BODY = 1024
    response = caller.post(transition(task), {"to": "blocked", "reason": "x" * 2000})
    assert response.status_code == 413 and "larger than 1024" in response.json()["error"]
    assert not Event.objects.filter(task=task).exists()


def test_a_form_body_is_a_415(caller, task):
    response = caller.client.post(transition(task), {"to": "in_progress"})  # multipart
    assert response.status_code == 415 and response.json()["error"]
    assert not Event.objects.filter(task=task).exists()


def test_asking_for_html_is_a_406(caller, task):
    response = caller.client.get(
        reverse("api:task-detail", args=[task.pk]), HTTP_ACCEPT="text/html"
    )
    assert response.status_code == 406


@pytest.mark.parametrize("pk", ["0", "999999999999999999"])
def test_unknown_ids_are_404(caller, pk):
    for name in ("task-detail", "engagement-detail", "issue-detail", "checklist-detail"):
        response = caller.get(f"{reverse(f'api:{name}', args=[1])[:-2]}{pk}/")
        assert response.status_code == 404, name
    response = caller.post(f"/api/v1/tasks/{pk}/transition/", {"to": "in_progress"})
    assert response.status_code == 404


def test_non_numeric_ids_are_404(caller):
    assert caller.get("/api/v1/tasks/abc/").status_code == 404
    assert caller.get("/api/v1/tasks/1e3/").status_code == 404


@pytest.mark.parametrize(
    "query, field",
    [
        ({"engagement": "x"}, "engagement"),
        ({"engagement": "-1"}, "engagement"),
        ({"status": "nope"}, "status"),
        ({"engagement": "9" * 30}, "engagement"),
        ({"engagement": ""}, "engagement"),
        ({"status": ["done", "blocked"]}, "status"),
        ({"page": ""}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "\u0663"}, "page"),  # a digit, but not an ASCII one
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": ["5", "6"]}, "page_size"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(caller, query, field):
    response = caller.get("/api/v1/tasks/", query)
    assert response.status_code == 400 and field in response.json()["fields"]


def test_bad_nested_checklist_items(caller, engagement_a):
    checklist = InfrastructureChecklist.objects.get(
        engagement=engagement_a, environment="development"
    )
    url = reverse("api:checklist-save", args=[checklist.pk])
    for body, field in [
        ({"items": {"teleporter": {"value": "1"}}}, "items.teleporter"),
        ({"items": {"memory": {"value": 16}}}, "items.memory.value"),
        ({"items": {"memory": {"confirmed": "yes"}}}, "items.memory.confirmed"),
        ({"items": {"memory": {"colour": "red"}}}, "items.memory.colour"),
        ({"items": {"memory": "16 GB"}}, "items.memory"),
        ({"items": ["memory"]}, "items"),
        ({"items": {"memory": {"value": "x" * 501}}}, "items.memory.value"),
    ]:
        response = caller.post(url, body)
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["fields"], (body, response.json())
    assert not ChecklistItem.objects.filter(checklist=checklist).exclude(value="").exists()
    checklist.refresh_from_db()
    assert checklist.revision == 1


def test_bad_issue_bodies_save_nothing(caller, engagement_a, engagement_b):
    good = {
        "engagement": engagement_a.pk,
        "title": "t",
        "environment": "production",
        "severity": "low",
        "description": "d",
    }
    for body, field in [
        ({**good, "engagement": engagement_b.pk}, "engagement"),
        ({**good, "engagement": str(engagement_a.pk)}, "engagement"),
        ({**good, "title": "x" * 201}, "title"),
        ({**good, "title": "   "}, None),
        ({**good, "severity": "apocalyptic"}, "severity"),
        ({**good, "raised_by": 1}, "raised_by"),
    ]:
        response = caller.post(reverse("api:issue-list"), body)
        assert response.status_code == 400, (body, response.content)
        if field:
            assert field in response.json()["fields"]
    assert not Issue.objects.exists()


def test_a_comment_with_a_nul_is_refused(caller, task):
    response = caller.post(
        reverse("api:task-comment", args=[task.pk]), json.dumps({"body": "a\u0000b"})
    )
    assert response.status_code == 400
    assert not Comment.objects.exists()
