"""Recording accepted emails as sent: a group at a time, not one commit per message."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from .models import Notification

log = logging.getLogger("engagements.tasks")


class SentGroups:
    """Records accepted messages as sent a group at a time, not one commit per message: one
    UPDATE when NOTIFY_RECORD_EVERY were accepted, or before the next message once
    NOTIFY_RECORD_MS passed since the first unrecorded one (`due`), and at the end of the
    batch or before its claim is released (`flush`).

    What a crash can cause: a worker killed mid-batch (SIGKILL, the machine lost) leaves at
    most one group unrecorded, the messages the server accepted since the last UPDATE (at
    most NOTIFY_RECORD_EVERY, accepted within NOTIFY_RECORD_MS), plus the one in flight.
    Their rows keep their claim; after the lease another worker sends them again, each with
    its stable Message-ID, so a receiving system can drop the duplicate. Nothing accepted
    is lost and nothing is sent twice by live workers.

    If the database is away at an UPDATE (a dropped connection, a restart, a failover), the
    worker reconnects and retries every half second for up to half the claim lease: while
    the claim holds, no other worker can take the rows, so they are not sent again once the
    database is back."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.since = 0.0
        self.every = settings.NOTIFY_RECORD_EVERY
        self.seconds = settings.NOTIFY_RECORD_MS / 1000

    def accepted(self, notification_id: int) -> None:
        if not self.ids:
            self.since = time.monotonic()
        self.ids.append(notification_id)
        if len(self.ids) >= self.every:
            self.flush()

    def due(self) -> None:
        """Before the next message: the group is recorded if it waited long enough."""
        if self.ids and time.monotonic() - self.since >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if not self.ids:
            return
        deadline = time.monotonic() + settings.NOTIFY_CLAIM_LEASE / 2
        while True:
            try:
                Notification.objects.filter(pk__in=self.ids, sent_at__isnull=True).update(
                    sent_at=timezone.now(), last_error=""
                )
                break
            except (OperationalError, InterfaceError):
                if connection.in_atomic_block or time.monotonic() >= deadline:
                    raise
                connection.close()
                time.sleep(0.5)
        self.ids = []


def record_before_release(groups: SentGroups, ids: list[int]) -> list[int]:
    """Before a claim is released: the messages already accepted are recorded, so they are
    not sent again at once. If that fails (the database is away), they keep their claim
    (sent again after the lease, with their Message-ID) and only the others are released."""
    try:
        groups.flush()
    except Exception:
        log.warning("%d accepted email(s) not recorded as sent", len(groups.ids), exc_info=True)
        return [pk for pk in ids if pk not in set(groups.ids)]
    return ids
