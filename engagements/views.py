from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors
from .lookups import get_engagement_for_view


@require_GET
def my_work(request):
    context = selectors.my_work(request.user, page=request.GET.get("page", 1))
    return render(request, "engagements/my_work.html", context)


@require_GET
def engagement_list(request):
    return render(
        request,
        "engagements/engagement_list.html",
        {"engagements": selectors.engagement_rows(request.user)},
    )


@require_GET
def engagement_detail(request, engagement_id: int):
    engagement = get_engagement_for_view(request.user, engagement_id)
    context = selectors.engagement_page(
        engagement, user=request.user, events_page=request.GET.get("page", 1)
    )
    return render(request, "engagements/engagement_detail.html", context)
