"""Issue 17, item 4: every malformed attestation body gets a JSON 400 naming the field, never a
500, and nothing is recorded."""

from __future__ import annotations

import json

import pytest

from engagements.models import Attestation, Event
from tests.engagements.test_operations_pages import api, good_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "performed_at",
    [
        "0001-01-01T00:00:00+01:00",  # OverflowError converting to UTC
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:30:00+05:00",
    ],
)
def test_a_time_at_the_calendars_edge_with_an_offset_is_a_400(
    client,
    engagement_a,
    token,
    performed_at,
):
    _, raw = token
    response = api(client, engagement_a.pk, {**good_body(), "performed_at": performed_at}, raw)
    assert response.status_code == 400, response.content
    assert "performed_at" in response.json()["error"]
    assert not Attestation.objects.exists()


def test_a_time_ending_in_nul_is_refused(client, engagement_a, token):
    _, raw = token
    body = good_body()
    body["performed_at"] += "\x00"
    response = api(client, engagement_a.pk, body, raw)
    assert response.status_code == 400
    assert "performed_at" in response.json()["error"]
    assert not Attestation.objects.exists()


@pytest.mark.parametrize("key", ["tool", "reference", "notes", "result"])
@pytest.mark.parametrize("value", ["\ud800", "abc\udfff", "x\x00y"])
def test_strings_that_cannot_be_stored_are_a_400_naming_the_field(
    client,
    engagement_a,
    token,
    key,
    value,
):
    _, raw = token
    body = json.dumps({**good_body(), key: value})  # json escapes the lone surrogate: \ud800
    response = api(client, engagement_a.pk, body, raw)
    assert response.status_code == 400, response.content
    assert key in response.json()["error"]
    assert not Attestation.objects.exists()


def test_a_line_break_in_a_one_line_field_is_a_400(client, engagement_a, token):
    _, raw = token
    response = api(client, engagement_a.pk, {**good_body(), "reference": "a\r\nb"}, raw)
    assert response.status_code == 400
    assert "reference" in response.json()["error"]
    # Notes may hold several lines.
    ok = api(client, engagement_a.pk, {**good_body(), "notes": "line 1\nline 2"}, raw)
    assert ok.status_code == 201


@pytest.mark.parametrize("opener, closer", [("[", "]"), ('{"a":', "}")])
def test_json_nested_a_thousand_levels_is_a_400(client, engagement_a, token, opener, closer):
    _, raw = token
    body = opener * 1000 + "1" + closer * 1000
    response = api(client, engagement_a.pk, body, raw)
    assert response.status_code == 400
    assert "nested" in response.json()["error"]
    events = Event.objects.filter(verb="duty.attested")
    assert not events.exists() and not Attestation.objects.exists()


def test_nan_and_infinity_are_not_numbers(client, engagement_a, token):
    _, raw = token
    body = json.dumps(good_body())[:-1] + ', "size_bytes": NaN}'
    response = api(client, engagement_a.pk, body, raw)
    assert response.status_code == 400
    assert not Attestation.objects.exists()
