"""Starting an engagement in the portal: portal admins and the vendor's managers, through
the same create_engagement the admin and the demo use; it opens at its page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from engagements.actions.engagements import start_engagement
from engagements.errors import DomainError
from engagements.models import Engagement, Event, Membership, Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def vendor_manager(cse):
    group, _ = Group.objects.get_or_create(name="Vendor managers")
    group.permissions.add(Permission.objects.get(codename="start_engagement"))
    cse.groups.add(group)
    return cse


def form(template_version, cse, **extra):
    return {
        "organization": "",
        "new_organization": "Initech",
        "name": "Initech identity appliance",
        "version": template_version.pk,
        "kickoff_date": "2027-01-04",
        "cse": cse.pk,
        **extra,
    }


def test_a_portal_admin_starts_one_for_a_new_subscriber(
    client_for, admin_user, cse, template_version
):
    response = client_for(admin_user).post(
        reverse("engagements:engagement-new"), form(template_version, cse)
    )
    engagement = Engagement.objects.get(name="Initech identity appliance")
    assert response.status_code == 302
    assert response["Location"] == reverse("engagements:engagement-detail", args=[engagement.pk])
    assert engagement.organization == Organization.objects.get(name="Initech")
    assert str(engagement.kickoff_date) == "2027-01-04"
    assert engagement.tasks.exists()
    m = Membership.objects.get(engagement=engagement)
    assert (m.user, m.is_manager, m.role_titles) == (cse, True, ["Auth0 Customer Success Engineer"])
    assert Event.objects.filter(engagement=engagement, verb="engagement.created").exists()


def test_a_vendor_manager_starts_one_and_it_opens(
    client_for, vendor_manager, template_version, org_a
):
    client = client_for(vendor_manager)
    assert (
        client.get(reverse("engagements:engagement-list"))
        .content.decode()
        .count(reverse("engagements:engagement-new"))
    )
    page = client.get(reverse("engagements:engagement-new"))
    assert page.status_code == 200
    response = client.post(
        reverse("engagements:engagement-new"),
        form(template_version, vendor_manager, organization=org_a.pk, new_organization=""),
        follow=True,
    )
    assert response.status_code == 200
    assert "Initech identity appliance" in response.content.decode()
    assert Engagement.objects.get(name="Initech identity appliance").organization == org_a


def test_due_dates_are_shown_before_starting(client_for, admin_user, cse, template_version):
    response = client_for(admin_user).post(
        reverse("engagements:engagement-new"), form(template_version, cse, preview="1")
    )
    assert response.status_code == 200
    assert 'data-testid="due-dates"' in response.content.decode()
    assert not Engagement.objects.exists()


def test_others_cannot_start_one(client_for, cse, engineer_a, template_version):
    for person in (cse, engineer_a):  # the CSE without the start permission, an engineer
        client = client_for(person)
        assert client.get(reverse("engagements:engagement-new")).status_code == 403
        assert (
            client.post(
                reverse("engagements:engagement-new"), form(template_version, cse)
            ).status_code
            == 403
        )
    assert not Engagement.objects.exists()


def test_bad_input_is_refused_with_a_message(
    client_for, admin_user, cse, engineer_a, template_version, engagement_a
):
    client = client_for(admin_user)
    duplicate = client.post(
        reverse("engagements:engagement-new"),
        form(
            template_version,
            cse,
            organization=engagement_a.organization_id,
            new_organization="",
            name=engagement_a.name,
        ),
    )
    assert (
        duplicate.status_code == 400 and "already has an engagement" in duplicate.content.decode()
    )
    neither = client.post(
        reverse("engagements:engagement-new"), form(template_version, cse, new_organization="")
    )
    assert neither.status_code == 400 and "Choose a subscriber" in neither.content.decode()
    not_vendor = client.post(
        reverse("engagements:engagement-new"), form(template_version, engineer_a)
    )
    assert not_vendor.status_code == 400
    assert Engagement.objects.count() == 1
    assert not Organization.objects.filter(name="Initech").exists()


def _due_field(task_key: str, environment: str = "") -> str:
    return f"due:{task_key}:{environment}"


def test_due_dates_shown_can_be_changed_before_starting(
    client_for, admin_user, cse, template_version
):
    client = client_for(admin_user)
    url = reverse("engagements:engagement-new")
    shown = client.post(url, form(template_version, cse, preview="1")).content.decode()
    due_for = re.search(r'name="due_for" value="([^"]+)"', shown).group(1)
    fields = dict(re.findall(r'name="(due:[^"]+)"(?: value="([^"]*)")?', shown))
    assert fields and due_for == f"{template_version.pk}:2027-01-04:both"
    first, second = list(fields)[:2]
    chosen = {**fields, first: "2027-03-01", second: ""}
    response = client.post(url, form(template_version, cse, due_for=due_for, **chosen))
    assert response.status_code == 302
    engagement = Engagement.objects.get(name="Initech identity appliance")
    _, key, env = first.split(":")
    assert str(engagement.tasks.get(key=key, environment=env).due_date) == "2027-03-01"
    _, key, env = second.split(":")
    assert engagement.tasks.get(key=key, environment=env).due_date is None
    # The others keep the template's offsets.
    untouched = [f for f in fields if f not in (first, second) and fields[f]]
    _, key, env = untouched[0].split(":")
    assert str(engagement.tasks.get(key=key, environment=env).due_date) == fields[untouched[0]]
    created = Event.objects.get(engagement=engagement, verb="engagement.created")
    assert created.data["due_dates_chosen"] == 2


def test_a_bad_due_date_names_the_task_and_starts_nothing(
    client_for, admin_user, cse, template_version
):
    client = client_for(admin_user)
    url = reverse("engagements:engagement-new")
    shown = client.post(url, form(template_version, cse, preview="1")).content.decode()
    due_for = re.search(r'name="due_for" value="([^"]+)"', shown).group(1)
    first = re.search(r'name="(due:[^"]+)"', shown).group(1)
    response = client.post(url, form(template_version, cse, due_for=due_for, **{first: "31/02"}))
    assert response.status_code == 400
    assert "Nothing was saved. Due date of " in response.content.decode()
    assert "Enter a valid date." in response.content.decode()
    assert not Engagement.objects.exists()


def test_due_dates_shown_for_another_kickoff_are_shown_again(
    client_for, admin_user, cse, template_version
):
    client = client_for(admin_user)
    url = reverse("engagements:engagement-new")
    stale = f"{template_version.pk}:2026-12-01:both"
    response = client.post(url, form(template_version, cse, due_for=stale))
    assert response.status_code == 400
    assert "kickoff date or environments changed since the due dates were shown" in (
        response.content.decode()
    )
    assert 'value="2027-01-04"' in response.content.decode()
    assert not Engagement.objects.exists()


def test_a_task_the_version_does_not_have_is_refused(template_version, org_a, cse, admin_user):
    with pytest.raises(DomainError, match="not a task of this template version"):
        start_engagement(
            organization=org_a,
            name="X",
            version=template_version,
            kickoff_date=dt.date(2027, 1, 4),
            cse=cse,
            actor=admin_user,
            due={("no-such-task", ""): None},
        )
    assert not Engagement.objects.exists()


def test_an_engagement_that_runs_production_only(client_for, admin_user, cse, template_version):
    """Production only: per-environment tasks and checklists for Production alone, the due
    dates shown for those, and the choice on the engagement's page and in its event."""
    client = client_for(admin_user)
    url = reverse("engagements:engagement-new")
    shown = client.post(
        url, form(template_version, cse, environments="production", preview="1")
    ).content.decode()
    due_for = re.search(r'name="due_for" value="([^"]+)"', shown).group(1)
    fields = dict(re.findall(r'name="(due:[^"]+)"(?: value="([^"]*)")?', shown))
    assert due_for.endswith(":production")
    assert not [f for f in fields if f.endswith(":development")]
    assert "due:deployment:production" in fields
    response = client.post(
        url, form(template_version, cse, environments="production", due_for=due_for, **fields)
    )
    assert response.status_code == 302
    engagement = Engagement.objects.get(name="Initech identity appliance")
    assert engagement.environments == "production" and not engagement.has_development
    assert not engagement.tasks.filter(environment="development").exists()
    assert engagement.tasks.filter(key="deployment", environment="production").exists()
    assert list(engagement.checklists.values_list("environment", flat=True)) == ["production"]
    created = Event.objects.get(engagement=engagement, verb="engagement.created")
    assert created.data["environments"] == "production"
    page = client.get(response["Location"]).content.decode()
    assert "Production only" in page


def test_environments_shown_for_both_are_shown_again_for_production_only(
    client_for, admin_user, cse, template_version
):
    client = client_for(admin_user)
    url = reverse("engagements:engagement-new")
    both = f"{template_version.pk}:2027-01-04:both"
    response = client.post(
        url, form(template_version, cse, environments="production", due_for=both)
    )
    assert response.status_code == 400
    assert "environments changed since the due dates were shown" in response.content.decode()
    assert not Engagement.objects.exists()


def test_an_unknown_set_of_environments_is_refused(client_for, admin_user, cse, template_version):
    response = client_for(admin_user).post(
        reverse("engagements:engagement-new"),
        form(template_version, cse, environments="staging"),
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Engagement.objects.exists()
    with pytest.raises(DomainError, match="Choose the environments the engagement runs"):
        start_engagement(
            organization=None,
            new_organization="Initech",
            name="X",
            version=template_version,
            kickoff_date=dt.date(2027, 1, 4),
            cse=cse,
            actor=admin_user,
            environments="development",
        )
    assert not Engagement.objects.exists() and not Organization.objects.filter(name="Initech")
