from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from engagements.choices import (
    OPEN_STATUSES,
    EngagementState,
    IssueState,
    TaskStatus,
)
from engagements.models import (
    Engagement,
    EngagementTask,
    Issue,
    MemberRole,
    Membership,
    Organization,
    TaskParty,
)
from psaas_portal.params import parse_id
from raci.choices import Phase

PORTFOLIO_PAGE_SIZE = 25


PORTFOLIO_SORTS = {
    "subscriber": ("organization__name", "name"),
    "name": ("name",),
    "kickoff": ("-kickoff_date", "name"),
    "progress": ("progress_pct", "organization__name"),
    "-progress": ("-progress_pct", "organization__name"),
    "overdue": ("-overdue_count", "organization__name"),
}


def _task_count(today: dt.date | None = None, **filters: Any) -> Coalesce:
    qs = EngagementTask.objects.live().filter(engagement=OuterRef("pk"), **filters)
    if today is not None:
        qs = qs.overdue(today)
    return Coalesce(
        Subquery(qs.order_by().values("engagement").annotate(n=Count("pk")).values("n")[:1]),
        0,
    )


def unheld_roles_of(engagement_ids: list[int]) -> dict[int, list[str]]:
    """Engagement id -> the roles its letters name that no member holds (one query)."""
    held = MemberRole.objects.filter(
        membership__engagement_id=OuterRef("task__engagement_id"),
        membership__party_id=OuterRef("party_id"),
        title=OuterRef("role_title"),
    )
    out: dict[int, list[str]] = defaultdict(list)
    for engagement_id, title in (
        TaskParty.objects.filter(
            task__engagement_id__in=engagement_ids, task__retired_at__isnull=True
        )
        .exclude(role_title="")
        .filter(~Exists(held))
        .values_list("task__engagement_id", "role_title")
        .distinct()
        .order_by("task__engagement_id", "role_title")
    ):
        out[engagement_id].append(title)
    return out


def portfolio(
    user,
    *,
    cse: str = "",
    subscriber: str = "",
    state: str = "",
    sort: str = "subscriber",
    page: int | str = 1,
) -> dict:
    """The engagements visible to the user with their progress and who they wait on.

    Queries: the page count (1), the page with its annotated counts (1), the
    status counts and waiting-on counts of the page's tasks (1), the CSEs of
    the page (1), and the filter choices (2).
    """
    today = timezone.localdate()
    qs = (
        Engagement.objects.visible_to(user)
        .select_related("organization")
        .annotate(
            applicable=_task_count(
                status__in=[s for s in TaskStatus.values if s != TaskStatus.NOT_APPLICABLE],
                phase=Phase.ONBOARDING,
            ),
            finished=_task_count(
                status__in=[TaskStatus.DONE, TaskStatus.SIGNED_OFF], phase=Phase.ONBOARDING
            ),
            overdue_count=_task_count(today=today),
            escalated_count=_task_count(status__in=list(OPEN_STATUSES), escalated_for=F("due_date"))
            + Coalesce(
                Subquery(
                    Issue.objects.filter(
                        engagement=OuterRef("pk"),
                        state=IssueState.OPEN,
                        escalated_at__isnull=False,
                    )
                    .order_by()
                    .values("engagement")
                    .annotate(n=Count("pk"))
                    .values("n")[:1]
                ),
                0,
            ),
        )
        .annotate(
            progress_pct=Case(
                When(applicable=0, then=Value(0)),
                default=F("finished") * 100 / F("applicable"),
                output_field=IntegerField(),
            )
        )
    )
    if (cse_id := parse_id(cse)) is not None:
        qs = qs.filter(memberships__user_id=cse_id, memberships__party__is_vendor=True)
    if (subscriber_id := parse_id(subscriber)) is not None:
        qs = qs.filter(organization_id=subscriber_id)
    if state in EngagementState.values:
        qs = qs.filter(state=state)
    sort = sort if sort in PORTFOLIO_SORTS else "subscriber"
    page_obj = Paginator(qs.order_by(*PORTFOLIO_SORTS[sort], "pk"), PORTFOLIO_PAGE_SIZE).get_page(
        page
    )
    engagements = list(page_obj.object_list)
    ids = [e.pk for e in engagements]
    stats = _waiting_counts(ids)
    cses = defaultdict(list)
    for m in Membership.objects.filter(engagement_id__in=ids, party__is_vendor=True).select_related(
        "user"
    ):
        cses[m.engagement_id].append(m.user)
    unheld = unheld_roles_of(ids)
    rows = [
        {
            "engagement": e,
            "cses": cses[e.pk],
            "unheld_roles": unheld.get(e.pk, []),
            **stats.get(e.pk, {"status_counts": [], "waiting_vendor": 0, "waiting_subscriber": 0}),
        }
        for e in engagements
    ]
    User = get_user_model()
    visible = Engagement.objects.visible_to(user)
    return {
        "rows": rows,
        "page_obj": page_obj,
        "filters": {"cse": cse, "subscriber": subscriber, "state": state, "sort": sort},
        "cse_choices": User.objects.filter(
            memberships__party__is_vendor=True, memberships__engagement__in=visible
        )
        .distinct()
        .order_by("username"),
        "subscriber_choices": Organization.objects.filter(engagements__in=visible)
        .distinct()
        .order_by("name"),
        "state_choices": EngagementState.choices,
        "sorts": [
            ("subscriber", "Subscriber"),
            ("name", "Name"),
            ("kickoff", "Newest kickoff"),
            ("progress", "Least progress"),
            ("-progress", "Most progress"),
            ("overdue", "Most overdue"),
        ],
    }


def _waiting_counts(engagement_ids: list[int]) -> dict[int, dict]:
    """Counts by status and by whose move it is, for a page of engagements, in one query."""
    if not engagement_ids:
        return {}

    def holds(**letters):
        return Exists(TaskParty.objects.filter(task=OuterRef("pk"), **letters))

    rows = (
        EngagementTask.objects.live()
        .filter(engagement_id__in=engagement_ids)
        .annotate(
            v_r=holds(responsible=True, party__is_vendor=True),
            s_r=holds(responsible=True, party__is_vendor=False),
            v_a=holds(accountable=True, party__is_vendor=True),
            s_a=holds(accountable=True, party__is_vendor=False),
            any_a=holds(accountable=True),
        )
        .values("engagement_id", "status", "v_r", "s_r", "v_a", "s_a", "any_a")
        .annotate(n=Count("pk"))
        .order_by()
    )
    out: dict[int, dict] = {}
    for r in rows:
        entry = out.setdefault(
            r["engagement_id"], {"counts": Counter(), "waiting_vendor": 0, "waiting_subscriber": 0}
        )
        entry["counts"][r["status"]] += r["n"]
        if r["status"] in OPEN_STATUSES:
            vendor, sub = r["v_r"], r["s_r"]
        elif r["status"] == TaskStatus.DONE:
            vendor = r["v_a"] or (not r["any_a"] and r["v_r"])
            sub = r["s_a"] or (not r["any_a"] and r["s_r"])
        else:
            continue
        entry["waiting_vendor"] += r["n"] if vendor else 0
        entry["waiting_subscriber"] += r["n"] if sub else 0
    for entry in out.values():
        counts = entry.pop("counts")
        entry["status_counts"] = [
            (s, TaskStatus(s).label, counts[s]) for s in TaskStatus.values if counts[s]
        ]
    return out
