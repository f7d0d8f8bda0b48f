"""A Slack-compatible receiver on 127.0.0.1 (a real HTTP server recording JSON posts) and a
real Celery worker on a real Redis: an Informed party's person and channel get the message
of an event, a party not told gets nothing."""

from __future__ import annotations

import json

import pytest

from engagements.actions.chat import set_engagement_chat, set_personal_chat
from engagements.actions.membership import add_member
from engagements.actions.tasks import transition_task
from engagements.choices import Channel, Environment, TaskStatus
from engagements.models import Notification
from tests.conftest import task_of
from tests.factories import UserFactory, subscriber_party, vendor_party
from tests.integration.conftest import wait_until
from tests.receivers import start_receiver

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

LOOPBACK = {"WEBHOOKS_ALLOW_HTTP": "1", "WEBHOOKS_ALLOW_PRIVATE": "1"}


def test_an_informed_party_hears_in_slack_and_a_party_not_told_does_not(
    settings, start_worker, engagement_a, engineer_a, cse, vendor_org
):
    settings.WEBHOOKS_ALLOW_HTTP = settings.WEBHOOKS_ALLOW_PRIVATE = True
    receiver = start_receiver()
    try:
        base = f"http://127.0.0.1:{receiver.server.server_address[1]}"
        # The subscriber is Informed of Development's deployment; the vendor (Responsible
        # and Accountable) is not told of its own moves.
        vendor_engineer = UserFactory(username="vendor-engineer", organization=vendor_org)
        add_member(engagement_a, vendor_engineer, party=vendor_party())
        set_personal_chat(engineer_a, kind="slack", url=f"{base}/engineer-a", delivery="immediate")
        set_personal_chat(
            vendor_engineer, kind="slack", url=f"{base}/vendor-engineer", delivery="immediate"
        )
        for party, path in ((subscriber_party(), "subscriber"), (vendor_party(), "vendor")):
            set_engagement_chat(
                engagement_a,
                actor=cse,
                party_id=party.pk,
                kind="slack",
                url=f"{base}/{path}",
                delivery="immediate",
            )
        start_worker(extra_env=LOOPBACK)
        deploy = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
        transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)
        wait_until(lambda: len(receiver.received) >= 2, 30, "two chat messages")
        wait_until(
            lambda: (
                not Notification.objects.filter(channel=Channel.CHAT, sent_at__isnull=True).exists()
            ),
            10,
            "the chat rows marked sent",
        )
        posted = {r.path: json.loads(r.body) for r in receiver.received}
        assert set(posted) == {"/engineer-a", "/subscriber"}
        for message in posted.values():
            assert "not started → in progress" in message["text"]
            assert f"/tasks/{deploy.pk}/" in message["text"]
        assert Notification.objects.filter(channel=Channel.CHAT).count() == 2
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
