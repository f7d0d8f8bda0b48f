from __future__ import annotations

from celery import shared_task

from .models import Heartbeat


@shared_task(ignore_result=True, expires=60)
def heartbeat() -> None:
    """Beat sends it every HEARTBEAT_SECONDS; the worker that runs it shows workers are alive."""
    Heartbeat.beat("worker")
