"""Who is signed in is read with the session in one query (psaas_portal.signed_in), with
Django's checks: the user's id and backend in the session, an active user, the session's
password hash; the viewer's facts (engagements.identity) come with it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements.identity import identity

pytestmark = pytest.mark.django_db


def queries_for(client, url: str):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response, [q["sql"] for q in ctx.captured_queries]


def test_the_session_user_and_facts_are_one_query(client_for, engineer_a):
    client = client_for(engineer_a)
    response, sql = queries_for(client, "/healthz")
    assert response.status_code == 200
    assert len(sql) == 1 and "portal_session" in sql[0] and "auth_user" in sql[0], sql
    response, sql = queries_for(client, reverse("engagements:my-work"))
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == engineer_a.pk
    assert not [s for s in sql if s.lstrip().startswith('SELECT "auth_user"')], sql
    assert not [s for s in sql if "auth_permission" in s and "portal_session" not in s], sql


def test_the_facts_read_with_the_session_are_the_viewers(client_for, admin_user, engineer_a):
    response = client_for(admin_user).get(reverse("engagements:my-work"))
    assert identity(response.wsgi_request.user).portal_admin
    assert identity(response.wsgi_request.user).template_editor
    response = client_for(engineer_a).get(reverse("engagements:my-work"))
    facts = identity(response.wsgi_request.user)
    assert not facts.portal_admin and not facts.vendor_staff
    engineer_a.user_permissions.add(Permission.objects.get(codename="administer_portal"))
    response = client_for(engineer_a).get(reverse("engagements:my-work"))
    assert identity(response.wsgi_request.user).portal_admin  # read afresh each request


def test_a_deactivated_person_is_signed_out(client_for, engineer_a):
    client = client_for(engineer_a)
    assert client.get(reverse("engagements:my-work")).status_code == 200
    engineer_a.is_active = False
    engineer_a.save(update_fields=["is_active"])
    response = client.get(reverse("engagements:my-work"))
    assert response.status_code == 302 and "login" in response["Location"]
    assert not response.wsgi_request.user.is_authenticated


def test_a_changed_password_ends_other_sessions(client_for, engineer_a):
    client = client_for(engineer_a)
    assert client.get(reverse("engagements:my-work")).status_code == 200
    engineer_a.set_password("a-new-long-passphrase-42")
    engineer_a.save(update_fields=["password"])
    response = client.get(reverse("engagements:my-work"))
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated


def test_a_session_of_someone_else_is_not_taken(client_for, engineer_a, engineer_b):
    """The session row's user column and the session's own user id must agree."""
    from psaas_portal.models import PortalSession

    client = client_for(engineer_a)
    PortalSession.objects.filter(session_key=client.session.session_key).update(
        user_id=engineer_b.pk
    )
    response = client.get(reverse("engagements:my-work"))
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == engineer_a.pk


def test_anonymous_requests_stay_anonymous(client):
    response = client.get(reverse("engagements:my-work"))
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated
