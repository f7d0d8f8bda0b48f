"""Celery tasks: send an event's webhook deliveries after its commit, and the sweep (beat,
every WEBHOOKS_SWEEP_SECONDS) for retries that are due and rows a broker outage left.
Both take ids (or nothing), claim before sending, and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import delivery


@shared_task(name="webhooks.tasks.deliver_event")
def deliver_event(event_id: int) -> int:
    return delivery.deliver_for_event(event_id)


@shared_task(name="webhooks.tasks.deliver_due")
def deliver_due() -> int:
    return delivery.deliver_due_batches()
