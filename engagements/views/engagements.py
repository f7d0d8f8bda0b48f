from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engagements import permissions, policy
from engagements.lookups import (
    get_engagement_for_view,
)
from engagements.selectors import portfolio as portfolio_reads
from engagements.selectors.checklists import inventory_of
from engagements.selectors.engagements import engagement_page, engagement_rows


@require_GET
def engagement_list(request):
    page_obj = Paginator(
        engagement_rows(request.user).order_by("organization__name", "name", "pk"), 50
    ).get_page(request.GET.get("page", 1))
    return render(
        request, "engagements/engagement_list.html", {"engagements": page_obj, "page_obj": page_obj}
    )


@require_GET
def engagement_detail(request, engagement_id: int):
    engagement = get_engagement_for_view(request.user, engagement_id)
    context = engagement_page(engagement, user=request.user, events_page=request.GET.get("page", 1))
    context["can_administer"] = policy.judge(
        request.user, "engagement.administer", engagement, seat=None
    ).allowed
    context["inventory"] = inventory_of(engagement.pk)
    return render(request, "engagements/engagement_detail.html", context)


@require_GET
def portfolio(request):
    if not permissions.is_vendor_staff(request.user):
        raise PermissionDenied("The portfolio is for the vendor's staff.")
    g = request.GET
    context = portfolio_reads.portfolio(
        request.user,
        cse=g.get("cse", ""),
        subscriber=g.get("subscriber", ""),
        subscriber_name=g.get("subscriber_name", ""),
        state=g.get("state", ""),
        sort=g.get("sort", "subscriber"),
        page=g.get("page", 1),
    )
    query = g.copy()
    query.pop("page", None)
    context["extra_query"] = query.urlencode()
    return render(request, "engagements/portfolio.html", context)
