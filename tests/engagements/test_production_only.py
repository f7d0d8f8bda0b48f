"""An engagement that runs Production only (chosen when it is started): its tasks, its
update cycles without a Development stage or gate, and what its pages offer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements import policy
from engagements.actions.cycles import (
    SnapshotIn,
    accept_windows,
    finish_update,
    propose_cycle,
    propose_windows,
    record_preparation,
    start_update,
)
from engagements.actions.issues import raise_issue
from engagements.choices import CycleState, Environment, Severity
from engagements.errors import DomainError
from engagements.models import Event, Issue, UpdateCycle
from engagements.selectors.cycles import next_step
from tests.factories import in_window, make_engagement, staff
from tests.factories import update_windows as windows

pytestmark = pytest.mark.django_db

DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION


@pytest.fixture
def production_only(template_version, org_a, cse, engineer_a):
    engagement = make_engagement(
        org_a, "Production appliance", version=template_version, environments="production"
    )
    staff(engagement, cse, engineer_a)
    return engagement


def production_window() -> dict:
    return {PROD: windows()[DEV]}  # a window that holds now


@pytest.fixture
def agreed(production_only, cse, engineer_a):
    cycle = propose_cycle(
        production_only, actor=cse, release="2027.1.0", windows=production_window()
    )
    accept_windows(cycle, actor=engineer_a)
    return UpdateCycle.objects.select_related("engagement").get(pk=cycle.pk)


def prepare(cycle, engineer, env=PROD):
    return record_preparation(
        cycle,
        actor=engineer,
        environment=env,
        snapshots=[SnapshotIn("app-1", "snap-1", timezone.now() - dt.timedelta(minutes=5))],
        access_provided=True,
        present="Jane (infra)",
    )


def test_its_tasks_are_tracked_for_production_alone(production_only):
    assert production_only.environment_list == (PROD,)
    envs = set(production_only.tasks.values_list("environment", flat=True))
    assert envs == {"", PROD}
    assert production_only.tasks.filter(key="deployment").count() == 1


def test_an_update_goes_from_agreed_to_production(agreed, cse, engineer_a):
    assert set(agreed.stages.values_list("environment", flat=True)) == {PROD}
    assert (
        next_step(agreed, policy.offered(engineer_a, agreed)) == "Record the Production snapshots"
    )
    prepare(agreed, engineer_a)
    assert "cycle.start_prod" in policy.offered(cse, agreed)
    assert "cycle.start_dev" not in policy.offered(cse, agreed)
    with in_window(agreed, PROD):
        start_update(agreed, actor=cse, environment=PROD)
        finish_update(agreed, actor=cse, scripts="none required")
    assert UpdateCycle.objects.get(pk=agreed.pk).state == CycleState.COMPLETED
    verbs = list(
        Event.objects.filter(data__cycle=agreed.pk).order_by("id").values_list("verb", flat=True)
    )
    assert verbs == [
        "update.proposed",
        "update.windows_agreed",
        "update.prepared",
        "update.started",
        "update.completed",
    ]


def test_development_steps_are_refused_and_change_nothing(agreed, cse, engineer_a):
    with pytest.raises(DomainError, match="runs Production only"):
        prepare(agreed, engineer_a, DEV)
    with pytest.raises(DomainError, match="runs Production only"):
        start_update(agreed, actor=cse, environment=DEV)
    with pytest.raises(DomainError, match="runs Production only: give no Development window"):
        propose_windows(agreed, actor=cse, windows=windows(days=2))
    cycle = UpdateCycle.objects.get(pk=agreed.pk)
    assert (cycle.state, cycle.revision) == (CycleState.AGREED, agreed.revision)
    with pytest.raises(DomainError, match="runs Production only: choose Production"):
        raise_issue(
            agreed.engagement,
            actor=engineer_a,
            title="Broken",
            environment=DEV,
            severity=Severity.HIGH,
            description="It broke.",
        )
    assert not Issue.objects.exists()


def test_a_cycle_with_development_does_not_start_in_production(engagement_a, cse, engineer_a):
    """The new agreed → Production move is for engagements without Development only."""
    cycle = propose_cycle(engagement_a, actor=cse, release="r1", windows=windows())
    accept_windows(cycle, actor=engineer_a)
    cycle = UpdateCycle.objects.select_related("engagement").get(pk=cycle.pk)
    prepare(cycle, engineer_a, PROD)
    assert "cycle.start_prod" not in policy.offered(cse, cycle)
    with pytest.raises(DomainError, match="waits until Development testing has passed"):
        start_update(cycle, actor=cse, environment=PROD)
    assert UpdateCycle.objects.get(pk=cycle.pk).state == CycleState.AGREED
    with pytest.raises(DomainError, match="Give a Development window"):
        propose_cycle(engagement_a, actor=cse, release="r2", windows=production_window())


def test_its_pages_offer_production_alone(client_for, production_only, agreed, cse, engineer_a):
    page = client_for(cse).get(reverse("engagements:cycles", args=[production_only.pk]))
    assert page.status_code == 200
    cycle_page = client_for(cse).get(reverse("engagements:cycle-detail", args=[agreed.pk]))
    html = cycle_page.content.decode()
    assert cycle_page.status_code == 200
    assert 'name="dev_start"' not in html and 'name="prod_start"' in html
    issues = client_for(engineer_a).get(reverse("engagements:issues", args=[production_only.pk]))
    assert issues.status_code == 200
    assert 'value="development"' not in issues.content.decode()


def test_the_propose_form_has_no_development_window(client_for, production_only, cse):
    url = reverse("engagements:cycles", args=[production_only.pk])
    html = client_for(cse).get(url).content.decode()
    assert 'name="dev_start"' not in html and 'name="prod_start"' in html
    start, end = production_window()[PROD]
    response = client_for(cse).post(
        url,
        {
            "release": "2027.2.0",
            "prod_start": start.strftime("%Y-%m-%dT%H:%M"),
            "prod_end": end.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    cycle = UpdateCycle.objects.get(release="2027.2.0")
    assert list(cycle.stages.values_list("environment", flat=True)) == [PROD]
