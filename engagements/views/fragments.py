"""Which fragments the task panel's answer carries, chosen by the page it was opened from.

htmx sends the address of the page (`HX-Current-URL`). A task opened from another page is
shown in the side panel (with a Close button); on its own page it is the page (no panel,
no Close). After a POST from the panel, the answer also carries out-of-band swaps
(`hx-swap-oob`) for everything the move changed on that page: the header's unread count
always; on the task's engagement page every onboarding task's status line and the
progress; on My work its counters and list. Each costs a fixed number of queries
(`tests/test_query_budgets.py`)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.http import HttpRequest
from django.urls import Resolver404, resolve

from engagements.models import EngagementTask
from engagements.selectors.mywork import my_work
from engagements.selectors.panel import engagement_refresh


def origin(request: HttpRequest) -> tuple[str, dict, dict]:
    """The view name, its arguments and the query of the page an htmx request came from
    ("" when it did not come from one of ours)."""
    htmx = getattr(request, "htmx", None)
    current = htmx.current_url if htmx else None
    if not current:
        return "", {}, {}
    split = urlsplit(current)
    if split.netloc and split.netloc != request.get_host():
        return "", {}, {}
    try:
        match = resolve(split.path)
    except Resolver404:
        return "", {}, {}
    return match.view_name, match.kwargs, parse_qs(split.query)


def panel_context(request: HttpRequest, task: EngagementTask) -> dict:
    """`in_panel` and the out-of-band fragments for one answer of the task view."""
    if not getattr(request, "htmx", None):
        return {"in_panel": False}
    name, kwargs, query = origin(request)
    own_page = name == "engagements:task-detail" and kwargs.get("task_id") == task.pk
    context: dict = {"in_panel": not own_page}
    if request.method != "POST":
        return context
    context["oob_bell"] = True
    if name == "engagements:engagement-detail" and kwargs.get("engagement_id") == (
        task.engagement_id
    ):
        context["refresh"] = engagement_refresh(task.engagement)
    elif name == "engagements:my-work":
        context["my_work"] = my_work(request.user, page=query.get("page", ["1"])[0])
    return context
