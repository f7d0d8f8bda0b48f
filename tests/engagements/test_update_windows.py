"""An update starts only within its agreed window, unless the Accountable party (the
subscriber, on Updates) lets it start outside the window with a reason (issue 12, item 6)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.actions.cycle_overrides import override_window
from engagements.actions.cycles import (
    SnapshotIn,
    accept_windows,
    propose_cycle,
    propose_windows,
    record_preparation,
    start_update,
)
from engagements.choices import CycleState, Environment
from engagements.errors import Conflict, DomainError, NotAllowed
from engagements.models import Event, Notification, UpdateCycle, UpdateStage
from tests.factories import in_window, update_windows

pytestmark = pytest.mark.django_db

DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION


@pytest.fixture
def later(engagement_a, cse, engineer_a):
    """An agreed cycle whose Development window opens in two days, prepared now."""
    cycle = propose_cycle(engagement_a, actor=cse, release="2027.1", windows=update_windows(2))
    accept_windows(cycle, actor=engineer_a)
    record_preparation(
        cycle,
        actor=engineer_a,
        environment=DEV,
        snapshots=[SnapshotIn("app-1", "snap-1", timezone.now() - dt.timedelta(minutes=10))],
        access_provided=True,
        present="Jane (infrastructure)",
    )
    return UpdateCycle.objects.get(pk=cycle.pk)


def test_a_start_before_the_window_is_refused_naming_the_window(later, cse):
    with pytest.raises(DomainError, match="cannot start now: its agreed window is") as refused:
        start_update(later, actor=cse, environment=DEV)
    assert "Accountable party" in str(refused.value)
    assert UpdateCycle.objects.get(pk=later.pk).state == CycleState.AGREED
    assert not Event.objects.filter(verb="update.started").exists()


def test_a_start_after_the_window_is_refused(later, cse):
    stage = later.stages.get(environment=DEV)
    with (
        in_window(
            later,
            DEV,
            minutes=int((stage.window_end - stage.window_start) / dt.timedelta(minutes=1)) + 5,
        ),
        pytest.raises(DomainError, match="its agreed window"),
    ):
        start_update(later, actor=cse, environment=DEV)


def test_the_accountable_party_lets_it_start_outside_the_window(later, cse, engineer_a):
    with pytest.raises(NotAllowed, match="Accountable"):
        override_window(later, actor=cse, environment=DEV, reason="We are free today")
    with pytest.raises(DomainError, match="reason"):
        override_window(later, actor=engineer_a, environment=DEV, reason="   ")
    with pytest.raises(DomainError, match="Development or Production"):
        override_window(later, actor=engineer_a, environment="staging", reason="x")
    assert UpdateStage.objects.get(cycle=later, environment=DEV).window_override_at is None
    assert not Event.objects.filter(verb="update.window_overridden").exists()

    Notification.objects.all().delete()
    override_window(later, actor=engineer_a, environment=DEV, reason="Security fix, today")
    stage = UpdateStage.objects.get(cycle=later, environment=DEV)
    assert stage.window_override_by == engineer_a
    assert stage.window_override_reason == "Security fix, today"
    event = Event.objects.get(verb="update.window_overridden")
    assert event.actor == engineer_a and event.data["reason"] == "Security fix, today"
    # The vendor's Responsible people (who start the update) are told it is their turn.
    told = Notification.objects.filter(event=event, channel="email", reason="your_turn")
    assert {n.recipient.username for n in told} == {"cse"}
    with pytest.raises(Conflict, match="already been overridden"):
        override_window(later, actor=engineer_a, environment=DEV, reason="again")

    start_update(later, actor=cse, environment=DEV)
    assert UpdateCycle.objects.get(pk=later.pk).state == CycleState.DEV_UPDATING
    with pytest.raises(DomainError, match="already started"):
        override_window(later, actor=engineer_a, environment=DEV, reason="too late")


def test_new_windows_take_an_override_back(later, cse, engineer_a):
    override_window(later, actor=engineer_a, environment=DEV, reason="Security fix")
    propose_windows(later, actor=cse, windows=update_windows(4))
    assert not UpdateStage.objects.filter(cycle=later, window_override_at__isnull=False).exists()


def test_the_cycle_page_offers_the_override_to_the_accountable_side_only(
    later, client_for, cse, engineer_a
):
    url = reverse("engagements:cycle-detail", args=[later.pk])
    vendor_page = client_for(cse).get(url).content.decode()
    assert "outside the window now" in vendor_page
    assert "Allow a start outside the window" not in vendor_page
    page = client_for(engineer_a).get(url).content.decode()
    assert "Allow a start outside the window" in page
    # Refused with the field named, nothing saved.
    action = reverse("engagements:cycle-action", args=[later.pk, "window"])
    form = {"revision": later.revision, "environment": DEV, "reason": ""}
    response = client_for(engineer_a).post(action, form)
    assert response.status_code == 400
    assert "reason" in response.content.decode().lower()
    assert UpdateStage.objects.get(cycle=later, environment=DEV).window_override_at is None
    response = client_for(engineer_a).post(action, {**form, "reason": "Urgent fix"})
    assert response.status_code == 302
    page = client_for(cse).get(url).content.decode()
    assert "may start outside it" in page and "Urgent fix" in page
