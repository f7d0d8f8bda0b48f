from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from engagements.choices import Environment, TaskStatus
from engagements.errors import DomainError
from engagements.models import EngagementTask, Event, TaskParty
from raci.services import create_version, version_matrix
from tests.factories import make_engagement

pytestmark = pytest.mark.django_db


def test_tasks_and_letters_are_copied_and_per_environment_tasks_expanded(template_version, org_a):
    engagement = make_engagement(org_a, kickoff=dt.date(2026, 3, 2), version=template_version)
    tasks = list(engagement.tasks.order_by("position", "environment"))
    # 3 per-environment tasks twice, 9 others once.
    assert len(tasks) == 15
    per_env = [t for t in tasks if t.environment]
    assert {t.name for t in per_env} == {
        "Preparing VM Infrastructure",
        "Deployment to Development and Production environments",
        "Configuration of Development and Production environments",
    }
    assert sorted({t.environment for t in per_env}) == [
        Environment.DEVELOPMENT,
        Environment.PRODUCTION,
    ]
    assert TaskParty.objects.filter(task__engagement=engagement).count() == 30
    assert all(t.status == TaskStatus.NOT_STARTED for t in tasks)

    deploy = engagement.tasks.get(name__startswith="Deployment", environment=Environment.PRODUCTION)
    cells = {tp.party.name: tp.cell_text() for tp in deploy.parties.select_related("party")}
    assert cells == {"Auth0": "R, A - Auth0 Customer Success Engineer", "Subscriber": "I"}
    assert deploy.due_date == dt.date(2026, 3, 30)  # kickoff + 28 days
    assert engagement.tasks.get(name="Monitoring").due_date is None
    assert engagement.tasks.get(name="User Migration").is_optional


def test_creation_is_one_audited_event(template_version, org_a):
    engagement = make_engagement(org_a, version=template_version)
    event = Event.objects.get(engagement=engagement)
    assert event.verb == "engagement.created"
    assert event.data == {"template": "PSaaS Appliance", "version": 1, "environments": "both"}


def test_only_from_a_published_version(template_version, org_a):
    draft = create_version(version_matrix(template_version), template_name="PSaaS Appliance")
    with pytest.raises(DomainError, match="published"):
        make_engagement(org_a, version=draft)


def test_only_for_a_subscriber(template_version, vendor_org):
    with pytest.raises(DomainError, match="subscriber"):
        make_engagement(vendor_org, version=template_version)


def test_names_are_unique_per_subscriber(template_version, org_a):
    make_engagement(org_a, "Same", version=template_version)
    with pytest.raises(DomainError, match="already has"):
        make_engagement(org_a, "Same", version=template_version)


def test_task_constraints(engagement_a):
    task = engagement_a.tasks.get(name="Monitoring")
    for bad in (
        {"status": "finished"},
        {"status": TaskStatus.NOT_APPLICABLE},
        {"status": TaskStatus.BLOCKED},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            EngagementTask.objects.filter(pk=task.pk).update(**bad)
    optional = engagement_a.tasks.get(name="User Migration")
    EngagementTask.objects.filter(pk=optional.pk).update(status=TaskStatus.NOT_APPLICABLE)


def test_events_are_append_only(engagement_a):
    event = Event.objects.filter(engagement=engagement_a).first()
    event.verb = "tampered"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).delete()
