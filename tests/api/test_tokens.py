"""Personal API tokens: made on the account page (shown once, stored hashed), scoped,
expiring, revocable, recording their last use; throttled per token; session use needs CSRF."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken, Scope
from engagements.actions.membership import remove_member
from engagements.models import Event
from tests.api.conftest import Caller, make_token
from tests.conftest import register_secret, task_of

pytestmark = pytest.mark.django_db
LIST = "/api/v1/engagements/"


def test_the_account_page_makes_a_token_shown_once_and_stored_hashed(client_for, engineer_a):
    client = client_for(engineer_a)
    page = client.get(reverse("api:tokens"))
    assert page.status_code == 200 and b"No tokens yet" in page.content
    response = client.post(
        reverse("api:tokens"), {"name": "ticketing", "scope": "read", "expires_in": "30"}
    )
    assert response.status_code == 201
    raw = re.search(r"psap_[A-Za-z0-9_-]+", response.content.decode()).group(0)
    register_secret(raw, "API token")
    token = ApiToken.objects.get(user=engineer_a)
    assert token.digest != raw and raw not in token.digest and token.prefix == raw[:12]
    assert token.scope == Scope.READ and token.expires_at > timezone.now() + dt.timedelta(days=29)
    again = client.get(reverse("api:tokens")).content.decode()
    assert raw not in again and token.prefix in again
    answer = Caller(raw).get(LIST)
    assert answer.status_code == 200
    # A token's answers belong to its owner: no browser or shared cache keeps them.
    assert "no-store" in answer["Cache-Control"] and "private" in answer["Cache-Control"]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_bad_form_is_a_400_and_makes_nothing(client_for, engineer_a):
    response = client_for(engineer_a).post(reverse("api:tokens"), {"name": "", "scope": "all"})
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_revoking_on_the_account_page(client_for, engineer_a, engineer_b):
    token, raw = make_token(engineer_a)
    assert (
        client_for(engineer_b).post(reverse("api:token-revoke", args=[token.pk])).status_code == 404
    )
    assert Caller(raw).get(LIST).status_code == 200
    response = client_for(engineer_a).post(reverse("api:token-revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = Caller(raw).get(LIST)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]


def test_expired_unknown_and_deactivated_are_401(engagement_a, engineer_a, cse):
    expired, raw_expired = make_token(engineer_a, expires_at=timezone.now() + dt.timedelta(days=1))
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    assert "expired" in Caller(raw_expired).get(LIST).json()["error"]
    assert Caller("psap_not-a-real-token").get(LIST).status_code == 401
    _, raw = make_token(cse)
    cse.is_active = False
    cse.save()
    assert Caller(raw).get(LIST).status_code == 401


def test_a_token_acts_with_its_owners_current_memberships(engagement_a, engineer_a):
    _, raw = make_token(engineer_a)
    assert Caller(raw).get(LIST).json()["count"] == 1
    remove_member(engagement_a, engineer_a)
    assert Caller(raw).get(LIST).json()["count"] == 0


def test_a_read_only_token_reads_but_never_writes(engagement_a, engineer_a):
    _, raw = make_token(engineer_a, Scope.READ)
    task = task_of(engagement_a, "monitoring")
    caller = Caller(raw)
    assert caller.get(f"/api/v1/tasks/{task.pk}/").status_code == 200
    response = caller.post(f"/api/v1/tasks/{task.pk}/transition/", {"to": "in_progress"})
    assert response.status_code == 403 and "read-only" in response.json()["error"]
    task.refresh_from_db()
    assert task.status == "not_started" and not Event.objects.filter(task=task).exists()


def test_throttled_per_token(settings, engagement_a, engineer_a):
    settings.API_THROTTLE_RATE = "3/min"
    cache.clear()
    _, first = make_token(engineer_a)
    _, second = make_token(engineer_a)
    statuses = [Caller(first).get(LIST).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = Caller(first).get(LIST)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "error" in refused.json()
    assert Caller(second).get(LIST).status_code == 200  # another token has its own count
    cache.clear()


def test_the_session_works_and_writes_need_the_csrf_token(engagement_a, engineer_a):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(engineer_a)
    assert client.get(LIST).status_code == 200
    task = task_of(engagement_a, "monitoring")
    url = f"/api/v1/tasks/{task.pk}/transition/"
    response = client.post(url, {"to": "in_progress"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["error"]
    client.get(reverse("api:tokens"))  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"to": "in_progress"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content


def test_the_account_page_at_2_and_30_tokens(client_for, engineer_a):
    client = client_for(engineer_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("api:tokens")).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        make_token(engineer_a)
    small = count()
    for _ in range(28):
        make_token(engineer_a)
    # session, user, the tokens, the layout's navigation flags and unread count
    assert small == count() <= 7, small
