"""The timeline picture of an engagement (engagements.selectors.timeline): its rows, marks,
arrows and operations markers, the page, and the portfolio's compact bar."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements import events
from engagements.actions.handover import schedule_handover
from engagements.audit import record_event
from engagements.choices import TaskStatus
from engagements.models import EngagementTask
from engagements.selectors.timeline import engagement_timeline, is_slipped, planned_due
from tests.conftest import task_of

pytestmark = pytest.mark.django_db
D = dt.date(2026, 5, 1)


def test_slipped_means_moved_later_than_planned_or_done_after_due():
    assert planned_due(D, 14) == D + dt.timedelta(days=14)
    assert planned_due(D, None) is None
    later = D + dt.timedelta(days=3)
    assert is_slipped(later, D, None, TaskStatus.IN_PROGRESS)  # moved later than the plan
    assert not is_slipped(D, later, None, TaskStatus.IN_PROGRESS)  # moved earlier: not slipped
    assert is_slipped(D, D, later, TaskStatus.DONE)  # done after its due date
    assert not is_slipped(later, later, D, TaskStatus.SIGNED_OFF)  # done on time
    assert not is_slipped(later, D, None, TaskStatus.NOT_APPLICABLE)
    assert not is_slipped(None, D, later, TaskStatus.DONE)


def test_rows_per_environment_with_overdue_slipped_and_prerequisite_arrows(engagement_a, cse):
    today = timezone.localdate()
    # Kicked off 20 days ago, every task due on the template's plan.
    kickoff = today - dt.timedelta(days=20)
    type(engagement_a).objects.filter(pk=engagement_a.pk).update(kickoff_date=kickoff)
    engagement_a.refresh_from_db()
    for task in engagement_a.tasks.select_related("template_task"):
        offset = task.template_task.due_offset_days
        task.due_date = kickoff + dt.timedelta(days=offset) if offset is not None else None
        task.save(update_fields=["due_date"])
    infra_dev = task_of(engagement_a, "infrastructure", "development")
    # Overdue: open and due on the planned date (kickoff + 14), which has passed; not slipped.
    # Slipped: its due date moved a week past the template's plan.
    config_prod = task_of(engagement_a, "configuration", "production")
    EngagementTask.objects.filter(pk=config_prod.pk).update(
        due_date=kickoff + dt.timedelta(days=35 + 7)
    )
    # Slipped: done the day after it was due (the status-change event says when).
    handover = task_of(engagement_a, "handover")
    EngagementTask.objects.filter(pk=handover.pk).update(
        status=TaskStatus.DONE, due_date=today - dt.timedelta(days=1)
    )
    record_event(
        engagement_a,
        events.TASK_STATUS_CHANGED,
        actor=cse,
        task=handover,
        from_state=TaskStatus.IN_PROGRESS,
        to_state=TaskStatus.DONE,
    )

    data = engagement_timeline(engagement_a)
    rows = {r.task.pk: r for r in data["rows"]}
    assert rows[infra_dev.pk].overdue and not rows[infra_dev.pk].slipped
    assert rows[config_prod.pk].slipped and not rows[config_prod.pk].overdue
    assert rows[config_prod.pk].planned == kickoff + dt.timedelta(days=35)
    assert rows[config_prod.pk].planned_x < rows[config_prod.pk].x  # the hatched slip span
    assert rows[handover.pk].slipped and rows[handover.pk].done_on == today
    assert data["counts"] == {"overdue": 2, "slipped": 2, "undated": 0}  # infrastructure x2
    # Operations tasks are not on the picture; onboarding ones are, in environment lanes.
    assert all(r.task.phase == "onboarding" for r in data["rows"])
    assert [lane.title for lane in data["lanes"]] == [
        "Whole engagement",
        "Development",
        "Production",
    ]
    # The seed's order: deployment waits on its environment's infrastructure, and so on.
    texts = [a["text"] for a in data["arrows"]]
    deploy_dev = task_of(engagement_a, "deployment", "development")
    assert f"{deploy_dev.label} waits on {infra_dev.label}" in texts
    assert all(a["path"].startswith("M") for a in data["arrows"])
    assert 0 < data["today_x"] < data["width"]


def test_operations_windows_and_the_handover_are_markers(engagement_a, cse, engineer_a):
    soon = timezone.now() + dt.timedelta(days=3)
    schedule_handover(engagement_a, actor=cse, starts_at=soon, attendee_ids=[cse.pk, engineer_a.pk])
    data = engagement_timeline(engagement_a)
    assert [m["kind"] for m in data["operations"]] == ["handover"]
    assert data["lanes"][-1].title == "Operations"


def test_the_page_draws_the_picture_with_a_table_of_the_same(client_for, engagement_a, engineer_a):
    url = reverse("engagements:engagement-timeline", args=[engagement_a.pk])
    response = client_for(engineer_a).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="timeline-svg"' in html and 'viewBox="0 0 1000 ' in html
    assert "<script" not in html.split('data-testid="timeline-svg"')[1].split("</svg>")[0]
    assert "style=" not in html  # the CSP allows no inline styles
    deploy = task_of(engagement_a, "deployment", "production")
    assert f'data-testid="timeline-row-{deploy.pk}"' in html
    assert html.count('data-task="') == engagement_a.tasks.filter(phase="onboarding").count()
    assert "Today" in html and "tl-arrow" in html
    detail = client_for(engineer_a).get(
        reverse("engagements:engagement-detail", args=[engagement_a.pk])
    )
    assert url in detail.content.decode()


def test_another_subscriber_gets_a_404(client_for, engagement_a, engineer_b):
    url = reverse("engagements:engagement-timeline", args=[engagement_a.pk])
    assert client_for(engineer_b).get(url).status_code == 404
    assert client_for(engineer_b).post(url).status_code in (404, 405)


def test_the_portfolio_shows_each_engagements_compact_bar(client_for, engagement_a, cse):
    EngagementTask.objects.filter(pk=task_of(engagement_a, "handover").pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=2)
    )
    html = client_for(cse).get(reverse("engagements:portfolio")).content.decode()
    bar = html.split(f'data-testid="portfolio-bar-{engagement_a.pk}"')[1].split("</a>")[0]
    overdue = engagement_a.tasks.filter(phase="onboarding").overdue(timezone.localdate()).count()
    # The handover moved from its plan (kickoff + 42 days) to two days ago: slipped too.
    assert f"Timeline · {overdue} overdue · 1 slipped" in bar and "<svg" in bar
    assert reverse("engagements:engagement-timeline", args=[engagement_a.pk]) in html
