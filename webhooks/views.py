"""The webhook pages of an engagement, for its managers: the endpoints (register one), one
endpoint with its delivery log (replay, enable, delete). 404 for an engagement the person
cannot see, 403 for a member who does not manage it; every write goes through
webhooks.actions, which checks the rule again."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagements.errors import Conflict, DomainError, NotAllowed
from engagements.lookups import get_engagement_for_view
from engagements.views.common import act, form_errors

from . import actions, selectors
from .forms import EndpointForm

NO_INPUT = forms.Form({})
REFUSED = "Only the engagement's managers and portal admins manage its webhooks."


def _managed(user, engagement):
    if not selectors.may_manage(user, engagement):
        raise PermissionDenied(REFUSED)
    return engagement


def _endpoint(user, endpoint_id: int):
    endpoint = selectors.endpoint_for_view(user, endpoint_id)
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    _managed(user, endpoint.engagement)
    return endpoint


def _render_list(request, engagement, *, form=None, status=200):
    context = selectors.endpoints_page(engagement)
    context["form"] = form or EndpointForm()
    return render(request, "webhooks/endpoints.html", context, status=status)


def _render_endpoint(request, endpoint, *, status=200, secret=""):
    context = selectors.endpoint_page(endpoint)
    context["new_secret"] = secret
    return render(request, "webhooks/endpoint.html", context, status=status)


@require_http_methods(["GET", "POST"])
def endpoints(request, engagement_id: int):
    engagement = _managed(request.user, get_engagement_for_view(request.user, engagement_id))
    if request.method == "GET":
        return _render_list(request, engagement)
    form = EndpointForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return _render_list(request, engagement, form=form, status=400)
    d = form.cleaned_data
    try:
        endpoint, secret = actions.create_endpoint(
            engagement,
            actor=request.user,
            url=d["url"],
            kinds=d["kinds"],
            secret=d["secret"],
            description=d["description"],
        )
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return _render_list(request, engagement, form=form, status=403)
    except (Conflict, DomainError) as exc:
        messages.error(request, f"Nothing was saved. {exc}")
        return _render_list(request, engagement, form=form, status=400)
    messages.success(request, "Webhook registered. Copy its secret now: it is not shown again.")
    # The secret is shown on this answer only (never in a URL, never again).
    return _render_endpoint(request, endpoint, status=201, secret=secret)


@require_GET
def endpoint_detail(request, endpoint_id: int):
    return _render_endpoint(request, _endpoint(request.user, endpoint_id))


def _done(endpoint) -> str:
    return reverse("webhooks:endpoint", args=[endpoint.pk])


@require_POST
def endpoint_enable(request, endpoint_id: int):
    endpoint = _endpoint(request.user, endpoint_id)
    return act(
        request,
        NO_INPUT,
        lambda d: actions.enable_endpoint(endpoint, actor=request.user),
        success="Webhook enabled; what was waiting is sent again.",
        render_again=lambda status: _render_endpoint(request, endpoint, status=status),
        done_url=_done(endpoint),
    )


@require_POST
def endpoint_delete(request, endpoint_id: int):
    endpoint = _endpoint(request.user, endpoint_id)
    return act(
        request,
        NO_INPUT,
        lambda d: actions.delete_endpoint(endpoint, actor=request.user),
        success=f"Webhook to {endpoint.host} deleted.",
        render_again=lambda status: _render_endpoint(request, endpoint, status=status),
        done_url=reverse("webhooks:endpoints", args=[endpoint.engagement_id]),
    )


@require_POST
def delivery_replay(request, delivery_id: int):
    delivery = selectors.delivery_for_view(request.user, delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    endpoint = _endpoint(request.user, delivery.endpoint_id)
    return act(
        request,
        NO_INPUT,
        lambda d: actions.replay_delivery(delivery, actor=request.user),
        success=f"{delivery.message_id} will be sent again.",
        render_again=lambda status: _render_endpoint(request, endpoint, status=status),
        done_url=_done(endpoint),
    )
