from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from engagements.actions.duties import record_attestation, set_cadence
from engagements.actions.tokens import create_attestation_token, revoke_attestation_token
from engagements.errors import DomainError, NotAllowed
from engagements.forms import (
    AttestationForm,
    CadenceForm,
    TokenForm,
)
from engagements.lookups import (
    get_engagement_for_view,
    get_owned_for_view,
)
from engagements.models import AttestationToken, StandingDuty
from engagements.selectors.duties import duties_page
from engagements.views.common import act


def _render_duties(request, engagement, *, status=200, new_token=None):
    context = duties_page(engagement, user=request.user)
    context["form"] = AttestationForm(
        initial={"performed_at": timezone.now().replace(second=0, microsecond=0)}
    )
    context["new_token"] = new_token
    # The address under the REST API (api/urls.py); the older one still answers.
    context["api_url"] = request.build_absolute_uri(
        reverse("api:attestations", args=[engagement.pk])
    )
    return render(request, "engagements/ops/duties.html", context, status=status)


@require_GET
def duties(request, engagement_id: int):
    return _render_duties(request, get_engagement_for_view(request.user, engagement_id))


@require_POST
def duty_action(request, duty_id: int, action: str):
    duty = get_owned_for_view(request.user, StandingDuty, duty_id)
    if action == "attest":
        form = AttestationForm(request.POST)

        def call(d):
            record_attestation(duty, actor=request.user, attestation=form.attestation())

        success = "Attestation recorded."
    elif action == "cadence":
        form = CadenceForm(request.POST)

        def call(d):
            set_cadence(
                duty, actor=request.user, cadence_days=d["cadence_days"], grace_days=d["grace_days"]
            )

        success = "Cadence saved."
    else:
        raise Http404("No such action.")
    return act(
        request,
        form,
        call,
        success=success,
        render_again=lambda status: _render_duties(request, duty.engagement, status=status),
        done_url=reverse("engagements:duties", args=[duty.engagement_id]),
    )


@require_POST
def token_create(request, engagement_id: int):
    engagement = get_engagement_for_view(request.user, engagement_id)
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the token a name.")
        return _render_duties(request, engagement, status=400)
    try:
        token, raw = create_attestation_token(
            engagement, actor=request.user, name=form.cleaned_data["name"]
        )
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return _render_duties(request, engagement, status=403)
    except DomainError as exc:
        messages.error(request, str(exc))
        return _render_duties(request, engagement, status=400)
    # Shown once, on this response only (never stored, never redirected through a URL).
    messages.success(request, f"Token {token.name!r} created. Copy it now: it is not shown again.")
    response = _render_duties(request, engagement, new_token=raw)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def token_revoke(request, token_id: int):
    token = get_owned_for_view(request.user, AttestationToken, token_id)
    try:
        revoke_attestation_token(token, actor=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return _render_duties(request, token.engagement, status=403)
    except DomainError as exc:
        messages.error(request, str(exc))
        return _render_duties(request, token.engagement, status=409)
    messages.success(request, f"Token {token.name!r} revoked.")
    return redirect("engagements:duties", token.engagement_id)
