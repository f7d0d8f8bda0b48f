"""The template editor: drafts only, toggles, hygiene shown not enforced, publish, compare."""

from __future__ import annotations

import pytest
from django.urls import reverse

from raci import services
from raci.matrix_diff import compare
from raci.models import TemplateCell, TemplateVersion
from raci.services import version_matrix

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(template_version, admin_user):
    return services.start_draft(template_version, actor=admin_user)


def cell(version, task_name: str, party: str) -> TemplateCell:
    return TemplateCell.objects.get(task__version=version, task__name=task_name, party__name=party)


def test_a_draft_copies_the_published_version(draft, template_version):
    assert draft.number == 2 and draft.is_draft
    assert version_matrix(draft).rows == version_matrix(template_version).rows
    with pytest.raises(services.TemplateError, match="already has a draft"):
        services.start_draft(template_version, actor=None)


def test_toggling_changes_the_hygiene_findings(draft, admin_user):
    handover = cell(draft, "Operations Handover", "Auth0")
    before = services.hygiene_findings(version_matrix(draft))
    assert any(f.task == "Operations Handover" and "No Accountable" in f.message for f in before)
    services.toggle_letter(
        draft, task_id=handover.task_id, party_id=handover.party_id, letter="A", actor=admin_user
    )
    after = services.hygiene_findings(version_matrix(draft))
    assert not any(f.task == "Operations Handover" for f in after)
    assert cell(draft, "Operations Handover", "Auth0").letters == "RA"


def test_the_last_letter_cannot_be_toggled_off(draft, admin_user):
    c = cell(draft, "Monitoring", "Auth0")  # I only
    with pytest.raises(services.TemplateError, match="at least one letter"):
        services.toggle_letter(
            draft, task_id=c.task_id, party_id=c.party_id, letter="I", actor=admin_user
        )


def test_published_versions_are_frozen(template_version, admin_user):
    c = cell(template_version, "Monitoring", "Auth0")
    with pytest.raises(services.TemplateError, match="frozen"):
        services.toggle_letter(
            template_version, task_id=c.task_id, party_id=c.party_id, letter="C", actor=admin_user
        )


def test_tasks_and_parties_can_be_added_moved_and_removed(draft, admin_user):
    task = services.add_task(draft, name="Security review", actor=admin_user)
    assert task.position == 13
    services.move_task(draft, task_id=task.pk, up=True, actor=admin_user)
    assert [t.name for t in draft.tasks.order_by("position")][11:] == [
        "Security review",
        "Issue Resolution",
    ]
    party = services.add_party(draft, name="Auditor", actor=admin_user)
    assert (
        TemplateCell.objects.filter(task__version=draft, party=party, informed=True).count() == 13
    )
    services.remove_party(draft, party_id=party.pk, actor=admin_user)
    services.remove_task(draft, task_id=task.pk, actor=admin_user)
    assert list(draft.tasks.order_by("position").values_list("position", flat=True)) == list(
        range(1, 13)
    )
    with pytest.raises(services.TemplateError, match="already a task"):
        services.add_task(draft, name="monitoring", actor=admin_user)


def test_publish_and_compare(draft, template_version, admin_user):
    c = cell(draft, "Updates", "Auth0")
    services.set_cell(
        draft,
        task_id=c.task_id,
        party_id=c.party_id,
        letters="C",
        condition="",
        role_title="",
        actor=admin_user,
    )
    services.add_task(draft, name="Security review", actor=admin_user)
    published = services.publish_version(draft, actor=admin_user)
    assert published.published_by == admin_user and not published.is_draft
    diff = compare(version_matrix(template_version), version_matrix(published))
    assert [r.name for r in diff.added] == ["Security review"]
    assert [(ch.new.name, ch.changes) for ch in diff.changed] == [("Updates", ["Auth0: R → C"])]
    assert len(diff.unchanged) == 11
    assert TemplateVersion.objects.latest_published("PSaaS Appliance") == published


def test_editor_over_http(client_for, draft, admin_user, engineer_a):
    c = cell(draft, "Operations Handover", "Auth0")
    toggle = reverse("raci:toggle-letter", args=[draft.pk])
    data = {"task": c.task_id, "party": c.party_id, "letter": "A"}
    assert client_for(engineer_a).post(toggle, data).status_code == 403
    client = client_for(admin_user)
    response = client.post(toggle, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="editor"' in response.content.decode()
    assert cell(draft, "Operations Handover", "Auth0").letters == "RA"
    assert client.post(toggle, {"task": "x", "party": c.party_id, "letter": "A"}).status_code == 400
    assert client.post(toggle, {**data, "letter": "Z"}).status_code == 400
    assert client.get(toggle).status_code == 405
    publish = reverse("raci:publish", args=[draft.pk])
    assert (
        client.post(publish, {"change_note": "Auth0 is Accountable for the handover"}).status_code
        == 302
    )
    assert client.post(publish, {"change_note": "again"}).status_code == 400
    page = client.get(reverse("raci:compare") + f"?a={draft.pk - 1}&b={draft.pk}")
    assert "Auth0: R → R, A" in page.content.decode()
