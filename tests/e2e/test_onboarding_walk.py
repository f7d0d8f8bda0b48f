"""One engagement from kickoff to live in Chromium (issue 11): the checklist submitted,
returned with a comment, resubmitted and accepted; the Development and then the Production
deployment signed off by the CSE; configuration done; the handover recorded; the engagement
shows Live and onboarding at 100%."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagements.actions.checklists import review_checklist, save_checklist
from engagements.actions.handover import schedule_handover
from engagements.actions.tasks import sign_off_task, transition_task
from engagements.choices import Environment, TaskStatus
from engagements.models import InfrastructureChecklist
from tests.conftest import task_of
from tests.e2e.conftest import sign_in
from tests.factories import (
    PASSWORD,
    checklist_items,
    checklist_vms,
    make_engagement,
    staff,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION


def as_user(page, user) -> None:
    page.context.clear_cookies()
    sign_in(page, user.username, PASSWORD)


def deploy_and_sign(page, task, label: str) -> None:
    page.goto(f"/tasks/{task.pk}/")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_test_id("task-status")).to_have_text("In progress")
    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_test_id("task-status")).to_have_text("Done")
    page.get_by_text(f"Sign off {label}…").click()
    page.get_by_role("button", name="Sign off", exact=True).click()
    expect(page.get_by_test_id("task-status")).to_have_text("Signed off")


def test_an_engagement_from_kickoff_to_live(page, template_version, org_a, cse, engineer_a):
    engagement = make_engagement(org_a, "Walk", version=template_version, in_order=True)
    staff(engagement, cse, engineer_a)
    dev_checklist = InfrastructureChecklist.objects.get(engagement=engagement, environment=DEV)
    # Yesterday the engineer filled in the Development checklist as a draft.
    save_checklist(dev_checklist, actor=engineer_a, items=checklist_items(), vms=checklist_vms(2))

    # The deployment waits on the infrastructure: the CSE is told so, and offered no Start.
    as_user(page, cse)
    deploy_dev = task_of(engagement, "deployment", DEV)
    page.goto(f"/tasks/{deploy_dev.pk}/")
    expect(page.get_by_test_id("waits-on")).to_contain_text("Preparing VM Infrastructure")
    expect(page.get_by_role("button", name="Start")).to_have_count(0)

    # The engineer submits; the CSE returns it with a comment; the engineer resubmits.
    as_user(page, engineer_a)
    page.goto(f"/checklists/{dev_checklist.pk}/")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("checklist-status")).to_have_text("Submitted")
    as_user(page, cse)
    page.goto(f"/checklists/{dev_checklist.pk}/")
    page.get_by_label("Overall comment").fill("Please confirm the jumphost allows our SSH key.")
    page.get_by_role("button", name="Return to the subscriber").click()
    expect(page.get_by_test_id("checklist-status")).to_have_text("Returned")
    as_user(page, engineer_a)
    page.goto(f"/checklists/{dev_checklist.pk}/")
    expect(page.get_by_text("Please confirm the jumphost allows our SSH key.")).to_be_visible()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("checklist-status")).to_have_text("Submitted")
    as_user(page, cse)
    page.goto(f"/checklists/{dev_checklist.pk}/")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_test_id("checklist-status")).to_have_text("Accepted")
    expect(page.get_by_test_id("vm-inventory")).to_contain_text("app-1")

    # Development deployment by the CSE; Production's infrastructure meanwhile.
    deploy_and_sign(page, deploy_dev, "Development")
    prod_checklist = InfrastructureChecklist.objects.get(engagement=engagement, environment=PROD)
    save_checklist(
        prod_checklist, actor=engineer_a, items=checklist_items(), vms=checklist_vms(3), submit=True
    )
    prod_checklist.refresh_from_db()
    review_checklist(prod_checklist, actor=cse, accept=True)
    deploy_and_sign(page, task_of(engagement, "deployment", PROD), "Production")
    expect(page.get_by_text("the engagement is live")).to_be_visible()

    # Configuration of Production by the engineer (Responsible, and signer: there is no A).
    as_user(page, engineer_a)
    config = task_of(engagement, "configuration", PROD)
    deploy_and_sign(page, config, "Production")

    # The handover, held: the CSE records it.
    schedule_handover(
        engagement,
        actor=cse,
        starts_at=timezone.now() + dt.timedelta(minutes=2),
        attendee_ids=[cse.pk, engineer_a.pk],
    )
    as_user(page, cse)
    page.goto(f"/engagements/{engagement.pk}/handover/")
    page.get_by_label("Meeting notes").fill("Monitoring, backups and updates walked through.")
    page.get_by_role("button", name="Record as held").click()
    expect(page.get_by_text("Handover recorded as held; the task is done.")).to_be_visible()

    # What is left of onboarding, through the services: the sign-offs and the rest.
    for key, env, actor in [
        ("infrastructure", DEV, engineer_a),
        ("infrastructure", PROD, engineer_a),
        ("handover", "", cse),
    ]:
        sign_off_task(task_of(engagement, key, env), actor=actor)
    config_dev = task_of(engagement, "configuration", DEV)
    for status in (TaskStatus.IN_PROGRESS, TaskStatus.DONE):
        transition_task(config_dev, to=status, actor=engineer_a)
        config_dev.refresh_from_db()
    sign_off_task(config_dev, actor=engineer_a)
    integration = task_of(engagement, "code_integration")
    for status in (TaskStatus.IN_PROGRESS, TaskStatus.DONE):
        transition_task(integration, to=status, actor=engineer_a)
        integration.refresh_from_db()
    sign_off_task(integration, actor=engineer_a)
    transition_task(
        task_of(engagement, "user_migration"),
        to=TaskStatus.NOT_APPLICABLE,
        actor=engineer_a,
        reason="No users to migrate: a new tenant.",
    )

    page.goto(f"/engagements/{engagement.pk}/")
    expect(page.get_by_test_id("onboarding-progress")).to_contain_text("(100%)")
    expect(page.get_by_test_id("onboarding-progress")).to_contain_text("Live")
    expect(page.get_by_test_id("live-backup")).to_contain_text("on time")
