"""The attestation endpoint moved under /api/v1/ with its contract: the same tests as the
older address (which stays, for backup jobs already configured), run against the new one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.edge import test_attestation_api_400s as edge_400s
from tests.edge.test_attestation_api_400s import (  # noqa: F401  (collected here too)
    test_a_line_break_in_a_one_line_field_is_a_400,
    test_a_time_at_the_calendars_edge_with_an_offset_is_a_400,
    test_a_time_ending_in_nul_is_refused,
    test_json_nested_a_thousand_levels_is_a_400,
    test_nan_and_infinity_are_not_numbers,
    test_strings_that_cannot_be_stored_are_a_400_naming_the_field,
)
from tests.engagements import test_operations_pages as pages
from tests.engagements.test_operations_pages import (  # noqa: F401
    test_a_revoked_token_is_refused,
    test_a_token_stops_with_its_creators_role,
    test_a_valid_token_records_an_attestation,
    test_an_oversized_size_is_a_400,
    test_another_engagements_token_is_forbidden,
    test_malformed_bodies_get_a_400_with_a_message,
    test_missing_or_wrong_tokens_are_refused,
    test_the_api_only_takes_posts,
    token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _v1(monkeypatch):
    monkeypatch.setattr(pages, "ATTESTATIONS_URL", "api:attestations")
    assert edge_400s.api is pages.api  # the edge tests post through the same helper


def test_the_new_address_is_under_v1(engagement_a):
    assert reverse("api:attestations", args=[engagement_a.pk]) == (
        f"/api/v1/engagements/{engagement_a.pk}/attestations/"
    )
