"""The engagement's own state (onboarding, live, closed) moves through one service, in the
admin too: its state machine, the policy (managers and portal admins), one event."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from engagements.actions.engagements import move_engagement
from engagements.choices import EngagementState
from engagements.errors import DomainError, NotAllowed
from engagements.models import Event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_managers_move_the_engagement_with_an_event(engagement_a, cse, engineer_a):
    with pytest.raises(NotAllowed, match="managers"):
        move_engagement(engagement_a, to=EngagementState.LIVE, actor=engineer_a)
    move_engagement(engagement_a, to=EngagementState.LIVE, actor=cse)
    with pytest.raises(DomainError, match="reason is required"):
        move_engagement(engagement_a, to=EngagementState.CLOSED, actor=cse)
    with pytest.raises(DomainError, match="cannot go from live to onboarding"):
        move_engagement(engagement_a, to=EngagementState.ONBOARDING, actor=cse)
    move_engagement(engagement_a, to=EngagementState.CLOSED, actor=cse, reason="Contract ended")
    engagement_a.refresh_from_db()
    assert engagement_a.state == EngagementState.CLOSED
    moves = Event.objects.filter(engagement=engagement_a, verb="engagement.state_changed")
    assert list(moves.order_by("created_at", "id").values_list("from_state", "to_state")) == [
        ("onboarding", "live"),
        ("live", "closed"),
    ]
    assert moves.order_by("-id").first().data == {"reason": "Contract ended"}


def test_the_admin_changes_the_state_only_through_the_service(
    client, engagement_a, admin_user, vendor_org
):
    admin_user.is_staff = True
    admin_user.save()
    admin_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_engagement", "view_engagement"])
    )
    client.force_login(admin_user)
    url = reverse("admin:engagements_engagement_change", args=[engagement_a.pk])
    form = {
        "name": engagement_a.name,
        "kickoff_date": engagement_a.kickoff_date.isoformat(),
        "state": EngagementState.CLOSED,
        "state_reason": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "0",
    }
    refused = client.post(url, form)
    assert refused.status_code == 200 and "reason is required" in refused.content.decode()
    engagement_a.refresh_from_db()
    assert engagement_a.state == EngagementState.ONBOARDING
    assert not Event.objects.filter(verb="engagement.state_changed").exists()

    done = client.post(url, {**form, "state_reason": "Pilot ended"})
    assert done.status_code == 302
    engagement_a.refresh_from_db()
    assert engagement_a.state == EngagementState.CLOSED
    event = Event.objects.get(verb="engagement.state_changed")
    assert (event.actor, event.data["reason"]) == (admin_user, "Pilot ended")

    # A staff member who is no portal admin nor manager cannot move it.
    clerk = UserFactory(username="clerk", organization=vendor_org, is_staff=True)
    clerk.user_permissions.add(*admin_user.user_permissions.all())
    client.force_login(clerk)
    refused = client.post(url, {**form, "state": EngagementState.LIVE, "state_reason": "x"})
    assert refused.status_code == 200 and "managers" in refused.content.decode()
    engagement_a.refresh_from_db()
    assert engagement_a.state == EngagementState.CLOSED
