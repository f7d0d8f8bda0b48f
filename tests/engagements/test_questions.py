"""Consultation both ways (issue 12, item 4): a Consulted party opens a question to the
Responsible party, the Responsible party asks the Consulted one; questions are open until
the party asked answers them in their thread; the answer tells the party that asked."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.actions.questions import answer_question
from engagements.actions.tasks import add_comment
from engagements.errors import Conflict, DomainError, NotAllowed
from engagements.models import Comment, Event, Notification
from tests.conftest import task_of
from tests.factories import subscriber_party, vendor_party

pytestmark = pytest.mark.django_db


def told(verb: str) -> set[str]:
    event = Event.objects.filter(verb=verb).latest("id")
    return {
        n.recipient.username
        for n in Notification.objects.filter(event=event, channel="portal").select_related(
            "recipient"
        )
    }


def test_a_consulted_party_asks_and_the_responsible_party_answers(engagement_a, cse, engineer_a):
    integration = task_of(engagement_a, "code_integration")  # Auth0 C, I; Subscriber R, A
    question = add_comment(
        integration, actor=cse, body="Which SDK does your app use?", addressed_to=subscriber_party()
    )
    assert told("task.question_asked") == {"engineer-a"}
    assert question.is_open_question
    with pytest.raises(NotAllowed, match="one of its members answers"):
        answer_question(question, actor=cse, body="self-answer")
    with pytest.raises(DomainError, match="answer"):
        answer_question(question, actor=engineer_a, body="  ")
    answer = answer_question(question, actor=engineer_a, body="auth0-spa-js 2.1")
    question.refresh_from_db()
    assert answer.answer_to == question and question.answered_at is not None
    assert told("task.question_answered") == {"cse"}
    with pytest.raises(Conflict, match="answered already"):
        answer_question(question, actor=engineer_a, body="again")
    assert Comment.objects.filter(answer_to=question).count() == 1


def test_only_a_consulted_party_opens_a_question_to_the_responsible_one(engagement_a, cse):
    deploy = task_of(engagement_a, "deployment", "development")  # Auth0 R, A; Subscriber I
    with pytest.raises(NotAllowed, match="Only a Consulted party"):
        add_comment(deploy, actor=cse, body="?", addressed_to=vendor_party())
    infra = task_of(engagement_a, "infrastructure", "development")  # Auth0 C; Subscriber R, A
    add_comment(infra, actor=cse, body="Is the jumphost ready?", addressed_to=subscriber_party())
    assert Event.objects.filter(verb="task.question_asked").count() == 1


def test_the_task_page_threads_answers_and_offers_the_answer_form(
    client_for, engagement_a, cse, engineer_a
):
    integration = task_of(engagement_a, "code_integration")
    question = add_comment(
        integration, actor=cse, body="Which SDK?", addressed_to=subscriber_party()
    )
    url = reverse("engagements:task-detail", args=[integration.pk])
    page = client_for(engineer_a).get(url).content.decode()
    assert "open question" in page and f'name="answer_to" value="{question.pk}"' in page
    assert (
        f'name="answer_to" value="{question.pk}"' not in client_for(cse).get(url).content.decode()
    )
    response = client_for(engineer_a).post(
        reverse("engagements:task-comment", args=[integration.pk]),
        {"body": "auth0-spa-js", "answer_to": question.pk},
    )
    assert response.status_code == 302
    page = client_for(cse).get(url).content.decode()
    assert "answered" in page and "auth0-spa-js" in page
