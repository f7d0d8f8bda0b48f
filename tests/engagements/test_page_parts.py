"""The engagement page's fixed parts read in one query (engagements.selectors.summary) are
the objects the ORM reads one query each: the same rows, the same field values."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagements.choices import OPEN_ISSUE_STATES, HandoverState
from engagements.models import VirtualMachine
from engagements.selectors.summary import duties_of, page_parts
from raci.models import VersionParty
from tests.engagements.test_operations_pages import grow

pytestmark = pytest.mark.django_db


def values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_the_parts_are_the_rows_the_orm_reads(engagement_a, cse, engineer_a):
    cycle = grow(engagement_a, cse, engineer_a, 2)
    VirtualMachine.objects.create(
        engagement=engagement_a, environment="production", name="vm-b", address="10.0.0.2",
        processors=2, memory_gb=8, storage_gb=100, recorded_at=timezone.now(),
    )  # fmt: skip
    now = timezone.now()
    with CaptureQueriesContext(connection) as ctx:
        parts = page_parts(engagement_a, now=now)
    assert len(ctx.captured_queries) == 1
    ops = parts["ops"]

    assert values(ops["cycle"]) == values(cycle)
    assert [values(s) for s in ops["cycle"].stages.all()] == [
        values(s) for s in cycle.stages.order_by("environment")
    ]
    assert ops["cycle"].stages.all()[0].cycle is ops["cycle"]
    handover = engagement_a.handovers.exclude(state=HandoverState.CANCELLED).get()
    assert values(ops["handover"]) == values(handover)
    expected = duties_of(engagement_a, now)
    assert [values(d) for d in ops["duties"]] == [values(d) for d in expected]
    assert [
        (d.last_result, d.last_performed_at, d.last_on_time, d.state) for d in ops["duties"]
    ] == [(d.last_result, d.last_performed_at, d.last_on_time, d.state) for d in expected]
    assert ops["duties"][0].last_performed_at is not None
    open_issues = engagement_a.issues.filter(state__in=OPEN_ISSUE_STATES)
    assert sorted(i.pk for i in ops["open_issues"]) == sorted(i.pk for i in open_issues)
    assert ops["open_issue_count"] == open_issues.count() == 4  # 2 raised, 2 failed tests
    assert [values(i) for i in ops["open_issues"]] == [
        values(open_issues.get(pk=i.pk)) for i in ops["open_issues"]
    ]
    columns = VersionParty.objects.filter(version=engagement_a.template_version).order_by(
        "position"
    )
    assert [(values(c), values(c.party)) for c in parts["columns"]] == [
        (values(c), values(c.party)) for c in columns
    ]
    assert [values(v) for v in parts["inventory"]] == [
        values(v) for v in VirtualMachine.objects.filter(engagement=engagement_a)
    ]
    # The instances behave as loaded ones: saved rows, their own database.
    assert not ops["cycle"]._state.adding and ops["cycle"]._state.db == "default"


def test_an_engagement_without_operations(engagement_a):
    parts = page_parts(engagement_a, now=timezone.now())
    ops = parts["ops"]
    assert ops["cycle"] is None and ops["handover"] is None and ops["next_window"] is None
    assert ops["open_issues"] == [] and ops["open_issue_count"] == 0
    assert parts["inventory"] == [] and len(parts["columns"]) == 2
