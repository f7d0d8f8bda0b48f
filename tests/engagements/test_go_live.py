"""Go-live by itself (issue 11, item 2): signing off the Production deployment takes an
onboarding engagement live, once, as one event that tells the members of both parties."""

from __future__ import annotations

import pytest

from engagements.actions.engagements import move_engagement
from engagements.actions.tasks import reopen_task, sign_off_task, transition_task
from engagements.choices import EngagementState, Environment, TaskStatus
from engagements.models import Event, Notification, StandingDuty
from tests.conftest import task_of

pytestmark = pytest.mark.django_db


def finish(task, actor):
    transition_task(task, to=TaskStatus.IN_PROGRESS, actor=actor)
    task.refresh_from_db()
    transition_task(task, to=TaskStatus.DONE, actor=actor)
    task.refresh_from_db()


def test_signing_off_production_takes_the_engagement_live_and_tells_both_parties(
    engagement_a, cse, engineer_a
):
    dev = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    finish(dev, cse)
    sign_off_task(dev, actor=cse)
    engagement_a.refresh_from_db()
    assert engagement_a.state == EngagementState.ONBOARDING  # Development is not go-live

    prod = task_of(engagement_a, "deployment", Environment.PRODUCTION)
    finish(prod, cse)
    sign_off_task(prod, actor=cse, comment="Production is live")
    engagement_a.refresh_from_db()
    assert engagement_a.state == EngagementState.LIVE
    live = Event.objects.get(verb="engagement.went_live")
    assert (live.actor, live.task, live.from_state, live.to_state) == (
        cse,
        prod,
        "onboarding",
        "live",
    )
    told = set(Notification.objects.filter(event=live).values_list("recipient_id", flat=True))
    assert told == {engineer_a.pk}  # both parties' members, less the one who signed
    assert not StandingDuty.objects.filter(engagement=engagement_a, due_at__isnull=True).exists()

    # Reopened and signed off again: still live, no second go-live.
    reopen_task(prod, actor=cse, reason="Certificate renewed")
    prod.refresh_from_db()
    finish(prod, cse)
    sign_off_task(prod, actor=cse)
    assert Event.objects.filter(verb="engagement.went_live").count() == 1


def test_a_closed_engagement_does_not_go_live_by_itself(engagement_a, cse):
    move_engagement(engagement_a, to=EngagementState.CLOSED, actor=cse, reason="Paused")
    prod = task_of(engagement_a, "deployment", Environment.PRODUCTION)
    finish(prod, cse)
    sign_off_task(prod, actor=cse)
    engagement_a.refresh_from_db()
    assert engagement_a.state == EngagementState.CLOSED
    assert not Event.objects.filter(verb="engagement.went_live").exists()
