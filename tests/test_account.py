"""The account page: name, email, time zone (dates shown in it), the sessions signed in
with the account and ending the others, links to preferences and the calendar feed."""

from __future__ import annotations

import zoneinfo

import pytest
from django.test import Client
from django.urls import reverse

from accounts.middleware import SESSION_KEY
from psaas_portal.models import PortalSession

pytestmark = pytest.mark.django_db


def test_the_page_shows_details_sessions_and_links(client_for, engineer_a):
    response = client_for(engineer_a).get(reverse("accounts:account"))
    assert response.status_code == 200
    body = response.content.decode()
    assert engineer_a.email in body
    assert reverse("engagements:notification-preferences") in body
    assert reverse("engagements:calendar") in body
    assert 'data-testid="sessions"' in body and "this one" in body


def test_saving_name_email_and_time_zone(client_for, engineer_a, engagement_a):
    client = client_for(engineer_a)
    response = client.post(
        reverse("accounts:account"),
        {
            "first_name": "Ada",
            "last_name": "L",
            "email": "Ada@Example.com",
            "time_zone": "Asia/Tokyo",
        },
    )
    assert response.status_code == 302
    engineer_a.refresh_from_db()
    assert (engineer_a.first_name, engineer_a.email) == ("Ada", "ada@example.com")
    assert engineer_a.profile.time_zone == "Asia/Tokyo"
    assert client.session[SESSION_KEY] == "Asia/Tokyo"
    # Dates are shown in it: the session's end as Tokyo's clock reads it (UTC+9).
    page = client.get(reverse("accounts:account")).content.decode()
    ends = PortalSession.objects.get(session_key=client.session.session_key).expire_date
    tokyo = ends.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f"{tokyo:%H:%M}" in page and f"{ends:%H:%M}" not in page


def test_bad_input_changes_nothing(client_for, engineer_a, engineer_b):
    client = client_for(engineer_a)
    for data in (
        {"email": engineer_b.email, "time_zone": ""},
        {"email": "x@example.com", "time_zone": "Mars/Olympus"},
        {"email": "not an address", "time_zone": ""},
    ):
        assert client.post(reverse("accounts:account"), data).status_code == 400
    engineer_a.refresh_from_db()
    assert engineer_a.email == "engineer-a@example.com"


def test_ending_the_other_sessions(engineer_a):
    here, there = Client(), Client()
    here.force_login(engineer_a)
    there.force_login(engineer_a)
    assert PortalSession.objects.filter(user_id=engineer_a.pk).count() == 2
    response = here.post(reverse("accounts:end-other-sessions"))
    assert response.status_code == 302
    assert PortalSession.objects.filter(user_id=engineer_a.pk).count() == 1
    assert here.get(reverse("accounts:account")).status_code == 200
    assert there.get(reverse("accounts:account")).status_code == 302  # signed out
    assert here.get(reverse("accounts:end-other-sessions")).status_code == 405


@pytest.mark.django_db
def test_an_address_of_a_single_sign_on_domain_is_not_set_on_the_account_page(engineer_a, settings):
    """Found in review: single sign-on matches accounts by address, so a person who typed a
    colleague's address at a provider's domain here would receive that colleague's
    sign-ins. Such addresses come with an invitation (sent to them), never from this page."""
    from types import SimpleNamespace

    from engagements.actions.accounts import update_account
    from engagements.errors import DomainError

    settings.SSO_PROVIDERS = [SimpleNamespace(domains=("customer.example",))]
    before = engineer_a.email
    with pytest.raises(DomainError, match="single sign-on"):
        update_account(
            engineer_a,
            first_name="E",
            last_name="A",
            email="victim@customer.example",
            time_zone="",
            actor=engineer_a,
        )
    engineer_a.refresh_from_db()
    assert engineer_a.email == before
    engineer_a.email = "me@customer.example"  # already theirs (an invitation): kept
    engineer_a.save()
    update_account(
        engineer_a,
        first_name="E",
        last_name="A",
        email="me@customer.example",
        time_zone="",
        actor=engineer_a,
    )
