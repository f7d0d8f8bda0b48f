from __future__ import annotations

import pytest

from engagements import permissions
from engagements.actions.membership import add_member, remove_member
from engagements.errors import DomainError
from engagements.models import Engagement, Event
from tests.factories import UserFactory, subscriber_party, vendor_party

pytestmark = pytest.mark.django_db


def test_membership_grants_object_permissions(engagement_a, cse, engineer_a):
    assert permissions.engagement_perms(engineer_a, engagement_a) == {permissions.VIEW}
    assert permissions.engagement_perms(cse, engagement_a) == set(permissions.OBJECT_PERMS)


def test_removal_revokes_them(engagement_a, engineer_a, cse):
    remove_member(engagement_a, engineer_a, actor=cse)
    assert permissions.engagement_perms(engineer_a, engagement_a) == set()
    assert not Engagement.objects.visible_to(engineer_a).exists()
    assert Event.objects.filter(engagement=engagement_a, verb="member.removed").exists()


def test_a_subscriber_cannot_join_another_subscribers_engagement(engagement_a, engineer_b):
    with pytest.raises(DomainError, match="only Subscriber A's people"):
        add_member(engagement_a, engineer_b, party=subscriber_party())
    assert not Engagement.objects.visible_to(engineer_b).filter(pk=engagement_a.pk).exists()


def test_a_subscriber_cannot_join_the_vendor_party(engagement_a, org_a):
    other = UserFactory(organization=org_a)
    with pytest.raises(DomainError, match="not the vendor"):
        add_member(engagement_a, other, party=vendor_party())


def test_a_person_without_an_organisation_cannot_join(engagement_a):
    with pytest.raises(DomainError, match="no organisation"):
        add_member(engagement_a, UserFactory(), party=vendor_party())


def test_visibility(
    engagement_a, engagement_b, cse, engineer_a, engineer_b, vendor_outsider, admin_user
):
    assert set(Engagement.objects.visible_to(cse)) == {engagement_a, engagement_b}
    assert list(Engagement.objects.visible_to(engineer_a)) == [engagement_a]
    assert list(Engagement.objects.visible_to(engineer_b)) == [engagement_b]
    assert not Engagement.objects.visible_to(vendor_outsider).exists()
    assert set(Engagement.objects.visible_to(admin_user)) == {engagement_a, engagement_b}


def test_a_superuser_flag_does_not_widen_access(engagement_a, vendor_org):
    root = UserFactory(username="root", organization=vendor_org, is_superuser=True)
    assert permissions.engagement_perms(root, engagement_a) == set()
    assert not Engagement.objects.visible_to(root).exists()
