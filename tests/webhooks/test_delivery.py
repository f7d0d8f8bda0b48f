"""Webhook deliveries against a real HTTP server on 127.0.0.1 that fails, then recovers:
every event arrives, each webhook-id once after de-duplication, each signature verifies with
the standardwebhooks package; an endpoint failing for a day is disabled and its managers
emailed through the outbox. Time moves by passing `now` to the delivery functions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook

from engagements import tasks as email_tasks
from engagements.actions.tasks import add_comment, transition_task
from engagements.choices import Channel, TaskStatus
from engagements.models import Event, Notification
from tests.conftest import task_of
from tests.receivers import start_receiver
from webhooks import delivery
from webhooks.actions import create_endpoint, enable_endpoint, replay_delivery
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_TIMEOUT = 2
    r = start_receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def make_events(engagement, engineer, cse, n_moves: int = 4) -> list[int]:
    """n status changes on Monitoring and one comment: n + 1 events."""
    task = task_of(engagement, "monitoring")
    for i in range(n_moves):
        task.refresh_from_db()
        to = TaskStatus.IN_PROGRESS if i % 2 == 0 else TaskStatus.NOT_STARTED
        transition_task(task, to=to, actor=engineer)
    add_comment(task, actor=cse, body="Looks fine")
    return list(
        Event.objects.filter(
            engagement=engagement, verb__in=["task.status_changed", "task.commented"]
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def run_until_settled(start: dt.datetime, *, step: dt.timedelta, limit: int = 40) -> dt.datetime:
    """The sweep, again and again with the clock moved on, until nothing is waiting."""
    now = start
    for _ in range(limit):
        delivery.deliver_due_batches(now=now)
        if not WebhookDelivery.objects.filter(
            delivered_at__isnull=True, given_up_at__isnull=True, endpoint__enabled=True
        ).exists():
            return now
        now += step
    raise AssertionError("deliveries still waiting")


def test_a_receiver_that_fails_then_recovers_gets_every_event_once_signed(
    receiver, engagement_a, engineer_a, cse
):
    endpoint, secret = create_endpoint(
        engagement_a, actor=cse, url=receiver.url, kinds=["task.status_changed", "task.commented"]
    )
    assert secret.startswith("whsec_")
    event_ids = make_events(engagement_a, engineer_a, cse)
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == len(event_ids) == 5
    receiver.script.fail_first = 7  # the first seven requests answer 500
    start = timezone.now()
    run_until_settled(start, step=dt.timedelta(hours=1))

    rows = list(WebhookDelivery.objects.filter(endpoint=endpoint))
    assert all(d.delivered_at and d.response_code == 200 for d in rows)
    assert sum(d.attempts for d in rows) == len(receiver.received) >= 5 + 7
    # A replay sends the same message again, with the same webhook-id.
    replay_delivery(rows[0], actor=cse)
    delivery.deliver_due_batches(now=timezone.now())

    seen: dict[str, dict] = {}
    for request in receiver.delivered():
        payload = Webhook(secret).verify(request.body, request.headers)  # raises if forged
        seen.setdefault(request.headers["webhook-id"], payload)
    assert len(receiver.delivered()) == 6  # five events, one replayed
    assert set(seen) == {d.message_id for d in rows}  # each id once after de-duplication
    assert sorted(p["data"]["event"] for p in seen.values()) == event_ids
    kinds = sorted(p["type"] for p in seen.values())
    assert kinds == ["task.commented"] + ["task.status_changed"] * 4
    one = next(p for p in seen.values() if p["type"] == "task.commented")
    assert one["data"]["engagement"] == {"id": engagement_a.pk, "name": "Appliance A"}
    assert one["data"]["actor"] == "cse"
    assert one["data"]["task"]["key"] == "monitoring"
    # A failed try answered 500 and still carried a valid signature.
    failed = [r for r in receiver.received if r.answered == 500]
    assert len(failed) == 7
    Webhook(secret).verify(failed[0].body, failed[0].headers)


def test_a_forged_or_altered_message_does_not_verify(receiver, engagement_a, engineer_a, cse):
    from standardwebhooks.webhooks import WebhookVerificationError

    _, secret = create_endpoint(
        engagement_a, actor=cse, url=receiver.url, kinds=["task.status_changed"]
    )
    make_events(engagement_a, engineer_a, cse, n_moves=1)
    delivery.deliver_due_batches(now=timezone.now())
    (request,) = receiver.delivered()
    altered = request.body.replace(b"in_progress", b"signed_off")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(altered, request.headers)
    _, other = create_endpoint(engagement_a, actor=cse, url=receiver.url, kinds=["task.commented"])
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request.body, request.headers)


def test_a_day_of_failures_disables_the_endpoint_and_emails_its_managers(
    receiver, engagement_a, engineer_a, cse, settings
):
    receiver.script.always = 500
    endpoint, _ = create_endpoint(
        engagement_a, actor=cse, url=receiver.url, kinds=["task.status_changed"]
    )
    make_events(engagement_a, engineer_a, cse, n_moves=2)
    t0 = timezone.now()
    delivery.deliver_due_batches(now=t0)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since == t0
    # Retried with a growing delay for most of a day: still enabled.
    now, sweeps = t0, 0
    while now < t0 + dt.timedelta(hours=23):
        now += dt.timedelta(minutes=20)
        sweeps += 1
        delivery.deliver_due_batches(now=now)
    endpoint.refresh_from_db()
    assert endpoint.enabled
    tries = len(receiver.received)
    assert 2 * 10 <= tries < 2 * sweeps  # the delay grows: fewer tries than sweeps
    delivery.deliver_due_batches(now=t0 + dt.timedelta(days=1, minutes=1))
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "24 hours" in endpoint.disabled_reason
    # The first row past its day is given up and disables the endpoint; the other waits.
    assert WebhookDelivery.objects.filter(endpoint=endpoint, given_up_at__isnull=False).count() == 1
    # The managers hear of it through the outbox (cse manages engagement A; engineer_a not).
    disabled = Event.objects.get(engagement=engagement_a, verb="webhook.disabled")
    rows = Notification.objects.filter(event=disabled, channel=Channel.EMAIL)
    assert [n.recipient for n in rows] == [cse]
    email_tasks.deliver_event(disabled.pk)
    assert [m.to for m in mail.outbox] == [[cse.email]]
    assert "Webhook disabled" in mail.outbox[0].subject
    # Nothing more is sent to a disabled endpoint.
    make_events(engagement_a, engineer_a, cse, n_moves=1)
    delivery.deliver_due_batches(now=t0 + dt.timedelta(days=2))
    assert len(receiver.received) == tries + 1  # the last try, before disabling
    # Enabled again (the receiver recovered): what was waiting goes out; an event that
    # came while it was disabled was never written for it.
    receiver.script.always = 0
    enable_endpoint(endpoint, actor=cse)
    delivery.deliver_due_batches(now=timezone.now())
    assert len(receiver.delivered()) == 1
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2


def test_no_redirect_is_followed_and_a_slow_receiver_times_out(
    receiver, engagement_a, engineer_a, cse, settings
):
    settings.WEBHOOKS_TIMEOUT = 1
    endpoint, _ = create_endpoint(
        engagement_a, actor=cse, url=receiver.url, kinds=["task.status_changed"]
    )
    receiver.script.redirect_to = "http://127.0.0.1:9/elsewhere"
    make_events(engagement_a, engineer_a, cse, n_moves=1)
    delivery.deliver_due_batches(now=timezone.now())
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert row.delivered_at is None and row.response_code == 302 and row.retry_at
    assert [r.path for r in receiver.received] == ["/hook"]
    receiver.script.redirect_to, receiver.script.delay = "", 3
    delivery.deliver_due_batches(now=row.retry_at)
    row.refresh_from_db()
    assert row.delivered_at is None and "timed out" in row.last_error.lower()
    assert row.attempts == 2


def test_the_event_and_its_deliveries_commit_or_roll_back_together(
    receiver, engagement_a, engineer_a, cse
):
    from django.db import transaction

    create_endpoint(engagement_a, actor=cse, url=receiver.url, kinds=["task.status_changed"])
    task = task_of(engagement_a, "monitoring")
    with pytest.raises(RuntimeError), transaction.atomic():
        transition_task(task, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the change fails after the event")
    assert WebhookDelivery.objects.count() == 0


def test_a_receiver_that_answers_a_byte_at_a_time_is_cut_off_at_the_deadline(
    receiver, engagement_a, engineer_a, cse, settings
):
    """WEBHOOKS_TIMEOUT bounds the whole request: each byte arriving within the socket's
    timeout does not keep a worker (and its claimed batch) waiting past it."""
    import time

    settings.WEBHOOKS_TIMEOUT = 1
    endpoint, _ = create_endpoint(
        engagement_a, actor=cse, url=receiver.url, kinds=["task.status_changed"]
    )
    receiver.script.drip = 4  # 4 s for the header, a byte every ~0.07 s
    make_events(engagement_a, engineer_a, cse, n_moves=1)
    started = time.monotonic()
    delivery.deliver_due_batches(now=timezone.now())
    took = time.monotonic() - started
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert row.delivered_at is None and "timed out" in row.last_error.lower()
    assert took < 3, took
