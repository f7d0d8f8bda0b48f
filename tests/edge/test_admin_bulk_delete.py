"""Issue 17, item 6: the admin's bulk "delete selected" on memberships goes through the
service: the person's object permissions go, and each removal is an event."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from engagements.models import Engagement, Event, Membership

pytestmark = pytest.mark.django_db


def test_bulk_delete_of_memberships_revokes_access(
    client, engagement_a, engineer_a, cse, admin_user
):
    # A portal admin (the member.remove rule: the superuser flag alone is not a portal role).
    root = admin_user
    root.is_staff = root.is_superuser = True
    root.save()
    client.force_login(root)

    def can_view(user) -> bool:
        return Engagement.objects.visible_to(user).filter(pk=engagement_a.pk).exists()

    assert can_view(engineer_a)
    membership = Membership.objects.get(engagement=engagement_a, user=engineer_a)
    response = client.post(
        reverse("admin:engagements_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    engineer = get_user_model().objects.get(pk=engineer_a.pk)  # a fresh permission cache
    assert not can_view(engineer)  # before the fix: still True
    event = Event.objects.get(verb="member.removed")
    assert event.actor == root and event.engagement == engagement_a
    assert can_view(cse)  # the others keep theirs


def test_a_bare_superuser_cannot_remove_members_in_the_admin(client, engagement_a, engineer_a):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client.force_login(root)
    membership = Membership.objects.get(engagement=engagement_a, user=engineer_a)
    response = client.post(
        reverse("admin:engagements_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert Membership.objects.filter(pk=membership.pk).exists()
    assert b"can remove members" in response.content
