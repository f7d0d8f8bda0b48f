"""The outbox: an event recorded on an engagement writes one delivery row per enabled
endpoint that chose its kind, in the event's own transaction (so a change and its webhooks
commit or roll back together); a worker sends them after commit."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction

from psaas_portal import prepared
from psaas_portal.celery import app

from .models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.tasks.deliver_event"
SWEEP_TASK = "webhooks.tasks.deliver_due"


def _endpoints_of(**engagement_ids: int):
    return WebhookEndpoint.objects.filter(
        engagement_id__in=list(engagement_ids.values()), enabled=True
    ).only("pk", "engagement_id", "kinds")


def write_deliveries(sender: Any, events: list, **kwargs: Any) -> list[WebhookDelivery]:
    """Receiver of engagements.audit.event_recorded: one query for the events recorded
    together (one, or a sweep's batch) when nobody listens, one INSERT when someone does."""
    if not events:
        return []
    engagement_ids = sorted({event.engagement_id for event in events})
    endpoints = prepared.rows(  # compiled once per number of engagements
        ("webhook endpoints", len(engagement_ids)),
        _endpoints_of,
        **{f"e{i:05d}": pk for i, pk in enumerate(engagement_ids)},
    )
    if not endpoints:
        return []
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=e, event=event, window_start=event.created_at)
        for event in events
        for e in endpoints
        if e.engagement_id == event.engagement_id and event.verb in e.kinds
    )
    for event_id in dict.fromkeys(row.event_id for row in rows):
        transaction.on_commit(partial(enqueue, event_id))
    return rows


def enqueue(event_id: int) -> None:
    """After commit: a worker sends the event's deliveries (by task name: this module sits
    below the tasks). A broker outage loses nothing: the sweep finds the rows."""
    try:
        app.send_task(DELIVER_TASK, args=[event_id])
    except Exception:  # kombu raises several types for an unreachable broker
        log.warning("broker unreachable; event %s's webhooks wait for the sweep", event_id)


def enqueue_sweep() -> None:
    """After commit: a worker sends whatever is due now (an endpoint enabled again)."""
    try:
        app.send_task(SWEEP_TASK)
    except Exception:  # the beat sweep runs every WEBHOOKS_SWEEP_SECONDS anyway
        log.warning("broker unreachable; the webhook sweep will send what is due")
