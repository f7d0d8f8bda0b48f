"""Issue 17, item 9: what a signed-in person gets (pages, exports, fragments) and the calendar
feed carry `Cache-Control: private, no-store`."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from engagements.actions.feeds import rotate_calendar_feed

pytestmark = pytest.mark.django_db


def assert_private(response):
    header = response.get("Cache-Control", "")
    parts = {p.strip() for p in header.split(",")}
    assert {"private", "no-store"} <= parts, (response.status_code, header)
    assert "public" not in parts


@pytest.mark.parametrize(
    "name, args",
    [
        ("engagements:engagement-list", False),
        ("engagements:engagement-detail", True),
        ("engagements:export-matrix", True),
        ("engagements:export-events", True),
        ("engagements:notifications", False),
    ],
)
def test_signed_in_pages_and_exports_are_private(client_for, engagement_a, cse, name, args):
    url = reverse(name, args=[engagement_a.pk] if args else [])
    response = client_for(cse).get(url)
    assert response.status_code == 200
    assert_private(response)


def test_a_fragment_and_an_error_page_for_a_signed_in_person_are_private(
    client_for, engagement_a, engagement_b, engineer_a
):
    client = client_for(engineer_a)
    assert_private(
        client.get(
            reverse("engagements:engagement-detail", args=[engagement_a.pk]), HTTP_HX_REQUEST="true"
        )
    )
    assert_private(client.get(reverse("engagements:engagement-detail", args=[engagement_b.pk])))


def test_the_calendar_feed_is_private(engineer_a, engagement_a):
    raw = rotate_calendar_feed(engineer_a)
    response = Client().get(reverse("engagements:calendar-feed") + f"?token={raw}")
    assert response.status_code == 200
    assert_private(response)


def test_the_sign_in_page_stays_cacheable_as_before(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "public" not in response.get("Cache-Control", "")
