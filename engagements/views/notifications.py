from __future__ import annotations

from django.contrib import messages
from django.http import (
    Http404,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from engagements.actions.notifications import mark_all_read, mark_read, set_delivery_preferences
from engagements.errors import DomainError
from engagements.selectors.chat import personal_chat
from engagements.selectors.notifications import inbox, preferences


@require_GET
def notification_list(request):
    context = inbox(
        request.user, page=request.GET.get("page", 1), unread_only=request.GET.get("unread") == "1"
    )
    return render(request, "engagements/notifications.html", context)


@require_POST
def notification_read(request, notification_id: int):
    if not mark_read(request.user, notification_id):
        raise Http404("No such notification.")
    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect("engagements:notifications")


@require_POST
def notification_read_all(request):
    count = mark_all_read(request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("engagements:notifications")


def notification_preferences(request):
    if request.method == "POST":
        try:
            set_delivery_preferences(
                request.user,
                email=request.POST.get("email_delivery", ""),
                portal=request.POST.get("portal_delivery", ""),
            )
        except DomainError as exc:
            messages.error(request, str(exc))
            return render(
                request,
                "engagements/preferences.html",
                {**preferences(request.user), **personal_chat(request.user)},
                status=400,
            )
        messages.success(request, "Preferences saved.")
        return redirect("engagements:notification-preferences")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    context = {**preferences(request.user), **personal_chat(request.user)}
    return render(request, "engagements/preferences.html", context)
