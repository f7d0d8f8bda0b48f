from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from functools import partial
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
from engagements.querysets import PORTAL_ADMIN, visible_q_of
from engagements.selectors.common import PeekPage, url_maker
from engagements.selectors.timeline import portfolio_bar_html, portfolio_bars
from psaas_portal import prepared
from psaas_portal.auth import holds_permission
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


def _page_query(
    user_id: int,
    today: dt.date,
    cse_id: int | None = None,
    subscriber_id: int | None = None,
    *,
    admin: bool,
    name: str,
    state: str,
    sort: str,
    start: int | None = None,
    stop: int | None = None,
) -> Any:
    """The visible engagements with their counts, filtered and sorted (sliced when asked)."""
    qs = (
        Engagement.objects.filter(visible_q_of(user_id, admin=admin))
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
    if cse_id is not None:
        qs = qs.filter(memberships__user_id=cse_id, memberships__party__is_vendor=True)
    if subscriber_id is not None:
        qs = qs.filter(organization_id=subscriber_id)
    if name:
        qs = qs.filter(organization__name__icontains=name)
    if state:
        qs = qs.filter(state=state)
    qs = qs.order_by(*PORTFOLIO_SORTS[sort], "pk")
    return qs[start:stop] if start is not None else qs


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
    sort = sort if sort in PORTFOLIO_SORTS else "subscriber"
    state = state if state in EngagementState.values else ""
    subscriber_name = subscriber_name.strip()[:100]
    admin = holds_permission(user, PORTAL_ADMIN)
    params: dict[str, Any] = {"user_id": user.pk, "today": today}
    if (cse_id := parse_id(cse)) is not None:
        params["cse_id"] = cse_id
    if (subscriber_id := parse_id(subscriber)) is not None:
        params["subscriber_id"] = subscriber_id
    shape: dict[str, Any] = {"admin": admin, "name": subscriber_name, "state": state, "sort": sort}

    def fetch(start: int, stop: int) -> list[Engagement]:
        """A page: compiled once per shape for the first pages without a name search."""
        build = partial(_page_query, **shape, start=start, stop=stop)
        if subscriber_name or start >= 3 * PORTFOLIO_PAGE_SIZE:
            return list(build(**params))
        key = ("portfolio", admin, state, sort, tuple(sorted(params)), start, stop)
        return prepared.rows(key, build, **params)

    # The page and one more row (is there a next page?), not a COUNT over every visible
    # engagement: "Page N" with previous and next. A page past the end (an old link) shows
    # the last page, as Paginator.get_page did: only then is the portfolio counted.
    page_obj: PeekPage | Page = PeekPage(None, page, PORTFOLIO_PAGE_SIZE, fetch=fetch)
    if not page_obj.object_list and page_obj.number > 1:
        page_obj = Paginator(_page_query(**params, **shape), PORTFOLIO_PAGE_SIZE).get_page(page)
    engagements = list(page_obj.object_list)
    ids = [e.pk for e in engagements]
    stats, unheld = _page_facts(ids)
    bars = portfolio_bars(engagements, today=today)
    cses = defaultdict(list)
    for m in prepared.rows(("page cses", len(ids)), _cses_of, **prepared.numbered("e", ids)):
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
        "cse_choices": prepared.rows(
            ("cse choices", admin), partial(_cse_choices, admin=admin), user_id=user.pk
        ),
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


def _cses_of(**engagement_ids: int) -> Any:
    return Membership.objects.filter(
        engagement_id__in=prepared.in_order("e", engagement_ids), party__is_vendor=True
    ).select_related("user")


def _cse_choices(user_id: int, *, admin: bool) -> Any:
    """The vendor's staff only (add_member seats no one else in a vendor party), each asked
    once whether they sit in a vendor party of an engagement the viewer sees (a semi-join):
    the cost follows the vendor's staff, not the engagements (a DISTINCT over every vendor
    membership of every visible engagement took 74 ms at 10,000)."""
    visible = Engagement.objects.filter(visible_q_of(user_id, admin=admin))
    return (
        get_user_model()
        .objects.filter(profile__organization__kind=OrganizationKind.VENDOR)
        .filter(
            Exists(
                Membership.objects.filter(
                    user=OuterRef("pk"), party__is_vendor=True, engagement__in=visible
                )
            )
        )
        .order_by("username")
    )


def _page_facts(engagement_ids: list[int]) -> tuple[dict[int, dict], dict[int, list[str]]]:
    """For a page of engagements, in one query over their tasks and letters only: counts by
    status and by whose move it is, and the roles a letter names that no member holds.

    One row per (live task, letter), the task's row alone where it has no letters; the
    cost follows the page, not the database."""
    if not engagement_ids:
        return {}, {}
    rows = prepared.rows(
        ("page facts", len(engagement_ids)), _facts_query, **prepared.numbered("e", engagement_ids)
    )
    return _facts(rows)


def _facts_query(**engagement_ids: int) -> Any:
    held = MemberRole.objects.filter(
        membership__engagement_id=OuterRef("engagement_id"),
        membership__party_id=OuterRef("parties__party_id"),
        title=OuterRef("parties__role_title"),
    )
    return (
        EngagementTask.objects.live()
        .filter(engagement_id__in=prepared.in_order("e", engagement_ids))
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


def _facts(rows: Any) -> tuple[dict[int, dict], dict[int, list[str]]]:
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
