"""Search in a real browser: a subscriber types in the header's search box and finds a task
of their own engagement (and not the same task of another tenant's), then opens it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engagements.actions.tasks import add_comment
from engagements.choices import Environment
from tests.conftest import task_of
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_header_search_finds_my_task_and_not_another_tenants(
    page, live_server, engagement_a, engagement_b, engineer_a, cse
):
    mine = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    theirs = task_of(engagement_b, "deployment", Environment.DEVELOPMENT)
    add_comment(theirs, actor=cse, body="Deployment notes of subscriber B")
    sign_in(page, engineer_a.username, PASSWORD)

    box = page.get_by_role("searchbox", name="Search the portal")
    box.fill("deploym")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=deploym"))

    hits = page.get_by_test_id("search-hit")
    expect(hits.first).to_be_visible()
    expect(page.locator(f'a[href="/tasks/{mine.pk}/"]')).to_have_count(1)
    expect(page.locator(f'a[href="/tasks/{theirs.pk}/"]')).to_have_count(0)
    expect(page.get_by_text("Appliance B")).to_have_count(0)
    expect(page.locator("mark").first).to_have_text(re.compile("^Deployment", re.I))
    # The box keeps what was typed; the result opens the task.
    expect(page.get_by_role("searchbox", name="Search the portal")).to_have_value("deploym")
    page.locator(f'a[href="/tasks/{mine.pk}/"]').click()
    page.wait_for_url(f"**/tasks/{mine.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Deployment")
