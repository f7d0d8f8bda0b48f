"""The demo data: loads twice without change, and shows the whole product, operations included."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from engagements.choices import CycleState, HandoverState
from engagements.models import Attestation, Engagement, Event, Issue

pytestmark = pytest.mark.django_db


def test_demo_data_shows_operations_and_loads_idempotently(client):
    call_command("load_demo", stdout=io.StringIO())
    events = Event.objects.count()
    call_command("load_demo", stdout=io.StringIO())
    assert Event.objects.count() == events

    acme = Engagement.objects.get(name="Acme identity appliance")
    states = set(acme.update_cycles.values_list("state", flat=True))
    assert states == {CycleState.COMPLETED, CycleState.DEV_FAILED}
    handover = acme.handovers.get(state=HandoverState.HELD)
    on_time = set(
        Attestation.objects.filter(duty__engagement=acme).values_list("on_time", flat=True)
    )
    assert on_time == {True, False}
    assert Issue.objects.filter(engagement=acme, state__in=["open", "investigating"]).count() == 2

    users = get_user_model().objects
    for username in ("cse", "acme-engineer"):
        client.force_login(users.get(username=username))
        for url in [
            reverse("engagements:engagement-detail", args=[acme.pk]),
            reverse("engagements:cycle-detail", args=[acme.update_cycles.first().pk]),
            reverse("engagements:handover", args=[acme.pk]),
            reverse("engagements:handover-ics", args=[handover.pk]),
            reverse("engagements:duties", args=[acme.pk]),
            reverse("engagements:issues", args=[acme.pk]),
        ]:
            assert client.get(url).status_code == 200, url
    page = client.get(reverse("engagements:engagement-detail", args=[acme.pk])).content.decode()
    assert "2026.12.1" in page and "Operations Handover" in page and "late" in page
    # The Development checklist was accepted with typed values; its VMs are the inventory.
    checklist = acme.checklists.get(environment="development")
    assert checklist.status == "accepted"
    assert checklist.items.get(key="smtp_servers").value == "smtp.acme.example:587"
    assert list(acme.vms.order_by("environment", "name").values_list("environment", "name")) == [
        *(("development", f"psaas-dev-{n}") for n in (1, 2, 3)),
        *(("production", f"psaas-prod-{n}") for n in (1, 2, 3)),
    ]
    assert '<th scope="row">psaas-dev-1</th>' in page


def test_demo_tells_one_true_story_in_the_past():
    """Three engagements at three stages; events spread over the weeks since kickoff; nothing
    done before its prerequisites; the handover before its due date; duties after go-live."""
    call_command("load_demo", stdout=io.StringIO())
    by_name = {e.organization.name: e for e in Engagement.objects.select_related("organization")}
    acme, initech, globex = by_name["Acme Corp"], by_name["Initech"], by_name["Globex"]
    assert (acme.state, initech.state, globex.state) == ("live", "onboarding", "onboarding")

    # Globex is in infrastructure: its Development checklist came back with a comment.
    assert globex.checklists.get(environment="development").status == "returned"
    # Initech is between deployments.
    states = dict(
        ((t.key, t.environment), t.status) for t in initech.tasks.filter(key="deployment")
    )
    assert states == {
        ("deployment", "development"): "signed_off",
        ("deployment", "production"): "in_progress",
    }
    # Acme's onboarding is complete but for the optional migration it is still doing.
    open_onboarding = acme.tasks.filter(phase="onboarding").exclude(
        status__in=["signed_off", "not_applicable"]
    )
    assert list(open_onboarding.values_list("key", flat=True)) == ["user_migration"]

    for engagement in (acme, initech, globex):
        times = list(engagement.events.order_by("created_at").values_list("created_at", flat=True))
        kickoff = dt.datetime.combine(engagement.kickoff_date, dt.time(), tzinfo=dt.UTC)
        assert times[0] >= kickoff - dt.timedelta(days=3)
        assert times[-1] - times[0] >= dt.timedelta(days=10)
        # Nothing before its prerequisites: every task moved past "not started" was ready then.
        for event in engagement.events.filter(verb="task.status_changed", to_state="in_progress"):
            assert event.task.prerequisites_overridden_at is None
    went_live = Event.objects.get(engagement=acme, verb="engagement.went_live").created_at
    handover = acme.handovers.get()
    assert handover.held_at.date() <= acme.tasks.get(key="handover").due_date
    assert not Attestation.objects.filter(duty__engagement=acme, performed_at__lt=went_live)
    assert Attestation.objects.filter(duty__engagement=acme).count() >= 6
    for engagement in (initech, globex):
        assert not Attestation.objects.filter(duty__engagement=engagement).exists()
