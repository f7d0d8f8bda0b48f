from __future__ import annotations

from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from engagements.actions.prerequisites import override_order
from engagements.actions.questions import answer_question
from engagements.actions.tasks import add_comment, reopen_task, sign_off_task, transition_task
from engagements.errors import DomainError
from engagements.forms import (
    CommentForm,
    ReopenForm,
    SignOffForm,
    TransitionForm,
)
from engagements.lookups import (
    get_task_for_action,
    get_task_for_view,
    task_reference,
)
from engagements.models import Comment
from engagements.selectors.tasks import task_page
from engagements.views.common import act
from engagements.views.fragments import panel_context
from raci.models import Party


def _render_task(
    request: HttpRequest, task, *, status: int = 200, fresh: bool = False
) -> HttpResponse:
    if not fresh:  # after an action: read the state it left, letters prefetched
        task = get_task_for_view(request.user, task.pk)
    context = task_page(task, user=request.user)
    context.update(panel_context(request, task))
    template = (
        "engagements/partials/task_panel.html" if request.htmx else "engagements/task_detail.html"
    )
    return render(request, template, context, status=status)


def _task_action(
    request, task_id: int, form_class, action, success: str, *, read_first: bool = True
) -> HttpResponse:
    """`read_first=False` for the services that read the task under their lock and decide
    there whether the person may see it (404) and act (403): one read, one decision."""
    task = get_task_for_action(request.user, task_id) if read_first else task_reference(task_id)
    return act(
        request,
        form_class(request.POST),
        lambda data: action(task, data),
        success=success,
        render_again=lambda status: _render_task(request, task, status=status),
        done_url=reverse("engagements:task-detail", args=[task.pk]),
    )


@require_GET
def task_detail(request, task_id: int):
    return _render_task(request, get_task_for_view(request.user, task_id), fresh=True)


@require_POST
def task_transition(request, task_id: int):
    return _task_action(
        request,
        task_id,
        TransitionForm,
        lambda task, d: transition_task(
            task, to=d["to"], actor=request.user, reason=d["reason"], revision=d["revision"]
        ),
        "Status updated.",
        read_first=False,
    )


@require_POST
def task_sign_off(request, task_id: int):
    return _task_action(
        request,
        task_id,
        SignOffForm,
        lambda task, d: sign_off_task(
            task, actor=request.user, comment=d["comment"], revision=d["revision"]
        ),
        "Signed off.",
        read_first=False,
    )


@require_POST
def task_reopen(request, task_id: int):
    return _task_action(
        request,
        task_id,
        ReopenForm,
        lambda task, d: reopen_task(
            task, actor=request.user, reason=d["reason"], revision=d["revision"]
        ),
        "Reopened.",
        read_first=False,
    )


@require_POST
def task_override_order(request, task_id: int):
    return _task_action(
        request,
        task_id,
        ReopenForm,  # a revision and a required reason
        lambda task, d: override_order(
            task, actor=request.user, reason=d["reason"], revision=d["revision"]
        ),
        "The task may go ahead before its prerequisites.",
    )


def _party_or_none(party_id: int | None) -> Party | None:
    if party_id is None:
        return None
    party = Party.objects.filter(pk=party_id).first()
    if party is None:
        raise DomainError("That party does not exist.")
    return party


@require_POST
def task_comment(request, task_id: int):
    def action(task, d):
        if d.get("answer_to"):
            question = Comment.objects.filter(pk=d["answer_to"], task=task).first()
            if question is None:
                raise DomainError("That question is not on this task.")
            answer_question(question, actor=request.user, body=d["body"])
            return
        add_comment(
            task, actor=request.user, body=d["body"], addressed_to=_party_or_none(d["addressed_to"])
        )

    return _task_action(request, task_id, CommentForm, action, "Posted.")
