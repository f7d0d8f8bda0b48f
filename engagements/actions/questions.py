"""Consultation both ways: answering a question asked on a task (asking is a comment
addressed to a party, engagements.actions.tasks.add_comment). A question is open until the
party asked answers it, in its thread; the answer tells the party that asked, and ends the
question for whoever heard of it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from engagements import events, policy
from engagements.audit import record_event
from engagements.cleaning import clean_text
from engagements.errors import Conflict, DomainError, NotAllowed
from engagements.models import Comment, EngagementTask


@transaction.atomic
def answer_question(question: Comment, *, actor: Any, body: str) -> Comment:
    """The party asked answers (any of its members); once."""
    question = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("task__engagement", "addressed_to")
        .get(pk=question.pk)
    )
    if question.addressed_to is None:
        raise DomainError("Only a question can be answered; reply with a comment.")
    task = (
        EngagementTask.objects.select_related("engagement")
        .prefetch_related("parties__party")
        .get(pk=question.task_id)
    )
    seat = policy.member_seat(task.engagement_id, actor)
    policy.check(actor, "task.answer", task, task=task, seat=seat)
    if seat is None or seat.party_id != question.addressed_to_id:
        raise NotAllowed(
            f"The question is for {question.addressed_to.name}; one of its members answers it."
        )
    if question.answered_at is not None:
        raise Conflict("This question was answered already; add a comment to say more.")
    body = clean_text(body, "answer", required=True)
    answer = Comment.objects.create(task=task, author=actor, body=body, answer_to=question)
    question.answered_at = timezone.now()
    question.save(update_fields=["answered_at"])
    asker = policy.member_party_id(task.engagement_id, question.author)
    asked_by = task.parties.filter(party_id=asker).first() if asker else None
    record_event(
        task.engagement,
        events.TASK_QUESTION_ANSWERED,
        actor=actor,
        task=task,
        data={
            "comment": answer.pk,
            "question": question.pk,
            "to_party": asked_by.party.name if asked_by else "",
            "to_party_id": asker or 0,
        },
    )
    return answer
