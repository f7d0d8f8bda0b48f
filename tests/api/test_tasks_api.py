"""Engagements and tasks over the API: happy paths, 401/403/404, stale writes (409) and the
same rules as the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.actions.tasks import transition_task
from engagements.choices import Environment, TaskStatus
from engagements.models import Comment, Event, SignOff
from tests.api.conftest import Caller
from tests.conftest import task_of
from tests.factories import vendor_party

pytestmark = pytest.mark.django_db
DEV = Environment.DEVELOPMENT


def url(name, *args):
    return reverse(f"api:{name}", args=args)


def test_anonymous_gets_a_json_401(engagement_a):
    response = Caller().get(url("engagement-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "error" in response.json()


def test_the_engagement_list_shows_only_what_the_person_sees(
    as_user, engagement_a, engagement_b, engineer_a, cse
):
    mine = as_user(engineer_a).get(url("engagement-list")).json()
    assert [e["id"] for e in mine["results"]] == [engagement_a.pk]
    assert mine["count"] == 1 and mine["results"][0]["organization"]["name"] == "Subscriber A"
    both = as_user(cse).get(url("engagement-list")).json()
    assert {e["id"] for e in both["results"]} == {engagement_a.pk, engagement_b.pk}
    by_name = as_user(cse).get(url("engagement-list"), {"name": "appliance b"}).json()
    assert [e["id"] for e in by_name["results"]] == [engagement_b.pk]
    assert as_user(cse).get(url("engagement-list"), {"state": "live"}).json()["count"] == 0
    bad = as_user(cse).get(url("engagement-list"), {"state": "sideways"})
    assert bad.status_code == 400 and "state" in bad.json()["fields"]


def test_the_engagement_detail_carries_the_matrix(as_user, engagement_a, engineer_a):
    data = as_user(engineer_a).get(url("engagement-detail", engagement_a.pk)).json()
    assert [c["name"] for c in data["columns"]] == ["Auth0", "Subscriber"]
    deploy = next(r for r in data["rows"] if r["name"].startswith("Deployment"))
    assert [t["environment"] for t in deploy["tasks"]] == ["development", "production"]
    assert len(deploy["cells"]) == 2 and deploy["cells"][0]["responsible"] is True
    assert data["progress"]["applicable"] > 0


def test_a_foreign_engagement_and_task_are_404(as_user, engagement_a, engineer_b):
    caller = as_user(engineer_b)
    task = task_of(engagement_a, "monitoring")
    assert caller.get(url("engagement-detail", engagement_a.pk)).status_code == 404
    assert caller.get(url("task-detail", task.pk)).status_code == 404
    response = caller.post(url("task-transition", task.pk), {"to": "in_progress"})
    assert response.status_code == 404 and response.json()["error"]
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED


def test_tasks_list_with_filters(as_user, engagement_a, engagement_b, engineer_a):
    caller = as_user(engineer_a)
    data = caller.get(url("task-list"), {"engagement": engagement_a.pk, "environment": DEV}).json()
    assert data["count"] > 0
    assert {t["engagement"] for t in data["results"]} == {engagement_a.pk}
    assert {t["environment"] for t in data["results"]} == {DEV}
    assert caller.get(url("task-list"), {"engagement": engagement_b.pk}).json()["count"] == 0


def test_transition_happy_path_writes_the_event(as_user, engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    response = as_user(engineer_a).post(
        url("task-transition", task.pk), {"to": "in_progress", "revision": task.revision}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "in_progress" and body["revision"] == task.revision + 1
    event = Event.objects.get(task=task, verb="task.status_changed")
    assert event.actor == engineer_a and event.to_state == "in_progress"


def test_a_stale_revision_is_a_409_with_the_current_state(as_user, engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    seen = task.revision
    transition_task(task, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    response = as_user(engineer_a).post(
        url("task-transition", task.pk), {"to": "blocked", "reason": "x", "revision": seen}
    )
    assert response.status_code == 409
    body = response.json()
    assert "changed by someone else" in body["error"]
    assert body["current"]["status"] == "in_progress" and body["current"]["revision"] == seen + 1
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS


def test_refused_by_the_rules_is_a_403_with_the_rules_reason(as_user, engagement_a, engineer_a):
    deploy = task_of(engagement_a, "deployment", DEV)  # the subscriber is only Informed
    response = as_user(engineer_a).post(url("task-transition", deploy.pk), {"to": "in_progress"})
    assert response.status_code == 403
    assert (
        "Only the Responsible party's Auth0 Customer Success Engineer" in response.json()["error"]
    )
    deploy.refresh_from_db()
    assert deploy.status == TaskStatus.NOT_STARTED


def test_a_move_the_state_machine_has_not_is_a_400(as_user, engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    response = as_user(engineer_a).post(url("task-transition", task.pk), {"to": "signed_off"})
    assert response.status_code == 400 and response.json()["error"]


def test_sign_off_and_reopen(as_user, engagement_a, cse):
    deploy = task_of(engagement_a, "deployment", DEV)
    for to in (TaskStatus.IN_PROGRESS, TaskStatus.DONE):
        transition_task(deploy, to=to, actor=cse)
    caller = as_user(cse)
    response = caller.post(url("task-sign-off", deploy.pk), {"comment": "Looks good"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "signed_off"
    assert SignOff.objects.get(task=deploy).comment == "Looks good"
    again = caller.post(url("task-sign-off", deploy.pk), {})
    assert again.status_code == 409 and again.json()["current"]["status"] == "signed_off"
    assert caller.post(url("task-reopen", deploy.pk), {}).status_code == 400  # reason required
    response = caller.post(url("task-reopen", deploy.pk), {"reason": "Found a problem"})
    assert response.status_code == 200 and response.json()["status"] == "reopened"


def test_comment_and_question(as_user, engagement_a, engineer_a, cse):
    task = task_of(engagement_a, "monitoring")
    response = as_user(engineer_a).post(url("task-comment", task.pk), {"body": "Dashboards up"})
    assert response.status_code == 201
    assert Comment.objects.get(pk=response.json()["id"]).author == engineer_a
    unknown = as_user(engineer_a).post(
        url("task-comment", task.pk), {"body": "?", "addressed_to": 999999}
    )
    assert unknown.status_code == 400 and "addressed_to" in unknown.json()["fields"]
    not_consulted = as_user(engineer_a).post(
        url("task-comment", task.pk), {"body": "?", "addressed_to": vendor_party().pk}
    )
    assert not_consulted.status_code in (400, 403)
    assert Comment.objects.filter(task=task).count() == 1


def test_wrong_method_is_a_405(as_user, engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    caller = as_user(engineer_a)
    assert caller.get(url("task-transition", task.pk)).status_code == 405
    assert caller.post(url("task-detail", task.pk), {}).status_code == 405
    assert caller.client.delete(url("engagement-detail", engagement_a.pk)).status_code == 405
