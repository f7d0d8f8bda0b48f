"""Thin views for operations: update cycles, the handover, standing duties, issues, the
attestation API and the calendar feed. Same shape as engagements.views: fetch with the access
check, validate the form, call one service, answer (refusals keep the page, with a message)."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from psaas_portal import inputs

from . import ical, ops_selectors, services
from . import operations as ops
from .choices import DutyKind
from .forms import (
    AttestationForm,
    CadenceForm,
    CycleProposeForm,
    CycleWindowsForm,
    EnvironmentForm,
    FinishForm,
    HandoverRescheduleForm,
    HandoverScheduleForm,
    HeldForm,
    IssueForm,
    IssueMoveForm,
    PrepareForm,
    ReasonForm,
    RevisionForm,
    StatusMessageForm,
    TestResultForm,
    TicketForm,
    TokenForm,
)
from .lookups import get_engagement_for_action, get_engagement_for_view, get_owned_for_view
from .models import AttestationToken, Handover, Issue, StandingDuty, UpdateCycle
from .views import _act

log = logging.getLogger(__name__)


def _page(template: str, context_of):
    """A render_again for _act: the page, re-read after the action, with the given status."""

    def render_again(request, status: int = 200, **extra):
        return render(request, template, {**context_of(), **extra}, status=status)

    return render_again


# --- Update cycles -------------------------------------------------------------------------


def _render_cycles(request, engagement, *, status=200, form=None):
    context = ops_selectors.cycles_page(engagement, user=request.user)
    context["form"] = form or CycleProposeForm()
    return render(request, "engagements/ops/cycles.html", context, status=status)


@require_http_methods(["GET", "POST"])
def cycles(request, engagement_id: int):
    if request.method == "GET":
        return _render_cycles(request, get_engagement_for_view(request.user, engagement_id))
    engagement = get_engagement_for_action(request.user, engagement_id)
    form = CycleProposeForm(request.POST)
    created = {}

    def action(d):
        created["cycle"] = ops.propose_cycle(
            engagement,
            actor=request.user,
            release=d["release"],
            release_notes_url=d["release_notes_url"],
            windows=form.windows(),
        )

    return _act(
        request,
        form,
        action,
        success="Update proposed; the subscriber is asked to agree the windows.",
        render_again=lambda status: _render_cycles(request, engagement, status=status, form=form),
        done_url=lambda: reverse("engagements:cycle-detail", args=[created["cycle"].pk]),
    )


def _render_cycle(request, cycle, *, status=200):
    cycle = get_owned_for_view(request.user, UpdateCycle, cycle.pk)
    context = ops_selectors.cycle_page(cycle, user=request.user)
    return render(request, "engagements/ops/cycle_detail.html", context, status=status)


@require_GET
def cycle_detail(request, cycle_id: int):
    return _render_cycle(request, get_owned_for_view(request.user, UpdateCycle, cycle_id))


# action -> (form, service call, success message)
CYCLE_ACTIONS = {
    "windows": (
        CycleWindowsForm,
        lambda c, u, d, f: ops.propose_windows(
            c, actor=u, windows=f.windows(), revision=d["revision"]
        ),
        "Other windows proposed; the other side is asked to agree them.",
    ),
    "accept": (
        RevisionForm,
        lambda c, u, d, f: ops.accept_windows(c, actor=u, revision=d["revision"]),
        "Windows agreed.",
    ),
    "prepare": (
        PrepareForm,
        lambda c, u, d, f: ops.record_preparation(
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
        lambda c, u, d, f: ops.start_update(
            c, actor=u, environment=d["environment"], revision=d["revision"]
        ),
        "Update started.",
    ),
    "status": (
        StatusMessageForm,
        lambda c, u, d, f: ops.post_status(
            c, actor=u, message=d["message"], revision=d["revision"]
        ),
        "Status posted.",
    ),
    "finish": (
        FinishForm,
        lambda c, u, d, f: ops.finish_update(
            c, actor=u, scripts=d["scripts"], revision=d["revision"]
        ),
        "Node marked updated.",
    ),
    "test": (
        TestResultForm,
        lambda c, u, d, f: ops.record_test(
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
        lambda c, u, d, f: ops.override_gate(
            c, actor=u, reason=d["reason"], revision=d["revision"]
        ),
        "Override recorded; Production may be updated.",
    ),
    "cancel": (
        ReasonForm,
        lambda c, u, d, f: ops.cancel_cycle(c, actor=u, reason=d["reason"], revision=d["revision"]),
        "Update cancelled.",
    ),
}


@require_POST
def cycle_action(request, cycle_id: int, action: str):
    if action not in CYCLE_ACTIONS:
        raise Http404("No such action.")
    cycle = get_owned_for_view(request.user, UpdateCycle, cycle_id, act=True)
    form_class, call, success = CYCLE_ACTIONS[action]
    form = form_class(request.POST)
    return _act(
        request,
        form,
        lambda d: call(cycle, request.user, d, form),
        success=success,
        render_again=lambda status: _render_cycle(request, cycle, status=status),
        done_url=reverse("engagements:cycle-detail", args=[cycle.pk]),
    )


# --- The Operations Handover ------------------------------------------------------------------


def _render_handover(request, engagement, *, status=200, form=None):
    context = ops_selectors.handover_page(engagement, user=request.user)
    context["form"] = form or HandoverScheduleForm(
        members=context["members"],
        initial={
            "agenda": ops.AGENDA,
            "duration_minutes": 90,
            "attendees": [m.user_id for m in context["members"]],
        },
    )
    return render(request, "engagements/ops/handover.html", context, status=status)


@require_http_methods(["GET", "POST"])
def handover(request, engagement_id: int):
    if request.method == "GET":
        return _render_handover(request, get_engagement_for_view(request.user, engagement_id))
    engagement = get_engagement_for_action(request.user, engagement_id)
    members = ops_selectors.handover_page(engagement, user=request.user)["members"]
    form = HandoverScheduleForm(request.POST, members=members)
    return _act(
        request,
        form,
        lambda d: ops.schedule_handover(
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
    item = get_owned_for_view(request.user, Handover, handover_id, act=True)
    engagement = item.engagement
    if action == "reschedule":
        members = ops_selectors.handover_page(engagement, user=request.user)["members"]
        form = HandoverRescheduleForm(request.POST, members=members)

        def call(d):
            ops.reschedule_handover(
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
            ops.cancel_handover(
                item, actor=request.user, reason=d["reason"], revision=d["revision"]
            )

        success = "Handover cancelled; the attendees are sent the cancellation."
    elif action == "held":
        form = HeldForm(request.POST)

        def call(d):
            ops.record_handover_held(
                item,
                actor=request.user,
                notes=d["notes"],
                questions_answered=d["questions_answered"],
                revision=d["revision"],
            )

        success = "Handover recorded as held; the task is done."
    else:
        raise Http404("No such action.")
    return _act(
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
    data = ops.invitation_data(item, members)
    response = HttpResponse(ical.invitation(data), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="operations-handover.ics"'
    return response


# --- Standing duties and tokens ------------------------------------------------------------------


def _render_duties(request, engagement, *, status=200, new_token=None):
    context = ops_selectors.duties_page(engagement, user=request.user)
    context["form"] = AttestationForm(
        initial={"performed_at": timezone.now().replace(second=0, microsecond=0)}
    )
    context["new_token"] = new_token
    context["api_url"] = request.build_absolute_uri(
        reverse("engagements:api-attestations", args=[engagement.pk])
    )
    return render(request, "engagements/ops/duties.html", context, status=status)


@require_GET
def duties(request, engagement_id: int):
    return _render_duties(request, get_engagement_for_view(request.user, engagement_id))


@require_POST
def duty_action(request, duty_id: int, action: str):
    duty = get_owned_for_view(request.user, StandingDuty, duty_id, act=True)
    if action == "attest":
        form = AttestationForm(request.POST)

        def call(d):
            ops.record_attestation(duty, actor=request.user, attestation=form.attestation())

        success = "Attestation recorded."
    elif action == "cadence":
        form = CadenceForm(request.POST)

        def call(d):
            ops.set_cadence(
                duty, actor=request.user, cadence_days=d["cadence_days"], grace_days=d["grace_days"]
            )

        success = "Cadence saved."
    else:
        raise Http404("No such action.")
    return _act(
        request,
        form,
        call,
        success=success,
        render_again=lambda status: _render_duties(request, duty.engagement, status=status),
        done_url=reverse("engagements:duties", args=[duty.engagement_id]),
    )


@require_POST
def token_create(request, engagement_id: int):
    engagement = get_engagement_for_action(request.user, engagement_id)
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the token a name.")
        return _render_duties(request, engagement, status=400)
    try:
        token, raw = ops.create_attestation_token(
            engagement, actor=request.user, name=form.cleaned_data["name"]
        )
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
        return _render_duties(request, engagement, status=403)
    except services.DomainError as exc:
        messages.error(request, str(exc))
        return _render_duties(request, engagement, status=400)
    # Shown once, on this response only (never stored, never redirected through a URL).
    messages.success(request, f"Token {token.name!r} created. Copy it now: it is not shown again.")
    response = _render_duties(request, engagement, new_token=raw)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def token_revoke(request, token_id: int):
    token = get_owned_for_view(request.user, AttestationToken, token_id, act=True)
    try:
        ops.revoke_attestation_token(token, actor=request.user)
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
        return _render_duties(request, token.engagement, status=403)
    except services.DomainError as exc:
        messages.error(request, str(exc))
        return _render_duties(request, token.engagement, status=409)
    messages.success(request, f"Token {token.name!r} revoked.")
    return redirect("engagements:duties", token.engagement_id)


# --- The attestation API ----------------------------------------------------------------------

API_MAX_BODY = 16 * 1024


def _api_error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="psaas-portal attestations"'
    return response


@login_not_required
@csrf_exempt
@never_cache
def api_attestations(request, engagement_id: int):
    """POST /api/engagements/<id>/attestations/ with `Authorization: Bearer <token>` and a
    JSON body; the token may record attestations on its own engagement and nothing else."""
    if request.method != "POST":
        response = _api_error(405, "Use POST with a JSON body.")
        response["Allow"] = "POST"
        return response
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    token = ops.token_for(raw.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        return _api_error(401, "A valid attestation token is required (Authorization: Bearer …).")
    if not token.created_by.is_active:
        return _api_error(401, "This token's creator is deactivated; make a new token.")
    if token.engagement_id != engagement_id:
        log.warning("attestation token %s… used for another engagement", token.prefix)
        return _api_error(403, "This token is not valid for that engagement.")
    if len(request.body) > API_MAX_BODY:
        return _api_error(413, f"The body is larger than {API_MAX_BODY} bytes.")
    try:
        body = inputs.load_json(request.body or b"")
    except inputs.InputError as exc:
        return _api_error(400, str(exc))
    if not isinstance(body, dict):
        return _api_error(400, "The body must be a JSON object.")
    kind = body.get("duty", DutyKind.BACKUP)
    if kind not in DutyKind.values:
        return _api_error(400, f"duty must be one of: {', '.join(DutyKind.values)}.")
    try:
        performed_at = inputs.parse_time(body.get("performed_at"), "performed_at")
    except inputs.InputError as exc:
        return _api_error(400, str(exc))
    size = body.get("size_bytes")
    if size is not None and (
        not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= ops.MAX_SIZE
    ):
        return _api_error(400, "size_bytes must be a whole number of bytes (0 to 2^63-1).")
    strings = {}
    for key in ("result", "tool", "reference", "monitored", "alerts_to", "notes"):
        value = body.get(key, "")
        if not isinstance(value, str):
            return _api_error(400, f"{key} must be a string.")
        try:
            check = inputs.multi_line if key == "notes" else inputs.single_line
            strings[key] = check(value, key)
        except inputs.InputError as exc:
            return _api_error(400, str(exc))
    duty = StandingDuty.objects.filter(engagement_id=engagement_id, kind=kind).first()
    if duty is None:
        return _api_error(400, f"This engagement has no {kind} duty.")
    try:
        record = ops.record_attestation(
            duty,
            actor=token.created_by,
            token=token,
            attestation=ops.AttestationIn(performed_at=performed_at, size_bytes=size, **strings),
        )
    except services.NotAllowed as exc:
        return _api_error(403, f"The token's creator may no longer attest this: {exc}")
    except services.DomainError as exc:
        return _api_error(400, str(exc))
    return JsonResponse(
        {
            "id": record.pk,
            "duty": kind,
            "result": record.result,
            "performed_at": record.performed_at.isoformat(),
            "on_time": record.on_time,
        },
        status=201,
    )


# --- Issues -----------------------------------------------------------------------------------


def _render_issues(request, engagement, *, status=200, form=None):
    context = ops_selectors.issues_page(
        engagement,
        user=request.user,
        page=request.GET.get("page", 1),
        state=request.GET.get("state", "open"),
    )
    context["form"] = form or IssueForm(initial={"cycle": request.GET.get("cycle")})
    return render(request, "engagements/ops/issues.html", context, status=status)


@require_http_methods(["GET", "POST"])
def issues(request, engagement_id: int):
    if request.method == "GET":
        return _render_issues(request, get_engagement_for_view(request.user, engagement_id))
    engagement = get_engagement_for_action(request.user, engagement_id)
    form = IssueForm(request.POST)
    created = {}

    def call(d):
        cycle = None
        if d.get("cycle"):
            cycle = UpdateCycle.objects.filter(pk=d["cycle"], engagement=engagement).first()
            if cycle is None:
                raise services.DomainError("That update cycle is not part of this engagement.")
        created["issue"] = ops.raise_issue(
            engagement,
            actor=request.user,
            title=d["title"],
            environment=d["environment"],
            severity=d["severity"],
            description=d["description"],
            ticket_reference=d["ticket_reference"],
            cycle=cycle,
        )

    return _act(
        request,
        form,
        call,
        success="Issue raised; the vendor is consulted.",
        render_again=lambda status: _render_issues(request, engagement, status=status, form=form),
        done_url=lambda: reverse("engagements:issue-detail", args=[created["issue"].pk]),
    )


def _render_issue(request, issue, *, status=200):
    issue = get_owned_for_view(request.user, Issue, issue.pk, related=("raised_by", "cycle"))
    context = ops_selectors.issue_page(issue, user=request.user)
    return render(request, "engagements/ops/issue_detail.html", context, status=status)


@require_GET
def issue_detail(request, issue_id: int):
    return _render_issue(
        request, get_owned_for_view(request.user, Issue, issue_id, related=("raised_by", "cycle"))
    )


@require_POST
def issue_action(request, issue_id: int, action: str):
    issue = get_owned_for_view(request.user, Issue, issue_id, act=True)
    if action == "move":
        form = IssueMoveForm(request.POST)

        def call(d):
            ops.move_issue(
                issue, actor=request.user, to=d["to"], note=d["note"], revision=d["revision"]
            )

        success = "Issue updated."
    elif action == "ticket":
        form = TicketForm(request.POST)

        def call(d):
            ops.set_ticket_reference(
                issue, actor=request.user, reference=d["reference"], revision=d["revision"]
            )

        success = "Ticket reference recorded."
    else:
        raise Http404("No such action.")
    return _act(
        request,
        form,
        call,
        success=success,
        render_again=lambda status: _render_issue(request, issue, status=status),
        done_url=reverse("engagements:issue-detail", args=[issue.pk]),
    )


# --- Calendar feed ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def calendar(request):
    new_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            ops.revoke_calendar_feed(request.user)
            messages.success(
                request, "Your calendar feed is turned off; its address no longer works."
            )
            return redirect("engagements:calendar")
        raw = ops.rotate_calendar_feed(request.user)
        new_url = request.build_absolute_uri(reverse("engagements:calendar-feed")) + f"?token={raw}"
        messages.success(request, "A new private address was made; the old one no longer works.")
    context = ops_selectors.calendar_page(request.user)
    context["new_url"] = new_url
    response = render(request, "engagements/ops/calendar.html", context)
    if new_url:
        response["Cache-Control"] = "no-store"
    return response


@login_not_required
@require_GET
def calendar_feed(request):
    """The private feed. The secret is a query parameter (not part of the path), so access
    logs that record paths only never see it."""
    user = ops.feed_user(request.GET.get("token", ""))
    if user is None:
        return HttpResponse(
            "Unknown or revoked calendar address.", status=404, content_type="text/plain"
        )
    entries = ops_selectors.calendar_entries(user)
    response = HttpResponse(
        ical.feed(entries, name=f"PSaaS Portal: {user.get_full_name() or user.get_username()}"),
        content_type="text/calendar; charset=utf-8",
    )
    response["Cache-Control"] = "private, max-age=300"
    return response
