from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
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
    OrganizationKind,
    TaskStatus,
)
from engagements.models import (
    Engagement,
    EngagementTask,
    Issue,
    MemberRole,
    Membership,
)
from engagements.selectors.common import PeekPage, url_maker
from engagements.selectors.timeline import portfolio_bar_html, portfolio_bars
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


def portfolio(
    user,
    *,
    cse: str = "",
    subscriber: str = "",
    subscriber_name: str = "",
    state: str = "",
    sort: str = "subscriber",
    page: int | str = 1,
) -> dict:
    """The engagements visible to the user with their progress and who they wait on.

    Queries: the page with its annotated counts and one more row (1; no COUNT), the status
    counts, waiting-on counts and unheld roles of the page's tasks (1), the timeline bar of
    the page's onboarding tasks (1), the CSEs of the page (1), and the CSE filter's
    choices (1). Subscribers are searched by name, so the
    page does not list every subscriber.
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
    if subscriber_name := subscriber_name.strip()[:100]:
        qs = qs.filter(organization__name__icontains=subscriber_name)
    if state in EngagementState.values:
        qs = qs.filter(state=state)
    sort = sort if sort in PORTFOLIO_SORTS else "subscriber"
    qs = qs.order_by(*PORTFOLIO_SORTS[sort], "pk")
    # The page and one more row (is there a next page?), not a COUNT over every visible
    # engagement: "Page N" with previous and next. A page past the end (an old link) shows
    # the last page, as Paginator.get_page did: only then is the portfolio counted.
    page_obj: PeekPage | Page = PeekPage(qs, page, PORTFOLIO_PAGE_SIZE)
    if not page_obj.object_list and page_obj.number > 1:
        page_obj = Paginator(qs, PORTFOLIO_PAGE_SIZE).get_page(page)
    engagements = list(page_obj.object_list)
    ids = [e.pk for e in engagements]
    stats, unheld = _page_facts(ids)
    bars = portfolio_bars(engagements, today=today)
    cses = defaultdict(list)
    for m in Membership.objects.filter(engagement_id__in=ids, party__is_vendor=True).select_related(
        "user"
    ):
        cses[m.engagement_id].append(m.user)
    timeline_url = url_maker("engagements:engagement-timeline")
    rows = [
        {
            "engagement": e,
            "cses": cses[e.pk],
            "unheld_roles": unheld.get(e.pk, []),
            "bar": portfolio_bar_html(e, bars[e.pk], timeline_url(e.pk)) if e.pk in bars else "",
            **stats.get(e.pk, {"status_counts": [], "waiting_vendor": 0, "waiting_subscriber": 0}),
        }
        for e in engagements
    ]
    User = get_user_model()
    visible = Engagement.objects.visible_to(user)
    return {
        "rows": rows,
        "page_obj": page_obj,
        "filters": {
            "cse": cse,
            "subscriber": subscriber,
            # The subscriber is searched by name (a field, not a list of every subscriber);
            # a link's subscriber id shows as its name.
            "subscriber_name": subscriber_name
            or (engagements[0].organization.name if subscriber_id and engagements else ""),
            "state": state,
            "sort": sort,
        },
        # A semi-join (EXISTS per person), not DISTINCT over every vendor membership of
        # every visible engagement: 74 ms at 10,000 engagements, a few ms this way.
        # The vendor's staff only (add_member seats no one else in a vendor party), each
        # asked once whether they sit in a vendor party of an engagement the viewer sees:
        # the cost follows the vendor's staff, not the engagements.
        "cse_choices": User.objects.filter(profile__organization__kind=OrganizationKind.VENDOR)
        .filter(
            Exists(
                Membership.objects.filter(
                    user=OuterRef("pk"), party__is_vendor=True, engagement__in=visible
                )
            )
        )
        .order_by("username"),
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


def _page_facts(engagement_ids: list[int]) -> tuple[dict[int, dict], dict[int, list[str]]]:
    """For a page of engagements, in one query over their tasks and letters only: counts by
    status and by whose move it is, and the roles a letter names that no member holds.

    One row per (live task, letter), the task's row alone where it has no letters; the
    cost follows the page, not the database."""
    if not engagement_ids:
        return {}, {}
    held = MemberRole.objects.filter(
        membership__engagement_id=OuterRef("engagement_id"),
        membership__party_id=OuterRef("parties__party_id"),
        title=OuterRef("parties__role_title"),
    )
    rows = (
        EngagementTask.objects.live()
        .filter(engagement_id__in=engagement_ids)
        .annotate(role_held=Exists(held))
        .values_list(
            "pk",
            "engagement_id",
            "status",
            "parties__party__is_vendor",
            "parties__responsible",
            "parties__accountable",
            "parties__role_title",
            "role_held",
        )
        .order_by()
    )
    tasks: dict[int, dict] = {}
    unheld: dict[int, set[str]] = defaultdict(set)
    for pk, engagement_id, status, is_vendor, responsible, accountable, role, role_held in rows:
        task = tasks.setdefault(
            pk, {"engagement": engagement_id, "status": status, "r": set(), "a": set()}
        )
        if is_vendor is None:  # a task without letters
            continue
        if responsible:
            task["r"].add(is_vendor)
        if accountable:
            task["a"].add(is_vendor)
        if role and not role_held:
            unheld[engagement_id].add(role)
    out: dict[int, dict] = {}
    for task in tasks.values():
        entry = out.setdefault(
            task["engagement"], {"counts": Counter(), "waiting_vendor": 0, "waiting_subscriber": 0}
        )
        entry["counts"][task["status"]] += 1
        if task["status"] in OPEN_STATUSES:
            waits_on = task["r"]  # the Responsible party moves an open task
        elif task["status"] == TaskStatus.DONE:
            waits_on = task["a"] or task["r"]  # the signer: Accountable, else Responsible
        else:
            continue
        entry["waiting_vendor"] += True in waits_on
        entry["waiting_subscriber"] += False in waits_on
    for entry in out.values():
        counts = entry.pop("counts")
        entry["status_counts"] = [
            (s, TaskStatus(s).label, counts[s]) for s in TaskStatus.values if counts[s]
        ]
    return out, {e: sorted(titles) for e, titles in unheld.items()}
