from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from engagements.selectors import mywork as mywork_reads
from engagements.selectors.mywork import waiting_on_me


@require_GET
def my_work(request):
    context = mywork_reads.my_work(request.user, page=request.GET.get("page", 1))
    context["operations"] = waiting_on_me(request.user, present=context["operations_present"])
    return render(request, "engagements/my_work.html", context)
