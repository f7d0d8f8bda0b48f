"""Issue 17, item 6: the admin's bulk "delete selected" on memberships goes through the
service: the person's object permissions go, and each removal is an event."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from engagements import permissions
from engagements.models import Event, Membership

pytestmark = pytest.mark.django_db


def test_bulk_delete_of_memberships_revokes_access(client, engagement_a, engineer_a, cse):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client.force_login(root)
    assert permissions.can_view(engineer_a, engagement_a)
    membership = Membership.objects.get(engagement=engagement_a, user=engineer_a)
    response = client.post(
        reverse("admin:engagements_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    engineer = get_user_model().objects.get(pk=engineer_a.pk)  # a fresh permission cache
    assert not permissions.can_view(engineer, engagement_a)  # before the fix: still True
    event = Event.objects.get(verb="member.removed")
    assert event.actor == root and event.engagement == engagement_a
    assert permissions.can_view(cse, engagement_a)  # the others keep theirs
