"""The task panel's answers: the Close button only in the panel, and after a move the
out-of-band fragments for what it changed on the page the panel is on (the matrix's
status lines and the progress on the engagement page, the counters and list on My work,
the header's unread count everywhere)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from engagements.choices import Environment, TaskStatus
from tests.conftest import task_of

pytestmark = pytest.mark.django_db

OOB = ' hx-swap-oob="true"'


def htmx(from_url: str) -> dict:
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{from_url}"}


def line_of(html: str, task_pk: int) -> str:
    """The status line of one task, as the page or the fragment renders it (whitespace
    folded, the out-of-band marker removed)."""
    match = re.search(
        rf'<div class="task-line" id="line-{task_pk}"(?:{OOB})?>.*?</div>', html, flags=re.S
    )
    assert match, f"no status line for task {task_pk}"
    return re.sub(r"\s+", " ", match.group(0).replace(OOB, ""))


def move(client, task, to: str, from_url: str):
    task.refresh_from_db()
    return client.post(
        reverse("engagements:task-transition", args=[task.pk]),
        {"to": to, "reason": "", "revision": task.revision},
        **htmx(from_url),
    )


def test_the_panel_has_a_close_button_and_the_task_page_none(client_for, engagement_a, cse):
    task = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    client = client_for(cse)
    engagement_url = reverse("engagements:engagement-detail", args=[engagement_a.pk])
    task_url = reverse("engagements:task-detail", args=[task.pk])
    in_panel = client.get(task_url, **htmx(engagement_url)).content.decode()
    assert "data-close-panel" in in_panel
    assert "data-close-panel" not in client.get(task_url).content.decode()
    # A move made on the task's own page answers in place, still without a Close button.
    on_page = move(client, task, TaskStatus.IN_PROGRESS, task_url).content.decode()
    assert "data-close-panel" not in on_page
    assert 'id="progress"' not in on_page and "line-" not in on_page
    assert f'id="bell" class="bell" aria-label="Notifications, 0 unread"{OOB}' in on_page


def test_a_move_on_the_engagement_page_refreshes_the_lines_and_progress(
    client_for, engagement_a, cse
):
    client = client_for(cse)
    dev = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    prod = task_of(engagement_a, "deployment", Environment.PRODUCTION)
    page_url = reverse("engagements:engagement-detail", args=[engagement_a.pk])
    move(client, dev, TaskStatus.IN_PROGRESS, page_url)
    response = move(client, dev, TaskStatus.DONE, page_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<section aria-labelledby="progress-h" class="card" id="progress"{OOB}>' in html
    assert "1 of " in html  # one onboarding task done
    assert f'id="line-{dev.pk}"{OOB}' in html and f'id="line-{prod.pk}"{OOB}' in html
    # Each refreshed line is the line the page itself renders now (the page inlines the
    # partial's markup for speed: this keeps the two alike).
    page = client.get(page_url).content.decode()
    for task in (dev, prod):
        assert line_of(html, task.pk) == line_of(page, task.pk)
    assert "Development: Done" in line_of(html, dev.pk)
    progress = re.search(r'data-testid="onboarding-progress">(.*?)</p>', page, flags=re.S)
    assert progress and progress.group(1) in html


def test_a_move_on_my_work_refreshes_its_counters_and_list(client_for, engagement_a, cse):
    client = client_for(cse)
    dev = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    my_work = reverse("engagements:my-work")
    before = client.get(my_work).content.decode()
    assert re.search(r'data-testid="count-to-sign"><strong>0</strong>', before)
    move(client, dev, TaskStatus.IN_PROGRESS, my_work)
    html = move(client, dev, TaskStatus.DONE, my_work).content.decode()
    assert f'id="mywork-counts" data-testid="mywork-counts"{OOB}' in html
    assert re.search(r'data-testid="count-to-sign"><strong>1</strong>', html)
    assert f'<div id="mywork-list"{OOB}>' in html
    assert 'id="progress"' not in html  # nothing of the engagement page's
    # Another engagement's page gets no lines of this one.
    other = move(client, dev, TaskStatus.IN_PROGRESS, "/engagements/999999/").content.decode()
    assert "line-" not in other and "mywork" not in other


def test_a_refused_move_still_answers_with_the_current_state(client_for, engagement_a, engineer_a):
    """The subscriber may not move the CSE's deployment: a 403 with the message, in the
    panel, and no half change."""
    dev = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    page_url = reverse("engagements:engagement-detail", args=[engagement_a.pk])
    response = move(client_for(engineer_a), dev, TaskStatus.IN_PROGRESS, page_url)
    assert response.status_code == 403
    dev.refresh_from_db()
    assert dev.status == TaskStatus.NOT_STARTED
    assert "data-close-panel" in response.content.decode()
