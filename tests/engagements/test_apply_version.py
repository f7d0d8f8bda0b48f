from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.actions.tasks import transition_task
from engagements.actions.templates import apply_template_version
from engagements.choices import Environment, TaskStatus
from engagements.errors import DomainError
from engagements.models import Event
from raci import services as raci_services
from tests.conftest import task_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def v2(template_version, admin_user):
    draft = raci_services.start_draft(template_version, actor=admin_user)
    handover = draft.tasks.get(name="Operations Handover")
    auth0 = handover.cells.get(party__name="Auth0")
    raci_services.set_cell(
        draft, task_id=handover.pk, party_id=auth0.party_id, letters="RA", actor=admin_user
    )
    raci_services.add_task(draft, name="Security review", actor=admin_user)
    raci_services.remove_task(
        draft, task_id=draft.tasks.get(name="User Migration").pk, actor=admin_user
    )
    return raci_services.publish_version(draft, actor=admin_user)


def test_applying_keeps_statuses_and_is_one_event(engagement_a, v2, engineer_a, cse):
    monitoring = task_of(engagement_a, "monitoring")
    transition_task(monitoring, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    event = apply_template_version(engagement_a, v2, actor=cse)
    engagement_a.refresh_from_db()
    assert engagement_a.template_version == v2
    assert task_of(engagement_a, "monitoring").status == TaskStatus.IN_PROGRESS
    handover = task_of(engagement_a, "handover")
    assert {tp.party.name: tp.letters for tp in handover.parties.all()} == {
        "Auth0": "RA",
        "Subscriber": "C",
    }
    assert engagement_a.tasks.filter(name="Security review", status=TaskStatus.NOT_STARTED).exists()
    assert not engagement_a.tasks.filter(name="User Migration").exists()  # no history: deleted
    assert event.verb == "engagement.template_applied" and (event.from_state, event.to_state) == (
        "v1",
        "v2",
    )
    assert event.data["added"] == ["Security review"] and event.data["removed"] == [
        "User Migration (if required)"
    ]
    assert (
        Event.objects.filter(engagement=engagement_a, verb="engagement.template_applied").count()
        == 1
    )


def test_a_dropped_task_with_history_is_retired_not_deleted(engagement_a, v2, engineer_a, cse):
    migration = task_of(engagement_a, "user_migration")
    transition_task(migration, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    apply_template_version(engagement_a, v2, actor=cse)
    migration.refresh_from_db()
    assert migration.retired_at is not None
    assert not engagement_a.tasks.live().filter(pk=migration.pk).exists()


def test_only_newer_published_versions_apply(engagement_a, template_version, cse):
    with pytest.raises(DomainError, match="newer"):
        apply_template_version(engagement_a, template_version, actor=cse)
    draft = raci_services.start_draft(template_version, actor=None)
    with pytest.raises(DomainError, match="published"):
        apply_template_version(engagement_a, draft, actor=cse)


def test_over_http_the_diff_is_shown_first_and_only_managers_apply(
    client_for, engagement_a, v2, cse, engineer_a
):
    url = reverse("engagements:engagement-template", args=[engagement_a.pk])
    assert client_for(engineer_a).get(url).status_code == 403
    page = client_for(cse).get(url).content.decode()
    assert "Security review" in page and "Auth0: R → R, A" in page
    apply = reverse("engagements:engagement-template-apply", args=[engagement_a.pk])
    assert client_for(engineer_a).post(apply, {"version": v2.pk}).status_code == 403
    assert client_for(cse).post(apply, {"version": "nope"}).status_code == 302
    engagement_a.refresh_from_db()
    assert engagement_a.template_version.number == 1
    assert client_for(cse).post(apply, {"version": v2.pk}).status_code == 302
    engagement_a.refresh_from_db()
    assert engagement_a.template_version == v2


def test_per_environment_tasks_keep_both_environments(engagement_a, v2, cse):
    apply_template_version(engagement_a, v2, actor=cse)
    assert set(
        engagement_a.tasks.filter(key="deployment").values_list("environment", flat=True)
    ) == {
        Environment.DEVELOPMENT,
        Environment.PRODUCTION,
    }
