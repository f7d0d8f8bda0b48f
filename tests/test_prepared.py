"""psaas_portal.prepared: a query compiled once gives, for other ids, exactly what the ORM
gives (rows, select_related objects, annotations), and never another person's rows."""

from __future__ import annotations

import pytest
from django.http import Http404

from engagements.lookups import get_engagement_for_view
from engagements.models import Engagement
from psaas_portal import prepared

pytestmark = pytest.mark.django_db


def test_the_same_rows_as_the_orm_for_other_ids(engagement_a, engagement_b):
    def build(pk: int):
        return Engagement.objects.select_related("organization").filter(pk=pk)

    key = ("test engagement by id",)
    for engagement in (engagement_a, engagement_b, engagement_a):
        (got,) = prepared.rows(key, build, pk=engagement.pk)
        assert got.pk == engagement.pk and got.organization.name == engagement.organization.name
    assert prepared.rows(key, build, pk=10**6) == []


def test_a_compiled_visibility_check_keeps_people_apart(
    engagement_a, engagement_b, engineer_a, engineer_b
):
    """Compiled for one person, run for another: each sees their own engagement only."""
    for person, mine, other in (
        (engineer_a, engagement_a, engagement_b),
        (engineer_b, engagement_b, engagement_a),
    ):
        assert get_engagement_for_view(person, mine.pk).pk == mine.pk
        with pytest.raises(Http404):
            get_engagement_for_view(person, other.pk)


def test_an_id_out_of_a_columns_range_is_no_row(engagement_a):
    def build(pk: int):
        return Engagement.objects.filter(pk=pk)

    assert prepared.rows(("test out of range",), build, pk=2**40) == []
