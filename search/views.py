"""The results page: thin; the read is search.selectors.search."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from .kinds import BY_KEY, KINDS
from .selectors import MAX_LENGTH, PER_KIND, SearchInputError, search


@require_GET
def results(request):
    raw = request.GET.get("q", "")
    kind = BY_KEY.get(request.GET.get("kind", ""))
    context = {
        "query": raw,
        "max_length": MAX_LENGTH,
        "kinds": KINDS,
        "kind": kind,
        "per_kind": PER_KIND,
    }
    try:
        context["results"] = search(request.user, raw, kinds=(kind,) if kind else KINDS)
    except SearchInputError as error:
        context["error"] = str(error)
        return render(request, "search/results.html", context, status=400)
    return render(request, "search/results.html", context)
