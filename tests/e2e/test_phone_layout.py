"""Every main page at 390x844 as each demo user: no horizontal overflow, and the first
row's status, due date and next action inside the viewport; axe-core on every main page
at 1366 and at 390 pixels wide: no serious or critical violation (issue 15, item 1)."""

from __future__ import annotations

import io
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import resolve, reverse
from playwright.sync_api import expect

from engagements import permissions, policy
from engagements.choices import Environment
from engagements.management.commands.load_demo import DEMO_PASSWORD
from engagements.models import Engagement, InfrastructureChecklist, Issue, UpdateCycle
from raci.choices import Phase
from tests.e2e.a11y import serious_violations
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
DEMO_USERS = ["admin", "cse", "acme-engineer", "initech-engineer", "globex-engineer"]
# axe runs at both widths on every main page as the CSE (who sees every kind of page), and
# on the pages whose forms differ for the subscriber as Acme's engineer (the run is ~1 s a
# page and width: every page as every user would take minutes); the overflow check runs
# on every main page as the CSE and Acme's engineer, and on the pages whose rows differ as
# the other demo users.
SUBSCRIBER_AXE = {"my-work", "engagement-detail", "task-detail", "checklist-detail"}
# The CSE and Acme's engineer visit every main page; the others (the portal admin, and the
# engineers of the engagements in onboarding) the pages whose rows differ for them.
EVERY_PAGE = {"cse", "acme-engineer"}
THEIR_PAGES = {"my-work", "portfolio", "engagement-detail", "task-detail", "checklist-detail"}


def main_pages(user) -> list[str]:
    """The main pages of the user's first engagement (the demo's live Acme one when they
    see it, which has every kind of operations row), and their own pages."""
    pages = [reverse("engagements:my-work"), reverse("engagements:engagement-list")]
    if permissions.is_vendor_staff(user):
        pages.append(reverse("engagements:portfolio"))
    pages += [reverse("engagements:notifications"), reverse("accounts:account")]
    engagement = (
        Engagement.objects.visible_to(user).order_by("-kickoff_date", "pk").last()
    )  # the oldest: Acme, live, where the user sees it
    if engagement is None:
        return pages
    e = engagement.pk
    task = engagement.tasks.filter(phase=Phase.ONBOARDING).order_by("position", "pk").first()
    pages += [
        reverse("engagements:engagement-detail", args=[e]),
        reverse("engagements:task-detail", args=[task.pk]),
        reverse("engagements:cycles", args=[e]),
        reverse("engagements:handover", args=[e]),
        reverse("engagements:duties", args=[e]),
        reverse("engagements:issues", args=[e]),
    ]
    checklist = InfrastructureChecklist.objects.filter(
        engagement=engagement, environment=Environment.DEVELOPMENT
    ).first()
    if checklist:
        pages.append(reverse("engagements:checklist-detail", args=[checklist.pk]))
    cycle = UpdateCycle.objects.filter(engagement=engagement).order_by("-pk").first()
    if cycle:
        pages.append(reverse("engagements:cycle-detail", args=[cycle.pk]))
    issue = Issue.objects.filter(engagement=engagement).order_by("pk").first()
    if issue:
        pages.append(reverse("engagements:issue-detail", args=[issue.pk]))
    if policy.judge(user, "engagement.administer", engagement, seat=None).allowed:
        pages.append(reverse("engagements:members", args=[e]))
    return pages


def no_overflow(page, url: str) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{url} scrolls sideways at {inner}px: {width}px wide"


def inside(page, locator, what: str) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    inner = page.evaluate("window.innerWidth")
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= inner + 0.5, (what, box, inner)


def first_row_fits(page, url: str) -> None:
    """The first row's status, due date and next action inside the viewport's width."""
    if url == reverse("engagements:my-work"):
        if page.get_by_test_id("mywork-table").count():
            for part in ("row-status", "row-due", "row-action"):
                inside(page, page.get_by_test_id(part).first, f"{url} {part}")
        return
    if page.locator("table.matrix").count():
        line = page.locator("table.matrix .task-line").first
        inside(page, line.locator(".badge"), f"{url} status")
        inside(page, line.locator(".due"), f"{url} due")
        return
    rows = page.locator("main table.grid > tbody > tr")
    if rows.count():
        cells = rows.first.locator(":scope > td, :scope > th")
        for i in range(cells.count()):
            if cells.nth(i).is_visible():
                inside(page, cells.nth(i), f"{url} first row, cell {i + 1}")


def axe_at_both_widths(page, username: str, url: str) -> None:
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        found = serious_violations(page)
        assert not found, (username, url, viewport["width"], found)
    page.set_viewport_size(PHONE)


def matrix_region_says_it_scrolls(page, engagement_url: str) -> None:
    """Between phone and desktop widths the matrix may be wider than the screen: it scrolls
    inside a labelled, focusable region whose visible hint says so (only when it does)."""
    page.goto(engagement_url)
    page.set_viewport_size({"width": 700, "height": 900})
    region = page.get_by_role("region", name="The matrix, scrolls sideways")
    expect(region).to_have_attribute("tabindex", "0")
    no_overflow(page, "the engagement page at 700px")
    hint = page.get_by_text("scroll sideways to see every party")
    if region.evaluate("r => r.scrollWidth > r.clientWidth"):
        expect(hint).to_be_visible()
    else:
        expect(hint).to_be_hidden()
    page.set_viewport_size(PHONE)  # a card per task: nothing scrolls, the hint goes
    expect(hint).to_be_hidden()
    assert region.evaluate("r => r.scrollWidth <= r.clientWidth")


def test_every_main_page_fits_a_phone_and_passes_axe(browser, live_server):
    call_command("load_demo", stdout=io.StringIO())
    users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_USERS)}
    started = time.monotonic()
    seen = axed = 0
    for username in DEMO_USERS:
        context = browser.new_context(viewport=PHONE, base_url=live_server.url)
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            sign_in(page, username, DEMO_PASSWORD)
            pages = main_pages(users[username])
            for url in pages:
                if username not in EVERY_PAGE and resolve(url).url_name not in THEIR_PAGES:
                    continue
                response = page.goto(url)
                assert response.status == 200, (username, url, response.status)
                no_overflow(page, url)
                first_row_fits(page, url)
                seen += 1
                if username == "cse" or (
                    username == "acme-engineer" and resolve(url).url_name in SUBSCRIBER_AXE
                ):
                    axe_at_both_widths(page, username, url)
                    axed += 1
            if username == "cse":
                engagement = next(u for u in pages if resolve(u).url_name == "engagement-detail")
                matrix_region_says_it_scrolls(page, engagement)
        finally:
            context.close()
    assert seen >= 40 and axed >= 19, (seen, axed)  # every demo user's pages were visited
    print(f"\n{seen} pages ({axed} through axe at two widths) in {time.monotonic() - started:.1f}s")
