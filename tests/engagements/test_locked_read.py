"""The status-change services read the task once, under its row lock, with its letters, the
actor's seat and whether the actor may see it (engagements.selectors.locked): the answers
are those of the separate reads they replace."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.actions.tasks import transition_task
from engagements.choices import TaskStatus
from engagements.errors import NotAllowed, NotFound
from engagements.models import EngagementTask, Event, TaskParty
from engagements.policy import member_seat
from engagements.selectors.locked import lock_task
from tests.conftest import task_of

pytestmark = pytest.mark.django_db


def cell_facts(c: TaskParty) -> tuple:
    letters = (c.responsible, c.accountable, c.consulted, c.informed, c.condition, c.role_title)
    return (c.pk, c.party_id, c.party.name, c.party.is_vendor, *letters)


def test_the_locked_read_carries_the_same_letters_and_seat(engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    from django.db import transaction

    with transaction.atomic():
        locked = lock_task(task, actor=engineer_a)
    expected = {cell_facts(c) for c in TaskParty.objects.filter(task=task).select_related("party")}
    got = {cell_facts(c) for c in locked.parties.all()}
    assert got == expected and len(got) >= 2
    assert locked.seat == member_seat(engagement_a.pk, engineer_a)
    assert locked.engagement == engagement_a


def test_an_outsider_is_told_not_found_and_nothing_changes(engagement_a, engineer_b, client_for):
    task = task_of(engagement_a, "monitoring")
    events = Event.objects.filter(engagement=engagement_a).count()
    with pytest.raises(NotFound):
        transition_task(task, to=TaskStatus.IN_PROGRESS, actor=engineer_b)
    for name in ("task-transition", "task-sign-off", "task-reopen"):
        response = client_for(engineer_b).post(
            reverse(f"engagements:{name}", args=[task.pk]),
            {"to": TaskStatus.IN_PROGRESS, "reason": "r", "revision": task.revision},
        )
        assert response.status_code == 404, name
    missing = EngagementTask.objects.order_by("-pk").first().pk + 1000
    response = client_for(engineer_b).post(
        reverse("engagements:task-transition", args=[missing]),
        {"to": TaskStatus.IN_PROGRESS, "reason": "", "revision": 1},
    )
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED
    assert Event.objects.filter(engagement=engagement_a).count() == events


def test_a_portal_admin_who_is_no_member_sees_but_may_not_move(engagement_a, admin_user):
    """Visible (403 with the policy's reason, not 404): the admin holds no letter."""
    task = task_of(engagement_a, "monitoring")
    with pytest.raises(NotAllowed) as refused:
        transition_task(task, to=TaskStatus.IN_PROGRESS, actor=admin_user)
    assert not isinstance(refused.value, NotFound)
    assert "Only" in str(refused.value)
