"""Chat channels: a person's own and an engagement's per party, told by the same letters and
preferences as email; posted to a real receiver on 127.0.0.1 (Slack's and Teams' formats),
retried when refused, digested daily; bad input names the field and saves nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements import chat
from engagements.actions.chat import set_engagement_chat, set_personal_chat
from engagements.actions.tasks import transition_task
from engagements.choices import Channel, Environment, TaskStatus
from engagements.errors import DomainError
from engagements.models import ChatChannel, Event, Notification
from tests.conftest import task_of
from tests.factories import subscriber_party, vendor_party
from tests.receivers import start_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    r = start_receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def base(receiver) -> str:
    return f"http://127.0.0.1:{receiver.server.server_address[1]}"


def move_deployment(engagement, cse):
    """The vendor starts Development's deployment: the subscriber is Informed."""
    deploy = task_of(engagement, "deployment", Environment.DEVELOPMENT)
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)
    return Event.objects.filter(engagement=engagement, verb="task.status_changed").latest("pk")


def test_the_letters_and_preferences_decide_the_chat_rows(receiver, engagement_a, engineer_a, cse):
    set_personal_chat(engineer_a, kind="slack", url=f"{base(receiver)}/a", delivery="immediate")
    set_personal_chat(cse, kind="teams", url=f"{base(receiver)}/cse", delivery="immediate")
    set_engagement_chat(
        engagement_a,
        actor=cse,
        party_id=subscriber_party().pk,
        kind="slack",
        url=f"{base(receiver)}/sub",
        delivery="immediate",
    )
    set_engagement_chat(
        engagement_a,
        actor=cse,
        party_id=vendor_party().pk,
        kind="teams",
        url=f"{base(receiver)}/vendor",
        delivery="digest",
    )
    event = move_deployment(engagement_a, cse)
    rows = Notification.objects.filter(event=event, channel=Channel.CHAT)
    # engineer_a (Informed) and the subscriber's channel; not the actor, not the vendor's.
    assert sorted((n.recipient_id or 0, n.chat_id or 0) for n in rows) == sorted(
        [(engineer_a.pk, 0), (0, ChatChannel.objects.get(party=subscriber_party()).pk)]
    )
    assert chat.deliver_chat_event(event.pk) == 2
    posted = {r.path: json.loads(r.body) for r in receiver.received}
    assert set(posted) == {"/a", "/sub"}
    assert "not started → in progress" in posted["/a"]["text"]
    task_url = reverse("engagements:task-detail", args=[event.task_id])
    assert task_url in posted["/a"]["text"]
    assert rows.filter(sent_at__isnull=False).count() == 2
    # Off: no row at all; digest: a row that waits.
    ChatChannel.objects.filter(user=engineer_a).update(delivery="off")
    ChatChannel.objects.filter(party=subscriber_party()).update(delivery="digest")
    task = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    transition_task(task, to=TaskStatus.BLOCKED, actor=cse, reason="VPN down")
    later = Event.objects.filter(engagement=engagement_a).latest("pk")
    rows = Notification.objects.filter(event=later, channel=Channel.CHAT)
    assert [(n.recipient_id, n.digest) for n in rows] == [(None, True)]


def test_a_refused_post_is_retried_and_a_digest_lists_the_day(
    receiver, engagement_a, engineer_a, cse
):
    set_personal_chat(engineer_a, kind="teams", url=f"{base(receiver)}/a", delivery="immediate")
    receiver.script.fail_first = 1
    event = move_deployment(engagement_a, cse)
    assert chat.deliver_chat_event(event.pk) == 0
    row = Notification.objects.get(event=event, channel=Channel.CHAT)
    assert row.sent_at is None and row.retry_at and "HTTP 500" in row.last_error
    Notification.objects.filter(pk=row.pk).update(retry_at=timezone.now() - dt.timedelta(seconds=1))
    assert chat.deliver_pending_chat() == 1
    card = json.loads(receiver.received[-1].body)
    assert card["@type"] == "MessageCard" and "in progress" in card["text"]
    # The digest: one post per channel listing what waited.
    ChatChannel.objects.filter(user=engineer_a).update(delivery="digest")
    task = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    transition_task(task, to=TaskStatus.BLOCKED, actor=cse, reason="VPN down")
    task.refresh_from_db()
    transition_task(task, to=TaskStatus.IN_PROGRESS, actor=cse)
    before = len(receiver.received)
    assert chat.send_chat_digest_batches() == 1
    assert chat.send_chat_digest_batches() == 0  # once a day
    assert len(receiver.received) == before + 1
    digest = json.loads(receiver.received[-1].body)
    assert digest["title"] == "Daily digest: 2 update(s)"
    assert not Notification.objects.filter(channel=Channel.CHAT, sent_at__isnull=True).exists()


def test_a_channel_turned_off_gets_no_digest(receiver, engagement_a, engineer_a, cse):
    set_personal_chat(engineer_a, kind="slack", url=f"{base(receiver)}/a", delivery="digest")
    move_deployment(engagement_a, cse)
    assert Notification.objects.filter(channel=Channel.CHAT, sent_at__isnull=True).count() == 1
    ChatChannel.objects.filter(user=engineer_a).update(delivery="off")
    assert chat.send_chat_digest_batches() == 0
    assert receiver.received == []
    row = Notification.objects.get(channel=Channel.CHAT)
    assert row.sent_at is not None and row.last_error == "chat channel off"


def test_a_chat_message_given_up_shows_in_readyz_and_is_requeued(
    client, receiver, engagement_a, engineer_a, cse, settings
):
    """A chat message whose attempts are used up is counted on /readyz (still ready) and
    put back by requeue_notifications, like an email; the sweep then posts it."""
    from io import StringIO

    from django.core.management import call_command

    from engagements import delivery_backoff
    from psaas_portal.models import Heartbeat

    settings.NOTIFY_MAX_ATTEMPTS = 1
    set_personal_chat(engineer_a, kind="slack", url=f"{base(receiver)}/a", delivery="immediate")
    receiver.script.always = 500
    event = move_deployment(engagement_a, cse)
    assert chat.deliver_chat_event(event.pk) == 0
    assert delivery_backoff.given_up().filter(channel=Channel.CHAT).count() == 1
    Heartbeat.beat("beat")
    Heartbeat.beat("worker")
    body = json.loads(client.get("/readyz").content)
    assert body["checks"]["outbox"]["ok"] is True
    assert (
        "1 chat message(s) given up (manage.py requeue_notifications)"
        in (body["checks"]["outbox"]["detail"])
    )
    receiver.script.always = 0
    out = StringIO()
    call_command("requeue_notifications", stdout=out)
    assert "1 given-up message(s) re-queued" in out.getvalue()
    assert chat.deliver_pending_chat() == 1
    assert not delivery_backoff.given_up().exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "slack", "url": "https://127.0.0.1/x", "delivery": "immediate"}, "Chat URL"),
        ({"kind": "slack", "url": "http://hooks.slack.com/x", "delivery": "immediate"}, "Chat URL"),
        (
            {"kind": "slack", "url": "https://93.184.216.34/services/x", "delivery": "immediate"},
            "Chat URL: a Slack incoming webhook is on hooks.slack.com",
        ),
        ({"kind": "irc", "url": "https://hooks.slack.com/x", "delivery": "immediate"}, "Service"),
        ({"kind": "slack", "url": "https://hooks.slack.com/x", "delivery": "hourly"}, "Delivery"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(client_for, engineer_a, data, field):
    response = client_for(engineer_a).post(reverse("engagements:chat-personal"), data)
    assert response.status_code == 400
    assert f"Nothing was saved. {field}" in response.content.decode()
    assert not ChatChannel.objects.exists()


def test_the_engagement_page_is_its_managers(client_for, engagement_a, engineer_a, engineer_b, cse):
    url = reverse("engagements:chat-channels", args=[engagement_a.pk])
    with pytest.raises(DomainError):
        set_engagement_chat(
            engagement_a, actor=cse, party_id=999999, kind="slack", url="x", delivery="off"
        )
    channel = ChatChannel.objects.create(
        engagement=engagement_a,
        party=subscriber_party(),
        kind="slack",
        url="https://hooks.slack.com/services/T/B/secret",
    )
    remove = reverse("engagements:chat-remove", args=[channel.pk])
    for user, status in ((engineer_a, 403), (engineer_b, 404)):
        client = client_for(user)
        assert client.get(url).status_code == status
        assert client.post(url, {"party": subscriber_party().pk}).status_code == status
        assert client.post(remove).status_code == status
    client = client_for(cse)
    page = client.get(url).content.decode()
    assert "hooks.slack.com" in page and "secret" not in page
    assert client.post(url, {"party": "x"}).status_code == 400
    assert client.post(remove).status_code == 302
    assert not ChatChannel.objects.exists()
    assert Event.objects.filter(verb="chat.channel_removed", engagement=engagement_a).exists()


def test_a_person_sets_and_removes_their_own_channel(client_for, engineer_a, receiver):
    client = client_for(engineer_a)
    url = reverse("engagements:chat-personal")
    data = {"kind": "slack", "url": f"{base(receiver)}/mine", "delivery": "digest"}
    assert client.post(url, data).status_code == 302
    page = client.get(reverse("engagements:notification-preferences")).content.decode()
    assert "127.0.0.1" in page and "/mine" not in page and "daily digest" in page
    assert client.post(url, {"remove": "1"}).status_code == 302
    assert not ChatChannel.objects.filter(user=engineer_a).exists()
    assert client.get(url).status_code == 405
