"""The portal admins' home (open drafts, engagements on older versions with the way to
review and apply), the change note asked at publishing, and the confirmation step before a
task or a party leaves a draft."""

from __future__ import annotations

import pytest
from django.urls import reverse

from raci import services
from raci.models import Party, TemplateTask, TemplateVersion

pytestmark = pytest.mark.django_db
NOTE = "Auth0 is Accountable for the Operations Handover"


@pytest.fixture
def draft(template_version, admin_user):
    return services.start_draft(template_version, actor=admin_user)


def publish(client, version, note=NOTE):
    return client.post(reverse("raci:publish", args=[version.pk]), {"change_note": note})


def test_publishing_asks_for_a_change_note_and_shows_it(
    client_for, draft, admin_user, template_version
):
    client = client_for(admin_user)
    editor = client.get(reverse("raci:version-detail", args=[draft.pk])).content.decode()
    assert (
        'name="change_note"' in editor and "required" in editor.split('name="change_note"')[1][:40]
    )
    for bad in ("", "   \n "):
        response = publish(client, draft, bad)
        assert response.status_code == 400
        assert "Change note: say what changed in this version." in response.content.decode()
        draft.refresh_from_db()
        assert draft.is_draft and draft.change_note == ""  # nothing changed
    assert publish(client, draft, "x" * 2001).status_code == 400
    assert publish(client, draft).status_code == 302
    draft.refresh_from_db()
    assert not draft.is_draft and draft.change_note == NOTE
    listing = client.get(reverse("raci:template-list")).content.decode()
    assert NOTE in listing.split(f'data-testid="change-note-{draft.pk}"')[1][:200]
    compare = client.get(reverse("raci:compare") + f"?a={template_version.pk}&b={draft.pk}")
    assert "v2</strong> (" in compare.content.decode() and NOTE in compare.content.decode()
    detail = client.get(reverse("raci:version-detail", args=[draft.pk])).content.decode()
    assert NOTE in detail and 'name="change_note"' not in detail


@pytest.mark.parametrize("what", ["task", "party"])
def test_removing_from_a_draft_asks_first(client_for, draft, admin_user, engineer_a, what):
    client = client_for(admin_user)
    if what == "task":
        obj = TemplateTask.objects.get(version=draft, name="Monitoring")
        gone = lambda: not TemplateTask.objects.filter(pk=obj.pk).exists()  # noqa: E731
    else:
        obj = services.add_party(draft, name="Integrator", actor=admin_user)
        gone = lambda: not draft.parties.filter(pk=obj.pk).exists()  # noqa: E731
    url = reverse(f"raci:remove-{what}", args=[draft.pk])
    # The editor links to the confirmation page: no JavaScript needed.
    editor = client.get(reverse("raci:version-detail", args=[draft.pk])).content.decode()
    assert f'{url}?{what}={obj.pk}"' in editor and "hx-confirm" not in editor.split(url)[0][-300:]
    page = client.get(url, {what: obj.pk})
    assert page.status_code == 200
    assert f"Remove {'the party ' if what == 'party' else ''}{obj.name}?" in page.content.decode()
    assert 'name="confirm" value="yes"' in page.content.decode()
    # A post without the confirmation asks again and removes nothing.
    assert client.post(url, {what: obj.pk}).status_code == 200 and not gone()
    # Someone else may not, even confirmed; an unknown id is a 404.
    assert client_for(engineer_a).post(url, {what: obj.pk, "confirm": "yes"}).status_code == 403
    client = client_for(admin_user)
    assert client.get(url, {what: 999999}).status_code == 404
    assert not gone()
    assert client.post(url, {what: obj.pk, "confirm": "yes"}).status_code == 302
    assert gone()


def test_removing_from_a_published_version_is_refused(client_for, template_version, admin_user):
    client = client_for(admin_user)
    task = TemplateTask.objects.filter(version=template_version).first()
    url = reverse("raci:remove-task", args=[template_version.pk])
    assert client.get(url, {"task": task.pk}).status_code == 302
    assert client.post(url, {"task": task.pk, "confirm": "yes"}).status_code == 400
    assert TemplateTask.objects.filter(pk=task.pk).exists()
    assert Party.objects.exists()


def test_admins_land_on_their_home_with_drafts_and_engagements_behind(
    client_for, draft, admin_user, engagement_a, engagement_b, cse
):
    client = client_for(admin_user)
    home = client.get(reverse("engagements:my-work")).content.decode()
    assert "Admin home" in home and "Nothing waits on you in My work." in home
    drafts = home.split('data-testid="open-drafts"')[1].split("</section>")[0]
    assert reverse("raci:version-detail", args=[draft.pk]) in drafts
    assert "Every open engagement follows" in home  # nobody is behind yet

    assert publish(client, draft).status_code == 302
    home = client.get(reverse("engagements:admin-home")).content.decode()
    assert "No open drafts." in home
    assert "2 engagements on PSaaS Appliance v1; v2 published" in home and NOTE in home
    review = (
        reverse("engagements:engagement-template", args=[engagement_a.pk]) + f"?version={draft.pk}"
    )
    assert review in home
    page = client.get(review).content.decode()
    assert NOTE in page and "Apply v2 to this engagement" in page
    apply = reverse("engagements:engagement-template-apply", args=[engagement_a.pk])
    assert client.post(apply, {"version": draft.pk}).status_code == 302
    home = client.get(reverse("engagements:admin-home")).content.decode()
    assert "1 engagement on PSaaS Appliance v1; v2 published" in home

    # Not for anyone else: the CSE keeps My work, and the admins' home is refused.
    assert "Admin home" not in client_for(cse).get(reverse("engagements:my-work")).content.decode()
    assert client_for(cse).get(reverse("engagements:admin-home")).status_code == 403
    assert TemplateVersion.objects.filter(status="draft").count() == 0


def test_nothing_to_do_is_decided_by_my_works_reads(admin_user, engineer_a, engagement_a):
    """The rule that sends an admin to their home is the selector's, not the view's: no task,
    no checklist to review and nothing waiting."""
    from engagements.selectors.mywork import my_work_page

    engineers = my_work_page(engineer_a)
    assert engineers["rows"] and not engineers["nothing_to_do"]
    admins = my_work_page(admin_user)
    assert admins["nothing_to_do"]
    assert not (admins["rows"] or admins["to_review"] or admins["operations"])
