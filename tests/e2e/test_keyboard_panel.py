"""The task panel with the keyboard only (issue 15, item 2): no click anywhere, only
keyboard.press and keyboard.type. The CSE opens the Development deployment from the
engagement page, starts it, completes it and signs it off in the panel: the matrix line,
the progress and the header's count follow without a reload, focus goes to the panel's
heading when it opens and back to the badge on Escape. On My work, moving the Production
deployment updates the counters in place and Escape returns focus to the row's link."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engagements.choices import Environment, TaskStatus
from engagements.selectors.notifications import unread_count
from tests.conftest import task_of
from tests.e2e.a11y import serious_violations
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FOCUSED_IS = """([selector, text]) => {
    const el = document.activeElement;
    return Boolean(el && el.matches(selector) && (!text || el.textContent.trim() === text));
}"""


def tab_to(page, selector: str, text: str = "", limit: int = 80) -> None:
    """Presses Tab until the focused element matches (and has exactly that text)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_IS, [selector, text]):
            return
    raise AssertionError(f"Tab never reached {selector} {text!r}")


def focus_is(page, element_id: str) -> None:
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id", arg=element_id
    )


def sign_in_by_keyboard(page, username: str) -> None:
    page.goto("/accounts/login/")
    focus_is(page, "id_username")  # autofocus
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def press_in_panel(page, task, label: str) -> None:
    tab_to(page, "#panel button, #panel summary", label)
    page.keyboard.press("Enter")


def test_keyboard_only_move_and_sign_off_refresh_the_page_in_place(page, engagement_a, cse):
    dev = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    prod = task_of(engagement_a, "deployment", Environment.PRODUCTION)
    sign_in_by_keyboard(page, cse.username)

    page.goto(f"/engagements/{engagement_a.pk}/")
    page.evaluate("window.__noReload = true")
    progress = page.get_by_test_id("onboarding-progress")
    expect(progress).to_contain_text("0 of ")
    tab_to(page, f"#badge-{dev.pk}")
    page.keyboard.press("Enter")
    focus_is(page, f"task-title-{dev.pk}")  # the panel's heading takes focus
    panel = page.locator("#panel")
    assert not serious_violations(page)  # with the panel open too

    press_in_panel(page, dev, "Start")
    expect(panel.get_by_test_id("task-status")).to_have_text("In progress")
    expect(page.locator(f"#badge-{dev.pk}")).to_have_text("Development: In progress")
    focus_is(page, f"task-title-{dev.pk}")

    press_in_panel(page, dev, "Mark done")
    expect(panel.get_by_test_id("task-status")).to_have_text("Done")
    expect(progress).to_contain_text("1 of ")
    expect(page.get_by_test_id("status-counts")).to_contain_text("Done 1")
    focus_is(page, f"task-title-{dev.pk}")

    press_in_panel(page, dev, "Sign off Development…")  # opens the sign-off form
    page.keyboard.press("Tab")
    page.keyboard.type("Deployed; health checks green.")
    tab_to(page, "#panel button", "Sign off")
    page.keyboard.press("Enter")
    expect(panel.get_by_test_id("task-status")).to_have_text("Signed off")
    expect(page.locator(f"#badge-{dev.pk}")).to_have_text("Development: Signed off")
    expect(page.get_by_test_id("status-counts")).to_contain_text("Signed off 1")
    expect(progress).to_contain_text("1 of ")
    expect(page.get_by_test_id("unread-count")).to_have_text(str(unread_count(cse)))
    focus_is(page, f"task-title-{dev.pk}")

    page.keyboard.press("Escape")
    expect(panel).to_be_empty()
    focus_is(page, f"badge-{dev.pk}")  # back to the badge that opened it
    assert page.evaluate("window.__noReload") is True  # all of it without a page load
    dev.refresh_from_db()
    assert dev.status == TaskStatus.SIGNED_OFF

    # My work: the counters follow a move made in the panel.
    page.goto("/")
    page.evaluate("window.__noReload = true")
    to_sign = page.get_by_test_id("count-to-sign")
    expect(to_sign).to_contain_text("0 awaiting sign-off")
    tab_to(page, f"#open-{prod.pk}")
    page.keyboard.press("Enter")
    focus_is(page, f"task-title-{prod.pk}")
    press_in_panel(page, prod, "Start")
    expect(panel.get_by_test_id("task-status")).to_have_text("In progress")
    press_in_panel(page, prod, "Mark done")
    expect(panel.get_by_test_id("task-status")).to_have_text("Done")
    expect(to_sign).to_contain_text("1 awaiting sign-off")
    expect(page.get_by_test_id("mywork-table").get_by_test_id("row-status").first).to_be_visible()
    focus_is(page, f"task-title-{prod.pk}")
    page.keyboard.press("Escape")
    focus_is(page, f"open-{prod.pk}")
    assert page.evaluate("window.__noReload") is True


def test_the_task_page_has_no_close_button(page, engagement_a, cse):
    """On the task's own page (no panel) there is nothing to close, before or after an
    in-place move."""
    dev = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    sign_in_by_keyboard(page, cse.username)
    page.goto(f"/tasks/{dev.pk}/")
    expect(page.get_by_role("button", name="Close the task panel")).to_have_count(0)
    tab_to(page, "button", "Start")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("task-status")).to_have_text("In progress")
    expect(page.get_by_role("button", name="Close the task panel")).to_have_count(0)
    focus_is(page, f"task-title-{dev.pk}")
