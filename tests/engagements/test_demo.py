"""The demo data: loads twice without change, and shows the whole product, operations included."""

from __future__ import annotations

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
    handover = acme.handovers.get(state=HandoverState.SCHEDULED)
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
    assert list(acme.vms.values_list("environment", "name")) == [
        ("development", f"psaas-dev-{n}") for n in (1, 2, 3)
    ]
    assert '<th scope="row">psaas-dev-1</th>' in page
