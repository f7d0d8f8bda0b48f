"""Backup attestations offer the template's tool first; another tool is accepted and
flagged on the duty page and in the audit trail (issue 12, item 6)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.actions.duties import AttestationIn, record_attestation
from engagements.models import Attestation, Event, StandingDuty
from raci.matrix import from_data, to_data
from raci.models import TemplateTask
from raci.services import version_matrix

pytestmark = pytest.mark.django_db


def attest(duty, actor, tool: str) -> Attestation:
    return record_attestation(
        duty,
        actor=actor,
        attestation=AttestationIn(
            performed_at=timezone.now() - dt.timedelta(minutes=5),
            result="succeeded",
            tool=tool,
            reference="backup-1.tar.gz",
        ),
    )


def test_the_seed_names_the_command_line_tools_and_the_json_carries_it(template_version):
    backup = TemplateTask.objects.get(version=template_version, key="backup")
    assert backup.tool == "Command-Line Tools"
    assert (
        not TemplateTask.objects.filter(version=template_version)
        .exclude(key="backup")
        .exclude(tool="")
        .exists()
    )
    data = to_data(version_matrix(template_version))
    assert next(t for t in data["tasks"] if t["key"] == "backup")["tool"] == "Command-Line Tools"
    assert from_data(data) == version_matrix(template_version)


def test_another_tool_is_accepted_and_flagged(engagement_a, engineer_a, client_for):
    duty = StandingDuty.objects.get(engagement=engagement_a, kind="backup")
    url = reverse("engagements:duties", args=[engagement_a.pk])
    page = client_for(engineer_a).get(url).content.decode()
    assert 'name="tool" maxlength="120" value="Command-Line Tools"' in page
    assert "the template's: Command-Line Tools" in page

    attest(duty, engineer_a, "  command-line   TOOLS ")  # the same tool, spelt loosely
    assert "other_tool" not in Event.objects.filter(verb="duty.attested").latest("id").data
    attest(duty, engineer_a, "Veeam Agent")
    event = Event.objects.filter(verb="duty.attested").latest("id")
    assert event.data["other_tool"] == "Veeam Agent"
    assert "with Veeam Agent, not the template's Command-Line Tools" in event.data["summary"]
    assert Attestation.objects.filter(duty=duty).count() == 2  # accepted

    page = client_for(engineer_a).get(url).content.decode()
    assert page.count('data-testid="other-tool"') == 1
    assert "not the template's Command-Line Tools" in page
