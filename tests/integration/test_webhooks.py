"""Webhooks through a real Redis and a real Celery worker: the event's commit enqueues its
deliveries by task name, the worker signs and POSTs them to a receiver on 127.0.0.1, and the
web process never waits for the receiver (it answers slowly here)."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook

from engagements.actions.tasks import transition_task
from engagements.choices import TaskStatus
from tests.conftest import task_of
from tests.integration.conftest import wait_until
from tests.receivers import start_receiver
from webhooks.actions import create_endpoint
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_worker_delivers_signed_webhooks_after_commit(
    settings, start_worker, engagement_a, engineer_a, cse
):
    settings.WEBHOOKS_ALLOW_HTTP = settings.WEBHOOKS_ALLOW_PRIVATE = True
    receiver = start_receiver()
    receiver.script.delay = 4  # a slow receiver (under WEBHOOKS_TIMEOUT, 5 s)
    try:
        _, secret = create_endpoint(
            engagement_a, actor=cse, url=receiver.url, kinds=["task.status_changed"]
        )
        start_worker(extra_env={"WEBHOOKS_ALLOW_HTTP": "1", "WEBHOOKS_ALLOW_PRIVATE": "1"})
        task = task_of(engagement_a, "monitoring")
        started = time.monotonic()
        transition_task(task, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
        # The change never waits for the receiver: it returns before the receiver could answer.
        assert time.monotonic() - started < 4
        wait_until(lambda: receiver.delivered(), 30, "the webhook")
        (request,) = receiver.delivered()
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["type"] == "task.status_changed"
        assert payload["data"]["to"] == "in_progress"
        wait_until(
            lambda: WebhookDelivery.objects.filter(delivered_at__isnull=False).count() == 1,
            10,
            "the delivery marked delivered",
        )
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
