"""Issue 17, item 11: an attestation token is revoked, with an event, when its creator leaves
the role; it does not work again when the role comes back."""

from __future__ import annotations

import pytest

from engagements.actions.membership import add_member, remove_member
from engagements.models import Attestation, AttestationToken, Event
from tests.engagements.test_operations_pages import api, good_body
from tests.factories import subscriber_party

pytestmark = pytest.mark.django_db


def test_removing_the_creator_revokes_the_token_for_good(
    client, engagement_a, engineer_a, cse, token
):
    row, raw = token
    assert api(client, engagement_a.pk, good_body(), raw).status_code == 201
    remove_member(engagement_a, engineer_a, actor=cse)
    row.refresh_from_db()
    assert row.revoked_at is not None and row.revoked_by == cse
    event = Event.objects.filter(verb="token.revoked").get()
    assert event.actor == cse and event.data["reason"] == "creator left the role"
    assert row.prefix in event.data["summary"] and raw not in str(event.data)
    # The role comes back: the token stays revoked (before the fix: it worked again).
    add_member(engagement_a, engineer_a, party=subscriber_party(), actor=cse)
    assert api(client, engagement_a.pk, good_body(), raw).status_code == 401
    assert Attestation.objects.count() == 1


def test_a_change_that_keeps_the_role_keeps_the_token(engagement_a, engineer_a, cse, token):
    row, _ = token
    add_member(engagement_a, engineer_a, party=subscriber_party(), is_manager=True, actor=cse)
    row.refresh_from_db()
    assert row.revoked_at is None
    assert not Event.objects.filter(verb="token.revoked").exists()
    assert AttestationToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_a_template_version_that_moves_backups_away_revokes_the_token(
    engagement_a, engineer_a, cse, admin_user, template_version, token
):
    from engagements.actions.templates import apply_template_version
    from raci import services as raci_services
    from raci.models import TemplateCell

    row, _ = token
    draft = raci_services.start_draft(template_version, actor=admin_user)
    backup = TemplateCell.objects.get(
        task__version=draft, task__key="backup", party__name="Subscriber"
    )
    raci_services.set_cell(
        draft, task_id=backup.task_id, party_id=backup.party_id, letters="I", actor=admin_user
    )
    apply_template_version(
        engagement_a, raci_services.publish_version(draft, actor=admin_user), actor=cse
    )
    row.refresh_from_db()
    assert row.revoked_at is not None and row.revoked_by == cse
    assert Event.objects.filter(verb="token.revoked").count() == 1
