from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from engagements import ical
from engagements.actions.feeds import feed_user, revoke_calendar_feed, rotate_calendar_feed
from engagements.selectors.calendar import calendar_entries, calendar_page


@require_http_methods(["GET", "POST"])
def calendar(request):
    new_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            revoke_calendar_feed(request.user)
            messages.success(
                request, "Your calendar feed is turned off; its address no longer works."
            )
            return redirect("engagements:calendar")
        raw = rotate_calendar_feed(request.user)
        new_url = request.build_absolute_uri(reverse("engagements:calendar-feed")) + f"?token={raw}"
        messages.success(request, "A new private address was made; the old one no longer works.")
    context = calendar_page(request.user)
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
    user = feed_user(request.GET.get("token", ""))
    if user is None:
        return HttpResponse(
            "Unknown or revoked calendar address.", status=404, content_type="text/plain"
        )
    entries = calendar_entries(user)
    response = HttpResponse(
        ical.feed(entries, name=f"PSaaS Portal: {user.get_full_name() or user.get_username()}"),
        content_type="text/calendar; charset=utf-8",
    )
    response["Cache-Control"] = "private, max-age=300"
    return response
