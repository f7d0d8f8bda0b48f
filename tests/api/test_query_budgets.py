"""Each API list answers in a constant number of SQL queries whatever its size: measured at
two sizes and compared, with a budget. Every request with a token pays 1 query for the token
and its owner (its last use is written at most once a minute: not here)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engagements.actions.issues import raise_issue
from engagements.actions.tasks import add_comment
from tests.api.conftest import Caller, make_token
from tests.factories import OrganizationFactory, make_engagement, vendor_party
from tests.test_query_budgets import engagement_with

pytestmark = pytest.mark.django_db


def count(caller: Caller, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = caller.get(url, params)
    assert response.status_code == 200, (url, response.content)
    return len(ctx.captured_queries)


@pytest.fixture
def sized(template_version, org_a, org_b, cse, engineer_a, engineer_b):
    small = engagement_with(12, org_a, cse, engineer_a)
    large = engagement_with(200, org_b, cse, engineer_b)
    for engagement, engineer, n in ((small, engineer_a, 2), (large, engineer_b, 60)):
        task = engagement.tasks.order_by("pk").first()
        for i in range(n):
            add_comment(task, actor=engineer, body=f"c{i}")
    return small, large


def callers(engineer_a, engineer_b) -> tuple[Caller, Caller]:
    small, large = Caller(make_token(engineer_a)[1]), Caller(make_token(engineer_b)[1])
    for caller in (small, large):  # the token's first use writes last_used_at; not counted
        caller.get("/api/v1/engagements/")
    return small, large


def test_lists_at_two_sizes(sized, engineer_a, engineer_b):
    small, large = sized
    caller_small, caller_large = callers(engineer_a, engineer_b)
    # Per request: the token with its owner (1); lists by visibility: the portal-admin
    # check (1). Then tasks: count, page, letters with their parties (5 in all); events:
    # the page with actors and tasks, no count behind a cursor (3); checklists, cycles:
    # count, page, items or stages (5; these big templates have none: 3); notifications:
    # count, page with events (3); issues: count, page (4; none here: 3).
    budgets = {
        "/api/v1/tasks/": ({"page_size": 200}, 5),
        "/api/v1/events/": ({"page_size": 500}, 3),
        "/api/v1/checklists/": ({}, 5),
        "/api/v1/notifications/": ({"page_size": 200}, 3),
        "/api/v1/issues/": ({}, 4),
        "/api/v1/cycles/": ({}, 5),
    }
    for url, (params, budget) in budgets.items():
        n_small, n_large = count(caller_small, url, params), count(caller_large, url, params)
        assert n_small == n_large <= budget, (url, n_small, n_large)
    detail_small = count(caller_small, f"/api/v1/engagements/{small.pk}/", {})
    detail_large = count(caller_large, f"/api/v1/engagements/{large.pk}/", {})
    # The token, the engagement (with the admin check), columns, tasks, letters, the
    # version's prerequisites, members and their roles, the events page (uncounted) and the
    # operations summary (the engagement page's selector).
    assert detail_small == detail_large <= 15, (detail_small, detail_large)


def test_the_engagement_list_at_3_and_60(template_version, cse):
    def grow(to: int):
        from engagements.actions.membership import add_member
        from engagements.models import Engagement

        for i in range(to - Engagement.objects.count()):
            engagement = make_engagement(OrganizationFactory(), f"P{i}", version=template_version)
            add_member(engagement, cse, party=vendor_party(), is_manager=True)

    caller = Caller(make_token(cse)[1])
    grow(3)
    caller.get("/api/v1/engagements/")
    n_small = count(caller, "/api/v1/engagements/", {"page_size": 200})
    grow(60)
    n_large = count(caller, "/api/v1/engagements/", {"page_size": 200})
    # token and owner, the portal-admin check, count, page with organisations and templates
    assert n_small == n_large <= 4, (n_small, n_large)


def test_issues_at_two_sizes(engagement_a, engineer_a, cse):
    caller = Caller(make_token(engineer_a)[1])
    caller.get("/api/v1/engagements/")

    def grow(n: int):
        for i in range(n):
            raise_issue(
                engagement_a,
                actor=engineer_a,
                title=f"Issue {i}",
                environment="production",
                severity="low",
                description="d",
            )

    grow(2)
    n_small = count(caller, "/api/v1/issues/", {"page_size": 200})
    grow(40)
    n_large = count(caller, "/api/v1/issues/", {"page_size": 200})
    # the token, the portal-admin check, count, page with who raised them
    assert n_small == n_large <= 4, (n_small, n_large)
