"""The Infrastructure Checklist's items as template data: seeded, copied into a new draft,
edited in the editor (drafts only), compared between versions, exported and imported, and
followed by the engagements a new version is applied to."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from engagements.actions.templates import apply_template_version, template_diff
from engagements.models import ChecklistItem
from raci import checklists, services
from raci.matrix import from_data, to_data
from raci.matrix_diff import compare
from raci.models import ChecklistRequirement, TemplateVersion
from raci.services import version_matrix

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(template_version, admin_user):
    return services.start_draft(template_version, actor=admin_user)


def item(version, key: str) -> ChecklistRequirement:
    return ChecklistRequirement.objects.get(version=version, key=key)


def test_the_seed_template_ships_the_checklist_items(template_version):
    items = list(template_version.checklist_requirements.order_by("position"))
    assert [(i.label, i.kind) for i in items] == [
        ("Memory", "size_gb"),
        ("Storage", "size_gb"),
        ("Processors", "count"),
        ("Load balancer address", "address"),
        ("Networks", "cidr_list"),
        ("SSL certificate", "certificate"),
        ("DNS records", "dns_records"),
        ("SMTP server", "host_port"),
        ("Auth0 access (jumphost or VPN)", "access"),
    ]
    assert all(i.required and i.requirement for i in items)
    assert (items[2].min_value, items[2].max_value) == (1, 512)
    assert services.load_seed_template() == template_version  # loading again changes nothing


def test_a_new_draft_copies_the_items(draft, template_version):
    assert version_matrix(draft).checklist == version_matrix(template_version).checklist
    assert len(version_matrix(draft).checklist) == 9
    assert compare(version_matrix(template_version), version_matrix(draft)).is_empty


def test_editor_edits_show_in_the_version_diff(draft, template_version, admin_user):
    processors = item(draft, "processors")
    checklists.update_requirement(
        draft, requirement_id=processors.pk, actor=admin_user, min_value=4, max_value=64
    )
    checklists.update_requirement(
        draft,
        requirement_id=item(draft, "smtp_servers").pk,
        actor=admin_user,
        label="SMTP relay",
        required=False,
    )
    checklists.remove_requirement(
        draft, requirement_id=item(draft, "vendor_access").pk, actor=admin_user
    )
    checklists.add_requirement(
        draft, key="ntp_server", label="NTP server", kind="address", actor=admin_user
    )
    checklists.move_requirement(
        draft, requirement_id=item(draft, "ntp_server").pk, up=True, actor=admin_user
    )
    assert [i.key for i in draft.checklist_requirements.order_by("position")][-2:] == [
        "ntp_server",
        "smtp_servers",
    ]
    diff = compare(version_matrix(template_version), version_matrix(draft)).checklist
    assert [s.label for s in diff.added] == ["NTP server"]
    assert [s.label for s in diff.removed] == ["Auth0 access (jumphost or VPN)"]
    assert {s.key: c for s, c in diff.changed} == {
        "processors": ["minimum 1 → 4", "maximum 512 → 64"],
        "smtp_servers": ["renamed from 'SMTP server'", "value now optional"],
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min_value": 10, "max_value": 2}, "Processors: the minimum is above the maximum"),
        ({"max_value": 2_000_000}, "Processors: the minimum and maximum must be from 0"),
        ({"label": ""}, "the label must be 1 to 80 characters"),
        ({"label": "Two\nlines"}, "the label must be one line"),
        ({"kind": "colour"}, "unknown kind of value 'colour'"),
        ({"key": "x"}, "Unknown checklist item field key"),
    ],
)
def test_bad_item_definitions_are_refused_and_nothing_changes(draft, admin_user, fields, message):
    processors = item(draft, "processors")
    with pytest.raises(services.TemplateError, match=message):
        checklists.update_requirement(
            draft, requirement_id=processors.pk, actor=admin_user, **fields
        )
    assert item(draft, "processors").spec() == processors.spec()


def test_adding_items_checks_the_key(draft, admin_user):
    for key, message in (("memory", "already a checklist item"), ("Bad-Key", "the key must be")):
        with pytest.raises(services.TemplateError, match=message):
            checklists.add_requirement(draft, key=key, label="X", actor=admin_user)


def test_a_published_versions_items_are_frozen(template_version, admin_user):
    with pytest.raises(services.TemplateError, match="published and frozen"):
        checklists.update_requirement(
            template_version,
            requirement_id=item(template_version, "memory").pk,
            actor=admin_user,
            label="RAM",
        )


def test_editor_over_http(client_for, draft, admin_user, cse):
    url = reverse("raci:update-requirement", args=[draft.pk])
    memory = item(draft, "memory")
    data = {
        "item": memory.pk,
        "label": "Memory",
        "requirement": "The memory of each VM.",
        "kind": "size_gb",
        "required": "on",
        "min_value": "16",
        "max_value": "",
    }
    assert client_for(cse).post(url, data).status_code == 403
    assert client_for(admin_user).post(url, data).status_code == 302
    memory = item(draft, "memory")
    assert (memory.min_value, memory.max_value, memory.requirement) == (
        16,
        None,
        "The memory of each VM.",
    )
    bad = client_for(admin_user).post(url, {**data, "min_value": "lots"})
    assert bad.status_code == 400 and "The minimum must be a whole number." in bad.content.decode()
    page = client_for(admin_user).get(reverse("raci:version-detail", args=[draft.pk]))
    html = page.content.decode()
    assert 'data-testid="checklist-requirements"' in html and "at least 16" in html
    added = client_for(admin_user).post(
        reverse("raci:add-requirement", args=[draft.pk]),
        {"key": "ntp_server", "label": "NTP server", "kind": "address"},
        HTTP_HX_REQUEST="true",
    )
    assert added.status_code == 200 and "Checklist item added." in added.content.decode()
    assert item(draft, "ntp_server").kind == "address"


def test_the_compare_page_lists_checklist_changes(client_for, draft, template_version, admin_user):
    checklists.add_requirement(draft, key="ntp_server", label="NTP server", actor=admin_user)
    page = client_for(admin_user).get(
        reverse("raci:compare") + f"?a={template_version.pk}&b={draft.pk}"
    )
    html = page.content.decode()
    assert "Checklist items added" in html and "NTP server" in html


def test_json_export_and_import_carry_the_items(template_version, tmp_path):
    data = to_data(version_matrix(template_version))
    assert [i["key"] for i in data["checklist"]][:3] == ["memory", "storage", "processors"]
    assert (
        from_data(json.loads(json.dumps(data))).checklist
        == version_matrix(template_version).checklist
    )
    path = tmp_path / "m.json"
    data["checklist"][0]["min_value"] = 99
    data["checklist"][0]["max_value"] = 1
    path.write_text(json.dumps(data))
    with pytest.raises(Exception, match="checklist item 1: Memory: the minimum is above"):
        call_command("import_raci_template", str(path), "--name", "Copy", stdout=StringIO())
    assert not TemplateVersion.objects.filter(template__name="Copy").exists()


def test_a_csv_import_keeps_the_previous_versions_items(template_version, tmp_path):
    out = StringIO()
    call_command("raci_matrix", "--format", "csv", stdout=out)
    path = tmp_path / "m.csv"
    path.write_text(out.getvalue())
    call_command("import_raci_template", str(path), "--name", "PSaaS Appliance", stdout=StringIO())
    imported = TemplateVersion.objects.get(template=template_version.template, number=2)
    assert version_matrix(imported).checklist == version_matrix(template_version).checklist


def test_applying_a_version_the_open_checklists_follow_its_items(
    engagement_a, template_version, admin_user, cse
):
    draft = services.start_draft(template_version, actor=admin_user)
    checklists.update_requirement(
        draft, requirement_id=item(draft, "processors").pk, actor=admin_user, min_value=4
    )
    checklists.add_requirement(
        draft, key="ntp_server", label="NTP server", kind="address", actor=admin_user
    )
    draft = services.publish_version(draft, actor=admin_user)
    diff = template_diff(engagement_a, draft).checklist
    assert [s.key for s in diff.added] == ["ntp_server"]
    assert [s.key for s, _ in diff.changed] == ["processors"]
    event = apply_template_version(engagement_a, draft, actor=cse)
    assert event.data["checklist_items"]["added"] == ["NTP server"]
    for checklist in engagement_a.checklists.all():
        assert checklist.items.get(key="processors").min_value == 4
        assert checklist.items.filter(key="ntp_server").exists()
    assert ChecklistItem.objects.filter(checklist__engagement=engagement_a).count() == 20
    engagement_a.refresh_from_db()
    assert template_diff(engagement_a, draft).checklist.is_empty
