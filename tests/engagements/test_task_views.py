"""Task actions over HTTP: happy path, wrong method, foreign user, not allowed, bad input, repeat."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.choices import Environment, TaskStatus
from engagements.models import Comment, Event, SignOff
from tests.conftest import task_of
from tests.factories import vendor_party

pytestmark = pytest.mark.django_db
DEV = Environment.DEVELOPMENT


def post_move(client, task, to, **extra):
    task.refresh_from_db()
    data = {"to": to, "revision": task.revision, **extra}
    return client.post(
        reverse("engagements:task-transition", args=[task.pk]), data, **extra.pop("headers", {})
    )


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_happy_path_plain_post_redirects_with_a_message(client_for, engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    client = client_for(engineer_a)
    response = post_move(client, task, TaskStatus.IN_PROGRESS)
    assert response.status_code == 302
    assert response["Location"] == reverse("engagements:task-detail", args=[task.pk])
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    page = client.get(response["Location"])
    assert "Status updated." in page.content.decode()


def test_happy_path_htmx_renders_the_panel_in_place(client_for, engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    response = client_for(engineer_a).post(
        reverse("engagements:task-transition", args=[task.pk]),
        {"to": TaskStatus.IN_PROGRESS, "revision": task.revision},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="task-{task.pk}"' in html and "hx-swap-oob" in html
    assert "In progress" in html and "<html" not in html


def test_wrong_method(client_for, engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    client = client_for(engineer_a)
    for name in ("task-transition", "task-sign-off", "task-reopen", "task-comment"):
        assert client.get(reverse(f"engagements:{name}", args=[task.pk])).status_code == 405
    assert client.post(reverse("engagements:task-detail", args=[task.pk])).status_code == 405


def test_foreign_user_gets_404_and_nothing_changes(client_for, engagement_a, engineer_b):
    task = task_of(engagement_a, "monitoring")
    client = client_for(engineer_b)
    assert client.get(reverse("engagements:task-detail", args=[task.pk])).status_code == 404
    assert post_move(client, task, TaskStatus.IN_PROGRESS).status_code == 404
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED


def test_visible_but_not_allowed_gets_403_with_a_message(client_for, engagement_a, engineer_a):
    deploy = task_of(engagement_a, "deployment", DEV)  # the subscriber is only Informed
    response = post_move(client_for(engineer_a), deploy, TaskStatus.IN_PROGRESS)
    assert response.status_code == 403
    assert "Only the Responsible party's Auth0 Customer Success Engineer can move" in (
        messages_of(response)
    )
    deploy.refresh_from_db()
    assert deploy.status == TaskStatus.NOT_STARTED


def test_the_page_shows_only_the_actions_allowed_now(client_for, engagement_a, engineer_a, cse):
    deploy = task_of(engagement_a, "deployment", DEV)
    url = reverse("engagements:task-detail", args=[deploy.pk])
    engineer_html = client_for(engineer_a).get(url).content.decode()
    assert 'name="to"' not in engineer_html  # no move forms for an Informed party
    assert "Nothing for your party to do" in engineer_html
    cse_html = client_for(cse).get(url).content.decode()
    assert ">Start<" in cse_html


@pytest.mark.parametrize(
    "data, message",
    [
        ({"to": "finished"}, "Select a valid choice"),
        ({"to": TaskStatus.DONE}, "cannot go from not started to done"),
        ({"to": TaskStatus.BLOCKED, "reason": ""}, "reason is required"),
        ({"to": TaskStatus.IN_PROGRESS, "revision": "abc"}, "Enter a whole number"),
    ],
)
def test_bad_input_gets_a_message_and_changes_nothing(
    client_for, engagement_a, engineer_a, data, message
):
    task = task_of(engagement_a, "monitoring")
    payload = {"revision": task.revision, **data}
    response = client_for(engineer_a).post(
        reverse("engagements:task-transition", args=[task.pk]), payload
    )
    assert response.status_code == 400
    assert message in messages_of(response)
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED
    assert not Event.objects.filter(task=task).exists()


def test_forged_ids_are_404(client_for, engagement_a, engineer_a):
    client = client_for(engineer_a)
    assert client.get(reverse("engagements:task-detail", args=[999999])).status_code == 404
    assert (
        client.post(
            reverse("engagements:task-transition", args=[999999]),
            {"to": "in_progress", "revision": 1},
        ).status_code
        == 404
    )


def test_a_replayed_form_is_a_conflict(client_for, engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    client = client_for(engineer_a)
    data = {"to": TaskStatus.IN_PROGRESS, "revision": task.revision}
    url = reverse("engagements:task-transition", args=[task.pk])
    assert client.post(url, data).status_code == 302
    replay = client.post(url, data)
    assert replay.status_code == 409
    assert "changed by someone else" in messages_of(replay)
    assert Event.objects.filter(task=task).count() == 1


def test_sign_off_and_reopen_over_http(client_for, engagement_a, cse, engineer_a):
    deploy = task_of(engagement_a, "deployment", DEV)
    client = client_for(cse)
    post_move(client, deploy, TaskStatus.IN_PROGRESS)
    post_move(client, deploy, TaskStatus.DONE)
    deploy.refresh_from_db()
    response = client.post(
        reverse("engagements:task-sign-off", args=[deploy.pk]),
        {"revision": deploy.revision, "comment": "All good"},
    )
    assert response.status_code == 302
    page = client.get(reverse("engagements:task-detail", args=[deploy.pk])).content.decode()
    assert "signed off Development" in page and "All good" in page
    deploy.refresh_from_db()
    # Reopen: the subscriber (Informed) may not; without a reason it is refused.
    other = client_for(engineer_a).post(
        reverse("engagements:task-reopen", args=[deploy.pk]),
        {"revision": deploy.revision, "reason": "x"},
    )
    assert other.status_code == 403
    client = client_for(cse)
    assert (
        client.post(
            reverse("engagements:task-reopen", args=[deploy.pk]),
            {"revision": deploy.revision, "reason": ""},
        ).status_code
        == 400
    )
    assert (
        client.post(
            reverse("engagements:task-reopen", args=[deploy.pk]),
            {"revision": deploy.revision, "reason": "Redo"},
        ).status_code
        == 302
    )
    deploy.refresh_from_db()
    assert deploy.status == TaskStatus.REOPENED
    assert SignOff.objects.filter(task=deploy).count() == 1


def test_comment_and_question_over_http(client_for, engagement_a, engineer_a):
    task = task_of(engagement_a, "code_integration")
    client = client_for(engineer_a)
    url = reverse("engagements:task-comment", args=[task.pk])
    assert (
        client.post(url, {"body": "Which SDK?", "addressed_to": vendor_party().pk}).status_code
        == 302
    )
    assert client.post(url, {"body": ""}).status_code == 400
    assert client.post(url, {"body": "x" * 6000}).status_code == 400
    assert client.post(url, {"body": "hi", "addressed_to": 99999}).status_code == 400
    assert list(Comment.objects.values_list("body", flat=True)) == ["Which SDK?"]


def test_anonymous_is_sent_to_sign_in_and_nothing_changes(client, engagement_a):
    task = task_of(engagement_a, "monitoring")
    response = client.post(
        reverse("engagements:task-transition", args=[task.pk]), {"to": "in_progress", "revision": 1}
    )
    assert response.status_code == 302 and reverse("login") in response["Location"]
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED


def test_csrf_is_enforced(engagement_a, engineer_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer_a)
    task = task_of(engagement_a, "monitoring")
    response = client.post(
        reverse("engagements:task-transition", args=[task.pk]),
        {"to": "in_progress", "revision": task.revision},
    )
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED
