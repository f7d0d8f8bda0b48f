"""Celery beat's scheduler with a heartbeat: /readyz can tell that beat is alive.

Configured as CELERY_BEAT_SCHEDULER, so `celery -A psaas_portal beat` uses it.
"""

from __future__ import annotations

import logging
import time

from celery.beat import PersistentScheduler

log = logging.getLogger(__name__)


class HeartbeatScheduler(PersistentScheduler):
    last_heartbeat = 0.0

    def tick(self, *args, **kwargs):
        from django.conf import settings

        now = time.monotonic()
        if now - self.last_heartbeat >= settings.HEARTBEAT_SECONDS:
            try:
                from django.db import close_old_connections

                from .models import Heartbeat

                close_old_connections()
                Heartbeat.beat("beat")
                self.last_heartbeat = now
            except Exception:  # the database may be down; beat keeps scheduling
                log.warning("could not record beat's heartbeat", exc_info=True)
        return min(super().tick(*args, **kwargs), settings.HEARTBEAT_SECONDS)
