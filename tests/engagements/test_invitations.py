"""Invitations: sent through the outbox, accepted once (a new account, or the signed-in one
with the same address), resent (the old link dies), revoked, expired, tampered; bad input
refused with a clear message and nothing half-done."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from engagements import tasks
from engagements.actions.invitations import (
    accept_invitation,
    invite_member,
    resend_invitation,
    revoke_invitation,
)
from engagements.errors import Conflict, DomainError
from engagements.models import Invitation, Membership, Notification, sign_invitation
from tests.factories import UserFactory, subscriber_party, vendor_party

pytestmark = pytest.mark.django_db

ROLE = "subscriber's infrastructure engineer"
NEW = "new.engineer@subscriber-a.example"
PASSWORD = "a-long-and-unusual-passphrase-42"


@pytest.fixture
def invitation(engagement_a, cse):
    return invite_member(engagement_a, email=NEW, party=subscriber_party(), roles=[ROLE], actor=cse)


def link_in(message) -> str:
    return re.search(r"https?://\S+/accounts/invitation/\?token=\S+", message.body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def link_to(invitation) -> str:
    return f"{reverse('accounts:invitation')}?{urlencode({'token': sign_invitation(invitation)})}"


def deliver(invitation) -> None:
    for event_id in Notification.objects.filter(invitation=invitation).values_list(
        "event_id", flat=True
    ):
        tasks.deliver_event(event_id)


def test_the_invitation_email_goes_through_the_outbox(invitation, mailoutbox):
    row = Notification.objects.get(invitation=invitation)
    assert row.recipient is None and row.channel == "email" and row.sent_at is None
    deliver(invitation)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [NEW]
    assert "Appliance A" in message.subject
    assert ROLE in message.body
    assert "/accounts/invitation/?token=" in link_in(message)
    assert Notification.objects.get(pk=row.pk).sent_at is not None


def test_a_new_person_accepts_sets_a_password_and_sees_only_that_engagement(
    client, invitation, mailoutbox, engagement_a, engagement_b
):
    deliver(invitation)
    url = path_of(link_in(mailoutbox[0]))
    page = client.get(url)
    assert page.status_code == 200 and "Create account and join" in page.content.decode()
    response = client.post(
        url,
        {"first_name": "Nia", "last_name": "Okafor", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("engagements:engagement-detail", args=[engagement_a.pk])
    user = get_user_model().objects.get(email=NEW)
    assert user.check_password(PASSWORD) and user.profile.organization == engagement_a.organization
    m = Membership.objects.get(user=user)
    assert (m.engagement, m.party, m.role_titles, m.is_manager) == (
        engagement_a,
        subscriber_party(),
        [ROLE],
        False,
    )
    invitation.refresh_from_db()
    assert invitation.state == "accepted" and invitation.accepted_by == user
    # Signed in, and only that engagement.
    assert (
        client.get(reverse("engagements:engagement-detail", args=[engagement_a.pk])).status_code
        == 200
    )
    assert (
        client.get(reverse("engagements:engagement-detail", args=[engagement_b.pk])).status_code
        == 404
    )
    # The link is used: replaying it says so, and changes nothing.
    client.logout()
    again = client.get(url)
    assert again.status_code == 410 and "already been used" in again.content.decode()
    replay = client.post(url, {"first_name": "X", "password1": PASSWORD, "password2": PASSWORD})
    assert replay.status_code == 410
    assert get_user_model().objects.filter(email=NEW).count() == 1


def test_resend_makes_the_old_link_invalid(client, invitation, cse, mailoutbox):
    old = link_to(invitation)
    resend_invitation(invitation, actor=cse)
    deliver(invitation)
    new = path_of(link_in(mailoutbox[-1]))
    response = client.get(old)
    assert response.status_code == 410 and "newer invitation" in response.content.decode()
    assert client.get(new).status_code == 200
    invitation.refresh_from_db()
    assert invitation.sent_count == 2


def test_revoked_expired_and_tampered_links_say_so(client, invitation, cse, engagement_a):
    url = link_to(invitation)
    tampered = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    response = client.get(tampered)
    assert response.status_code == 410 and "changed or cut short" in response.content.decode()

    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    response = client.get(url)
    assert response.status_code == 410 and "expired" in response.content.decode()
    page = client.__class__()
    page.force_login(cse)
    members = page.get(reverse("engagements:members", args=[engagement_a.pk])).content.decode()
    assert 'data-testid="invitation-state">expired<' in members

    revoke_invitation(invitation, actor=cse)
    response = client.get(url)
    assert response.status_code == 410 and "withdrawn" in response.content.decode()
    with pytest.raises(DomainError):
        revoke_invitation(invitation, actor=cse)


def test_a_revoked_invitation_is_not_emailed(invitation, cse, mailoutbox):
    revoke_invitation(invitation, actor=cse)
    deliver(invitation)
    assert mailoutbox == []
    assert Notification.objects.get(invitation=invitation).last_error == "invitation closed"


def test_the_signed_in_account_with_the_address_is_attached(client, engagement_a, cse, org_a):
    person = UserFactory(
        username="existing", email="existing@subscriber-a.example", organization=org_a
    )
    inv = invite_member(
        engagement_a, email="Existing@Subscriber-A.example", party=subscriber_party(), actor=cse
    )
    url = link_to(inv)
    anonymous = client.get(url).content.decode()
    assert "already exists: sign in" in anonymous
    client.force_login(person)
    assert client.post(url).status_code == 302
    assert Membership.objects.filter(engagement=engagement_a, user=person).exists()
    assert get_user_model().objects.filter(email__iexact=inv.email).count() == 1


def test_accepting_with_a_different_signed_in_account_is_refused(
    client, invitation, engineer_a, engagement_a
):
    client.force_login(engineer_a)
    url = link_to(invitation)
    response = client.post(url)
    assert response.status_code == 400
    assert f"This invitation is for {NEW}" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.state == "pending"
    assert not get_user_model().objects.filter(email=NEW).exists()


def test_a_weak_password_creates_nothing(client, invitation):
    url = link_to(invitation)
    response = client.post(url, {"first_name": "Nia", "password1": "12345", "password2": "12345"})
    assert response.status_code == 400
    assert not get_user_model().objects.filter(email=NEW).exists()
    invitation.refresh_from_db()
    assert invitation.state == "pending"


def test_a_role_gone_from_the_template_undoes_the_whole_acceptance(invitation):
    Invitation.objects.filter(pk=invitation.pk).update(roles=["Gone"])
    with pytest.raises(DomainError, match="not a role"):
        accept_invitation(sign_invitation(invitation), password=PASSWORD, first_name="Nia")
    assert not get_user_model().objects.filter(email=NEW).exists()
    invitation.refresh_from_db()
    assert invitation.state == "pending"


@pytest.mark.parametrize(
    ("email", "roles", "message", "status"),
    [
        ("engineer-a@example.com", [], "already a member", 400),
        ("not-an-address", [], "Email address", 400),
        (NEW, ["Chief Wizard"], "is not a role of Subscriber", 400),
    ],
)
def test_bad_invitations_are_refused_and_nothing_is_sent(
    client_for, engagement_a, cse, email, roles, message, status
):
    response = client_for(cse).post(
        reverse("engagements:member-invite", args=[engagement_a.pk]),
        {"email": email, "party": subscriber_party().pk, "roles": roles},
    )
    assert response.status_code == status
    assert message in response.content.decode()
    assert not Invitation.objects.exists()
    assert not Notification.objects.filter(invitation__isnull=False).exists()


def test_inviting_twice_is_a_conflict(invitation, engagement_a, cse):
    with pytest.raises(Conflict, match="already been invited"):
        invite_member(engagement_a, email=NEW.upper(), party=subscriber_party(), actor=cse)


def test_the_members_page_invites_with_party_roles_and_manager_flag(client_for, engagement_a, cse):
    response = client_for(cse).post(
        reverse("engagements:member-invite", args=[engagement_a.pk]),
        {"email": NEW, "party": subscriber_party().pk, "roles": [ROLE], "is_manager": "on"},
    )
    assert response.status_code == 302
    inv = Invitation.objects.get()
    assert (inv.email, inv.party, inv.roles, inv.is_manager) == (
        NEW,
        subscriber_party(),
        [ROLE],
        True,
    )
    page = client_for(cse).get(reverse("engagements:members", args=[engagement_a.pk]))
    assert f'data-testid="invitation-{NEW}"' in page.content.decode()


def test_a_subscriber_manager_cannot_invite_to_the_vendor_party(engagement_a, engineer_a, cse):
    from engagements.actions.membership import change_member
    from engagements.errors import NotAllowed

    change_member(
        Membership.objects.get(engagement=engagement_a, user=engineer_a),
        actor=cse,
        roles=[ROLE],
        is_manager=True,
    )
    with pytest.raises(NotAllowed, match="vendor's managers"):
        invite_member(
            engagement_a, email="mole@example.com", party=vendor_party(), actor=engineer_a
        )
    invite_member(
        engagement_a, email="mate@subscriber-a.example", party=subscriber_party(), actor=engineer_a
    )
