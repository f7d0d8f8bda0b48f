"""The idle timeout without a write on every request (psaas_portal.sessions): an active
session is refreshed only when a refresh is due, an idle one still expires."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from psaas_portal.models import PortalSession as Session
from psaas_portal.sessions import KEY

pytestmark = pytest.mark.django_db


def session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_an_active_session_is_not_written_on_every_request(client_for, engineer_a):
    client = client_for(engineer_a)
    expiry = session_row(client).expire_date
    for _ in range(3):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("engagements:my-work")).status_code == 200
        assert not [
            q for q in ctx.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]
        ]
    assert session_row(client).expire_date == expiry


def test_a_refresh_is_written_when_due_and_moves_the_expiry(client_for, engineer_a, settings):
    settings.SESSION_REFRESH_SECONDS = 60
    client = client_for(engineer_a)
    session = client.session
    session[KEY] = int(time.time()) - 120  # the last refresh was two minutes ago
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timezone.timedelta(minutes=5)
    )
    before = session_row(client).expire_date
    assert client.get(reverse("engagements:my-work")).status_code == 200
    after = session_row(client).expire_date
    assert after > before + timezone.timedelta(hours=1)  # a full SESSION_COOKIE_AGE again
    assert abs(client.session[KEY] - time.time()) < 30


def test_an_idle_session_still_expires(client_for, engineer_a):
    client = client_for(engineer_a)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timezone.timedelta(seconds=1)
    )
    response = client.get(reverse("engagements:my-work"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_signing_in_counts_as_a_refresh(client, engineer_a):
    client.force_login(engineer_a)
    assert abs(client.session[KEY] - time.time()) < 30
