from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagements.actions.cycle_overrides import override_gate, override_window
from engagements.actions.cycles import (
    accept_windows,
    cancel_cycle,
    finish_update,
    post_status,
    propose_cycle,
    propose_windows,
    record_preparation,
    record_test,
    start_update,
)
from engagements.forms import (
    CycleProposeForm,
    CycleWindowsForm,
    EnvironmentForm,
    FinishForm,
    PrepareForm,
    ReasonForm,
    RevisionForm,
    StatusMessageForm,
    TestResultForm,
    WindowOverrideForm,
)
from engagements.lookups import (
    get_engagement_for_view,
    get_owned_for_view,
)
from engagements.models import UpdateCycle
from engagements.selectors.cycles import cycle_page, cycles_page
from engagements.views.common import act


def _render_cycles(request, engagement, *, status=200, form=None):
    context = cycles_page(engagement, user=request.user)
    context["form"] = form or CycleProposeForm(environments=engagement.environment_list)
    return render(request, "engagements/ops/cycles.html", context, status=status)


@require_http_methods(["GET", "POST"])
def cycles(request, engagement_id: int):
    if request.method == "GET":
        return _render_cycles(request, get_engagement_for_view(request.user, engagement_id))
    engagement = get_engagement_for_view(request.user, engagement_id)
    form = CycleProposeForm(request.POST, environments=engagement.environment_list)
    created = {}

    def action(d):
        created["cycle"] = propose_cycle(
            engagement,
            actor=request.user,
            release=d["release"],
            release_notes_url=d["release_notes_url"],
            windows=form.windows(),
        )

    return act(
        request,
        form,
        action,
        success="Update proposed; the subscriber is asked to agree the windows.",
        render_again=lambda status: _render_cycles(request, engagement, status=status, form=form),
        done_url=lambda: reverse("engagements:cycle-detail", args=[created["cycle"].pk]),
    )


def _render_cycle(request, cycle, *, status=200):
    cycle = get_owned_for_view(request.user, UpdateCycle, cycle.pk)
    context = cycle_page(cycle, user=request.user)
    return render(request, "engagements/ops/cycle_detail.html", context, status=status)


@require_GET
def cycle_detail(request, cycle_id: int):
    return _render_cycle(request, get_owned_for_view(request.user, UpdateCycle, cycle_id))


# action -> (form, service call, success message)
CYCLE_ACTIONS = {
    "windows": (
        CycleWindowsForm,
        lambda c, u, d, f: propose_windows(c, actor=u, windows=f.windows(), revision=d["revision"]),
        "Other windows proposed; the other side is asked to agree them.",
    ),
    "accept": (
        RevisionForm,
        lambda c, u, d, f: accept_windows(c, actor=u, revision=d["revision"]),
        "Windows agreed.",
    ),
    "prepare": (
        PrepareForm,
        lambda c, u, d, f: record_preparation(
            c,
            actor=u,
            environment=d["environment"],
            snapshots=d["snapshots"],
            access_provided=d["access_provided"],
            present=d["present"],
            revision=d["revision"],
        ),
        "Preparation recorded.",
    ),
    "start": (
        EnvironmentForm,
        lambda c, u, d, f: start_update(
            c, actor=u, environment=d["environment"], revision=d["revision"]
        ),
        "Update started.",
    ),
    "status": (
        StatusMessageForm,
        lambda c, u, d, f: post_status(c, actor=u, message=d["message"], revision=d["revision"]),
        "Status posted.",
    ),
    "finish": (
        FinishForm,
        lambda c, u, d, f: finish_update(c, actor=u, scripts=d["scripts"], revision=d["revision"]),
        "Node marked updated.",
    ),
    "test": (
        TestResultForm,
        lambda c, u, d, f: record_test(
            c,
            actor=u,
            result=d["result"],
            notes=d["notes"],
            severity=d["severity"] or "high",
            revision=d["revision"],
        ),
        "Test result recorded.",
    ),
    "override": (
        ReasonForm,
        lambda c, u, d, f: override_gate(c, actor=u, reason=d["reason"], revision=d["revision"]),
        "Override recorded; Production may be updated.",
    ),
    "window": (
        WindowOverrideForm,
        lambda c, u, d, f: override_window(
            c, actor=u, environment=d["environment"], reason=d["reason"], revision=d["revision"]
        ),
        "Override recorded; the update may start outside its window.",
    ),
    "cancel": (
        ReasonForm,
        lambda c, u, d, f: cancel_cycle(c, actor=u, reason=d["reason"], revision=d["revision"]),
        "Update cancelled.",
    ),
}


@require_POST
def cycle_action(request, cycle_id: int, action: str):
    if action not in CYCLE_ACTIONS:
        raise Http404("No such action.")
    cycle = get_owned_for_view(request.user, UpdateCycle, cycle_id)
    form_class, call, success = CYCLE_ACTIONS[action]
    form = form_class(request.POST)
    return act(
        request,
        form,
        lambda d: call(cycle, request.user, d, form),
        success=success,
        render_again=lambda status: _render_cycle(request, cycle, status=status),
        done_url=reverse("engagements:cycle-detail", args=[cycle.pk]),
    )
