"""Members in the portal: the managers' page, changing roles, removing (access goes at
once: permissions, sessions, the calendar feed, attestation tokens), the last manager of a
party stays, and a subscriber's manager manages only its own party."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from engagements import permissions
from engagements.actions.feeds import rotate_calendar_feed
from engagements.actions.membership import add_member, change_member, remove_member
from engagements.actions.tokens import create_attestation_token
from engagements.errors import DomainError, NotAllowed
from engagements.models import AttestationToken, CalendarFeed, Engagement, Event, Membership
from psaas_portal.models import PortalSession
from tests.factories import UserFactory, subscriber_party

pytestmark = pytest.mark.django_db

ENGINEER_ROLE = "subscriber's infrastructure engineer"


def membership_of(engagement, user) -> Membership:
    return Membership.objects.get(engagement=engagement, user=user)


def test_the_members_page_shows_members_with_party_and_roles(client_for, engagement_a, cse):
    response = client_for(cse).get(reverse("engagements:members", args=[engagement_a.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Auth0 Customer Success Engineer" in body
    assert ENGINEER_ROLE.replace("'", "&#x27;") in body
    assert 'data-testid="member-engineer-a"' in body
    assert "Send invitation" in body


def test_the_engagement_page_links_to_members_for_managers_only(
    client_for, engagement_a, cse, engineer_a
):
    url = reverse("engagements:engagement-detail", args=[engagement_a.pk])
    members = reverse("engagements:members", args=[engagement_a.pk])
    assert members in client_for(cse).get(url).content.decode()
    assert members not in client_for(engineer_a).get(url).content.decode()


def test_a_manager_changes_roles_and_the_manager_flag(client_for, engagement_a, cse, engineer_a):
    m = membership_of(engagement_a, engineer_a)
    response = client_for(cse).post(
        reverse("engagements:member-change", args=[m.pk]), {"roles": [], "is_manager": "on"}
    )
    assert response.status_code == 302
    m = membership_of(engagement_a, engineer_a)
    assert m.is_manager and m.role_titles == []
    assert permissions.can_administer(engineer_a, engagement_a)
    event = Event.objects.filter(verb="member.changed").latest("pk")
    assert event.actor == cse and event.data["before"]["roles"] == [ENGINEER_ROLE]


def test_a_role_the_template_does_not_define_is_refused(client_for, engagement_a, cse, engineer_a):
    m = membership_of(engagement_a, engineer_a)
    response = client_for(cse).post(
        reverse("engagements:member-change", args=[m.pk]), {"roles": ["Chief Wizard"]}
    )
    assert response.status_code == 400
    assert "is not a role of Subscriber" in response.content.decode()
    assert membership_of(engagement_a, engineer_a).role_titles == [ENGINEER_ROLE]


def test_removal_takes_access_away_at_once(client, client_for, engagement_a, cse, engineer_a):
    token, _ = create_attestation_token(engagement_a, actor=engineer_a, name="nightly")
    rotate_calendar_feed(engineer_a)
    client.force_login(engineer_a)
    assert client.get(reverse("engagements:my-work")).status_code == 200
    assert PortalSession.objects.filter(user_id=engineer_a.pk).exists()
    manager = Client()
    manager.force_login(cse)
    m = membership_of(engagement_a, engineer_a)
    response = manager.post(reverse("engagements:member-remove", args=[m.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=m.pk).exists()
    assert not Engagement.objects.visible_to(engineer_a).exists()
    # Left with no engagement: signed out everywhere, the feed off, the token revoked.
    assert not PortalSession.objects.filter(user_id=engineer_a.pk).exists()
    assert not CalendarFeed.objects.filter(user=engineer_a).exists()
    assert AttestationToken.objects.get(pk=token.pk).revoked_at is not None
    refused = client.get(reverse("engagements:engagement-detail", args=[engagement_a.pk]))
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/login/")
    assert Event.objects.filter(verb="member.removed", actor=cse).exists()


def test_someone_with_another_engagement_keeps_their_sessions(
    client, engagement_a, engagement_b, cse, admin_user
):
    client.force_login(cse)
    # The CSE stays on B: their access to A goes, their sessions stay.
    other = UserFactory(username="cse2", organization=cse.profile.organization)
    add_member(engagement_a, other, party=membership_of(engagement_a, cse).party, is_manager=True)
    remove_member(engagement_a, cse, actor=other)
    assert not Engagement.objects.visible_to(cse).filter(pk=engagement_a.pk).exists()
    assert PortalSession.objects.filter(user_id=cse.pk).exists()
    assert (
        client.get(reverse("engagements:engagement-detail", args=[engagement_a.pk])).status_code
        == 404
    )


def test_the_last_manager_of_a_party_cannot_be_removed_nor_remove_themself(
    client_for, engagement_a, cse, admin_user
):
    m = membership_of(engagement_a, cse)
    response = client_for(cse).post(reverse("engagements:member-remove", args=[m.pk]))
    assert response.status_code == 400
    assert "You are the last manager of Auth0" in response.content.decode()
    with pytest.raises(DomainError, match="is the last manager of Auth0"):
        remove_member(engagement_a, cse, actor=admin_user)
    with pytest.raises(DomainError, match="last manager"):
        change_member(m, actor=admin_user, roles=[], is_manager=False)
    assert membership_of(engagement_a, cse).is_manager
    assert not Event.objects.filter(verb="member.removed").exists()


def test_with_a_second_manager_the_first_can_go(engagement_a, cse, admin_user, vendor_org):
    other = UserFactory(username="cse2", organization=vendor_org)
    add_member(
        engagement_a,
        other,
        party=membership_of(engagement_a, cse).party,
        is_manager=True,
        actor=admin_user,
    )
    remove_member(engagement_a, cse, actor=other)
    assert not Membership.objects.filter(engagement=engagement_a, user=cse).exists()


def test_a_subscriber_manager_manages_only_its_own_party(engagement_a, cse, engineer_a, org_a):
    change_member(
        membership_of(engagement_a, engineer_a), actor=cse, roles=[ENGINEER_ROLE], is_manager=True
    )
    with pytest.raises(NotAllowed, match="Only the vendor's managers"):
        remove_member(engagement_a, cse, actor=engineer_a)
    colleague = UserFactory(username="colleague", organization=org_a)
    add_member(engagement_a, colleague, party=subscriber_party(), actor=engineer_a)
    remove_member(engagement_a, colleague, actor=engineer_a)


def test_wrong_method(client_for, engagement_a, cse, engineer_a):
    m = membership_of(engagement_a, engineer_a)
    client = client_for(cse)
    assert client.get(reverse("engagements:member-remove", args=[m.pk])).status_code == 405
    assert client.post(reverse("engagements:members", args=[engagement_a.pk])).status_code == 405
    assert Membership.objects.filter(pk=m.pk).exists()
