"""Issue 17, item 10: single-line fields (issue titles, names, role titles, references) refuse
control characters, CR and LF included, on every input path: portal forms, the template
editor and the Django admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from engagements.forms import IssueForm, TokenForm
from engagements.models import Issue, Membership
from psaas_portal import inputs
from raci import services as raci_services
from raci.models import TemplateTask

pytestmark = pytest.mark.django_db

BAD = ["a\r\nb", "a\nb", "a\rb", "a\x00b", "a\tb", "a\x1bb", "a\x85b", "a\u2028b"]


@pytest.mark.parametrize("value", BAD)
def test_the_validator_refuses_control_characters(value):
    with pytest.raises(ValidationError):
        inputs.validate_single_line(value)


def test_the_validator_keeps_ordinary_text():
    inputs.validate_single_line("Infrastructure engineer, Zürich (on call) 🚀")
    inputs.validate_multi_line("line one\r\nline two\tindented")
    with pytest.raises(ValidationError):
        inputs.validate_multi_line("bell\x07")


@pytest.mark.parametrize("value", ["Disk full\r\nX-Injected: yes", "Disk\nfull"])
def test_an_issue_title_with_a_line_break_is_refused_and_nothing_is_raised(
    client_for, engagement_a, engineer_a, value
):
    response = client_for(engineer_a).post(
        reverse("engagements:issues", args=[engagement_a.pk]),
        {
            "title": value,
            "environment": "production",
            "severity": "low",
            "description": "It broke.\nTwice.",
        },
    )
    assert response.status_code == 400
    assert "one line" in response.content.decode()
    assert not Issue.objects.exists()


def test_multi_line_fields_still_take_line_breaks():
    form = IssueForm(
        {
            "title": "Disk full",
            "environment": "production",
            "severity": "low",
            "description": "It broke.\r\nTwice.",
        }
    )
    assert form.is_valid(), form.errors
    assert not TokenForm({"name": "nightly\r\njob"}).is_valid()


@pytest.mark.parametrize(
    "call",
    [
        lambda v: raci_services.add_task(v, name="New\ntask", actor=None),
        lambda v: raci_services.add_party(v, name="Party\r\nX", actor=None),
        lambda v: raci_services.set_cell(
            v,
            task_id=v.tasks.first().pk,
            party_id=v.columns.first().party_id,
            letters="R",
            role_title="Engineer\nX",
            actor=None,
        ),
    ],
)
def test_the_template_editor_refuses_line_breaks(call):
    version = raci_services.load_seed_template()
    draft = raci_services.start_draft(version, actor=None)
    before = TemplateTask.objects.count()
    with pytest.raises(raci_services.TemplateError, match="one line"):
        call(draft)
    assert TemplateTask.objects.count() == before


def test_the_admin_refuses_a_role_the_party_does_not_have(
    client, engagement_a, vendor_org, template_version, admin_user
):
    from tests.factories import UserFactory

    # A portal admin: memberships are changed by the member.* rules' holders only.
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    newcomer = UserFactory(username="newcomer", organization=vendor_org)
    party = template_version.columns.get(party__is_vendor=True).party
    response = client.post(
        reverse("admin:engagements_membership_add"),
        {
            "engagement": engagement_a.pk,
            "user": newcomer.pk,
            "party": party.pk,
            "role_titles": "Auth0 Customer Success Engineer\r\nInjected",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "&quot;Injected&quot; is not a role of Auth0" in response.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()
