"""Chat channels: a person's own (on the notification preferences page) and an engagement's,
one per party, for its managers. Writes go through engagements.actions.chat."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from engagements.actions.chat import (
    remove_engagement_chat,
    remove_personal_chat,
    set_engagement_chat,
    set_personal_chat,
)
from engagements.errors import DomainError, NotAllowed
from engagements.lookups import get_engagement_for_view
from engagements.selectors.chat import (
    engagement_channel_for_view,
    engagement_chat_page,
    may_manage_chat,
    personal_chat,
)
from engagements.selectors.notifications import preferences
from psaas_portal.params import parse_id

REFUSED = "Only the engagement's managers and portal admins manage its chat channels."


@require_POST
def chat_personal(request):
    """Sets (or, with remove=1, removes) the person's own chat channel."""
    try:
        if request.POST.get("remove"):
            remove_personal_chat(request.user)
            messages.success(request, "Chat channel removed.")
        else:
            set_personal_chat(
                request.user,
                kind=request.POST.get("kind", ""),
                url=request.POST.get("url", ""),
                delivery=request.POST.get("delivery", ""),
            )
            messages.success(request, "Chat channel saved.")
    except DomainError as exc:
        messages.error(request, f"Nothing was saved. {exc}")
        context = {**preferences(request.user), **personal_chat(request.user)}
        return render(request, "engagements/preferences.html", context, status=400)
    return redirect("engagements:notification-preferences")


def _managed(user, engagement_id: int):
    engagement = get_engagement_for_view(user, engagement_id)
    if not may_manage_chat(user, engagement):
        raise PermissionDenied(REFUSED)
    return engagement


def _render(request, engagement, status=200):
    return render(
        request, "engagements/chat_channels.html", engagement_chat_page(engagement), status=status
    )


@require_http_methods(["GET", "POST"])
def chat_channels(request, engagement_id: int):
    engagement = _managed(request.user, engagement_id)
    if request.method == "GET":
        return _render(request, engagement)
    party_id = parse_id(request.POST.get("party"))
    if party_id is None:
        messages.error(request, "Nothing was saved. Party: choose a party of this engagement.")
        return _render(request, engagement, status=400)
    try:
        set_engagement_chat(
            engagement,
            actor=request.user,
            party_id=party_id,
            kind=request.POST.get("kind", ""),
            url=request.POST.get("url", ""),
            delivery=request.POST.get("delivery", ""),
        )
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return _render(request, engagement, status=403)
    except DomainError as exc:
        messages.error(request, f"Nothing was saved. {exc}")
        return _render(request, engagement, status=400)
    messages.success(request, "Chat channel saved.")
    return redirect("engagements:chat-channels", engagement.pk)


@require_POST
def chat_channel_remove(request, channel_id: int):
    """The channel's read checks that its engagement is visible (404 otherwise); the service
    checks the rule (403)."""
    channel = engagement_channel_for_view(request.user, channel_id)
    if channel is None or channel.engagement is None:
        raise Http404("No such chat channel.")
    try:
        remove_engagement_chat(channel, actor=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(request, "Chat channel removed.")
    return redirect("engagements:chat-channels", channel.engagement_id)
