from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagements import ical
from engagements.actions.handover import (
    cancel_handover,
    invitation_data,
    record_handover_held,
    reschedule_handover,
    schedule_handover,
)
from engagements.forms import (
    HandoverRescheduleForm,
    HandoverScheduleForm,
    HeldForm,
    ReasonForm,
)
from engagements.lookups import (
    get_engagement_for_view,
    get_owned_for_view,
)
from engagements.models import Handover
from engagements.selectors.handover import handover_page
from engagements.views.common import act


def _render_handover(request, engagement, *, status=200, form=None):
    context = handover_page(engagement, user=request.user)
    context["form"] = form or HandoverScheduleForm(
        members=context["members"],
        initial={
            "agenda": Handover.DEFAULT_AGENDA,
            "duration_minutes": 90,
            "attendees": [m.user_id for m in context["members"]],
        },
    )
    return render(request, "engagements/ops/handover.html", context, status=status)


@require_http_methods(["GET", "POST"])
def handover(request, engagement_id: int):
    if request.method == "GET":
        return _render_handover(request, get_engagement_for_view(request.user, engagement_id))
    engagement = get_engagement_for_view(request.user, engagement_id)
    members = handover_page(engagement, user=request.user)["members"]
    form = HandoverScheduleForm(request.POST, members=members)
    return act(
        request,
        form,
        lambda d: schedule_handover(
            engagement,
            actor=request.user,
            starts_at=d["starts_at"],
            duration_minutes=d["duration_minutes"],
            location=d["location"],
            agenda=d["agenda"],
            attendee_ids=d["attendees"],
        ),
        success="Handover scheduled; the attendees are sent an invitation.",
        render_again=lambda status: _render_handover(request, engagement, status=status, form=form),
        done_url=reverse("engagements:handover", args=[engagement.pk]),
    )


@require_POST
def handover_action(request, handover_id: int, action: str):
    item = get_owned_for_view(request.user, Handover, handover_id)
    engagement = item.engagement
    if action == "reschedule":
        members = handover_page(engagement, user=request.user)["members"]
        form = HandoverRescheduleForm(request.POST, members=members)

        def call(d):
            reschedule_handover(
                item,
                actor=request.user,
                starts_at=d["starts_at"],
                duration_minutes=d["duration_minutes"],
                location=d["location"],
                attendee_ids=d["attendees"],
                revision=d["revision"],
            )

        success = "Handover moved; the attendees are sent the updated invitation."
    elif action == "cancel":
        form = ReasonForm(request.POST)

        def call(d):
            cancel_handover(item, actor=request.user, reason=d["reason"], revision=d["revision"])

        success = "Handover cancelled; the attendees are sent the cancellation."
    elif action == "held":
        form = HeldForm(request.POST)

        def call(d):
            record_handover_held(
                item,
                actor=request.user,
                notes=d["notes"],
                questions_answered=d["questions_answered"],
                revision=d["revision"],
            )

        success = "Handover recorded as held; the task is done."
    else:
        raise Http404("No such action.")
    return act(
        request,
        form,
        call,
        success=success,
        render_again=lambda status: _render_handover(request, engagement, status=status),
        done_url=reverse("engagements:handover", args=[engagement.pk]),
    )


@require_GET
def handover_ics(request, handover_id: int):
    item = get_owned_for_view(request.user, Handover, handover_id, related=("organizer",))
    members = list(
        item.engagement.memberships.filter(user__in=item.attendees.all()).select_related("user")
    )
    data = invitation_data(item, members)
    response = HttpResponse(ical.invitation(data), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="operations-handover.ics"'
    return response
