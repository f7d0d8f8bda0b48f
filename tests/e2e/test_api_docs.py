"""The API reference page in a real browser, under the portal's CSP: Swagger UI loads from
our static files, shows the operations, and "Try it out" works with the signed-in session
(CSRF included)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engagements.models import Event
from tests.conftest import task_of
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_reference_page_runs_under_the_csp_and_tries_a_write(page, engagement_a, engineer_a):
    sign_in(page, engineer_a.username, PASSWORD)
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.goto("/api/docs/")
    operation = page.locator("#operations-tasks-tasks_transition_create")
    expect(operation).to_be_visible()
    operation.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    task = task_of(engagement_a, "monitoring")
    operation.locator("input[placeholder='id']").fill(str(task.pk))
    operation.locator("textarea.body-param__text").fill('{"to": "in_progress"}')
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")
    assert Event.objects.filter(task=task, verb="task.status_changed").exists()
    assert not problems, problems
