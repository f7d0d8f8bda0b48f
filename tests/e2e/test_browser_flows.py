"""The portal in a real browser: the engineer, the CSE, the admin, and isolation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engagements.actions.cycles import accept_windows, propose_cycle
from engagements.choices import Environment
from tests.conftest import task_of
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_engineer_moves_a_task_in_place_then_the_cse_signs_off_the_deployment(
    page, engagement_a, engineer_a, cse
):
    sign_in(page, engineer_a.username, PASSWORD)
    page.goto(f"/engagements/{engagement_a.pk}/")
    page.evaluate("window.__noReload = true")
    monitoring = task_of(engagement_a, "code_integration")
    page.locator(f"#badge-{monitoring.pk}").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Code Integration into Applications")).to_be_visible()
    panel.get_by_role("button", name="Start").click()
    expect(panel.get_by_test_id("task-status")).to_have_text("In progress")
    expect(page.locator(f"#badge-{monitoring.pk}")).to_have_text("In progress")
    panel.get_by_role("button", name="Mark done").click()
    expect(panel.get_by_test_id("task-status")).to_have_text("Done")
    expect(page.locator(f"#badge-{monitoring.pk}")).to_have_text("Done")
    assert page.evaluate("window.__noReload") is True  # moved in place, no page load
    monitoring.refresh_from_db()
    assert monitoring.status == "done"

    # The CSE deploys Development and signs it off.
    page.context.clear_cookies()
    sign_in(page, cse.username, PASSWORD)
    deploy = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    page.goto(f"/tasks/{deploy.pk}/")
    page.get_by_role("button", name="Start").click()
    page.get_by_role("button", name="Mark done").click()
    page.get_by_text("Sign off Development…").click()
    page.get_by_label("Comment (optional)").fill("Deployed over SSH; health checks green.")
    page.get_by_role("button", name="Sign off", exact=True).click()
    expect(page.get_by_test_id("task-status")).to_have_text("Signed off")
    expect(page.get_by_text("signed off Development")).to_be_visible()
    deploy.refresh_from_db()
    assert deploy.status == "signed_off"
    assert task_of(engagement_a, "deployment", Environment.PRODUCTION).status == "not_started"


def test_admin_toggles_a_letter_sees_the_warning_change_and_publishes(
    page, template_version, admin_user
):
    sign_in(page, admin_user.username, PASSWORD)
    page.goto("/raci/templates/")
    page.get_by_role("button", name="New draft from v1").click()
    hygiene = page.get_by_test_id("hygiene")
    expect(hygiene).to_contain_text("Operations Handover: No Accountable party")
    page.get_by_role("button", name="A for Auth0 on Operations Handover").click()
    expect(hygiene).not_to_contain_text("Operations Handover")
    expect(page.get_by_role("button", name="A for Auth0 on Operations Handover")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_label("Change note for v2").fill("Auth0 is Accountable for the handover")
    page.get_by_role("button", name="Publish v2").click()
    expect(page.get_by_test_id("version-status")).to_have_text("Published")


def test_subscriber_b_cannot_open_subscriber_as_engagement(
    page, engagement_a, engagement_b, engineer_b
):
    sign_in(page, engineer_b.username, PASSWORD)
    response = page.goto(f"/engagements/{engagement_a.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("Appliance A")).to_have_count(0)


def test_an_update_cycle_from_snapshots_to_production(page, engagement_a, engineer_a, cse):
    import datetime as dt

    from django.utils import timezone

    from engagements.models import UpdateCycle

    start = timezone.now() + dt.timedelta(days=2)
    cycle = propose_cycle(
        engagement_a,
        actor=cse,
        release="2026.12.1",
        windows={
            Environment.DEVELOPMENT: (start, start + dt.timedelta(hours=3)),
            Environment.PRODUCTION: (
                start + dt.timedelta(days=2),
                start + dt.timedelta(days=2, hours=3),
            ),
        },
    )
    accept_windows(cycle, actor=engineer_a)
    taken = (timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")

    def prepare(environment: str):
        form = page.get_by_test_id(f"prepare-{environment}")
        form.get_by_label("VM snapshots").fill(
            f"{environment}-app-1, snap-{environment}-1, {taken}\n"
            f"{environment}-app-2, snap-{environment}-2, {taken}"
        )
        form.get_by_label("Access to the appliance is provided").check()
        form.get_by_label("Who will be present").fill("Jane (infrastructure)")
        form.get_by_role("button", name="Record").click()

    # The subscriber records the Development snapshots.
    sign_in(page, engineer_a.username, PASSWORD)
    page.goto(f"/updates/{cycle.pk}/")
    prepare("development")
    expect(page.get_by_text("Preparation recorded.")).to_be_visible()
    expect(page.get_by_test_id("development-prepared")).to_contain_text("snap-development-2")

    def allow_outside_window(environment: str):
        # The windows are two days off: the subscriber (Accountable) lets the update start now.
        label = f"Let the {environment} update start outside its window"
        page.get_by_label(label).fill("Security fix; we are ready now")
        form = page.locator("form").filter(has=page.get_by_label(label))
        form.get_by_role("button", name="Allow a start outside the window").click()
        expect(page.get_by_text("the update may start outside its window")).to_be_visible()
        expect(page.get_by_test_id(f"{environment.lower()}-window")).to_contain_text(
            "Security fix; we are ready now"
        )

    allow_outside_window("Development")

    # The CSE runs the Development update and marks it done.
    page.context.clear_cookies()
    sign_in(page, cse.username, PASSWORD)
    page.goto(f"/updates/{cycle.pk}/")
    page.get_by_role("button", name="Start the Development update").click()
    expect(page.get_by_test_id("cycle-state")).to_have_text("Updating Development")
    page.get_by_label("Status update for the subscriber").fill("Packages installed, migrating")
    page.get_by_role("button", name="Post status").click()
    page.get_by_label("Manual scripts run").fill("none required")
    page.get_by_role("button", name="Mark Development updated").click()
    expect(page.get_by_test_id("cycle-state")).to_have_text("Testing Development")
    # Production is refused until the subscriber's tests pass.
    page.get_by_role("button", name="Start the Production update").click()
    expect(page.get_by_text("waits until Development testing has passed")).to_be_visible()

    # The subscriber records a passed test, and prepares Production.
    page.context.clear_cookies()
    sign_in(page, engineer_a.username, PASSWORD)
    page.goto(f"/updates/{cycle.pk}/")
    page.get_by_label("What was tested").fill("Logins, MFA, SSO into our three apps")
    page.get_by_role("button", name="Tests passed").click()
    expect(page.get_by_test_id("cycle-state")).to_have_text("Development passed")
    expect(page.get_by_test_id("dev-test")).to_contain_text("passed")
    prepare("production")
    expect(page.get_by_test_id("production-prepared")).to_contain_text("snap-production-1")
    allow_outside_window("Production")

    # The CSE completes Production.
    page.context.clear_cookies()
    sign_in(page, cse.username, PASSWORD)
    page.goto(f"/updates/{cycle.pk}/")
    page.get_by_role("button", name="Start the Production update").click()
    expect(page.get_by_test_id("cycle-state")).to_have_text("Updating Production")
    page.get_by_label("Manual scripts run").fill("post-update reindex")
    page.get_by_role("button", name="Mark Production updated").click()
    expect(page.get_by_test_id("cycle-state")).to_have_text("Completed")
    expect(page.get_by_test_id("cycle-timeline")).to_contain_text("updated Production to 2026.12.1")
    assert UpdateCycle.objects.get(pk=cycle.pk).state == "completed"
