"""The timeline picture of the demo engagements in Chromium: drawn as SVG under the strict
CSP (no violation reported), readable at 390 px (scaled to the width, no horizontal
overflow) with its table, and reached from the engagement page."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from engagements.management.commands.load_demo import DEMO_PASSWORD, ENGAGEMENTS
from engagements.models import Engagement
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_cse_reads_the_timeline_of_each_demo_engagement(page):
    call_command("load_demo", stdout=io.StringIO())
    violations: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    sign_in(page, "cse", DEMO_PASSWORD)
    for org, name, _engineer, _days in ENGAGEMENTS:
        engagement = Engagement.objects.get(organization__name=org, name=name)
        page.goto(f"/engagements/{engagement.pk}/")
        page.get_by_role("link", name="Timeline", exact=True).click()
        expect(page.get_by_role("heading", name="Timeline", level=1)).to_be_visible()
        picture = page.get_by_role("img", name=f"Timeline of {name}")
        expect(picture).to_be_visible()
        n_tasks = engagement.tasks.filter(phase="onboarding", retired_at__isnull=True).count()
        expect(picture.locator("g[data-task]")).to_have_count(n_tasks)
        expect(page.get_by_test_id("timeline-table").locator("tbody tr")).to_have_count(n_tasks)
        # The picture is drawn: markers have a size, today's line is inside it.
        box = picture.bounding_box()
        assert box and box["width"] > 600 and box["height"] > 200
        expect(picture.locator("g.today line")).to_have_count(1)

    # The oldest demo engagement (kicked off 70 days ago) has prerequisites as arrows and
    # overdue or slipped work marked in words as well as colour.
    acme = Engagement.objects.get(name=ENGAGEMENTS[0][1])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/engagements/{acme.pk}/timeline/")
    picture = page.get_by_role("img", name=f"Timeline of {acme.name}")
    assert picture.locator("g.arrows path").count() > 0
    box = picture.bounding_box()
    assert box and box["width"] <= 390  # scaled to the phone's width
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px of horizontal overflow at 390 px"
    expect(page.get_by_test_id("timeline-table")).to_be_visible()
    assert violations == []
