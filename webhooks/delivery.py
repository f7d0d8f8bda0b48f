"""Sending webhook deliveries, in the worker only (a slow or failing receiver never holds a
web request): claim rows with a conditional update, POST each signed, record the outcome.

A 2xx answer delivers. Anything else (another status, a timeout, a refused connection, an
address the SSRF check now refuses) is retried after WEBHOOKS_BACKOFF_BASE * 2**(tries-1)
seconds (capped at WEBHOOKS_BACKOFF_MAX, jittered) until WEBHOOKS_RETRY_FOR seconds after its
window started, then given up. An endpoint with no success for WEBHOOKS_DISABLE_AFTER
seconds is disabled and its managers are emailed (webhooks.actions).

Every function takes `now`, so tests move time by passing it (as the digests and sweeps do).
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import random

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from psaas_portal.outbound import RefusedURL, post

from . import signing
from .actions import disable_failing_endpoint
from .models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger("webhooks.delivery")


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """The wait after the `attempts`-th failed try: the upper half of the doubled step is
    jittered, so deliveries that failed together do not come back together."""
    step = min(
        settings.WEBHOOKS_BACKOFF_BASE * 2 ** max(0, attempts - 1), settings.WEBHOOKS_BACKOFF_MAX
    )
    return step / 2 + (rng or random).uniform(0, step / 2)


def due(now: dt.datetime):
    """Deliveries waiting to be sent: not delivered nor given up, endpoint enabled, not
    waiting out a delay, and unclaimed (or claimed by a worker that died)."""
    stale = now - dt.timedelta(seconds=settings.WEBHOOKS_CLAIM_LEASE)
    return (
        WebhookDelivery.objects.filter(
            delivered_at__isnull=True, given_up_at__isnull=True, endpoint__enabled=True
        )
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
    )


def claim(queryset, now: dt.datetime, limit: int) -> list[int]:
    """Claims up to `limit` due rows for this worker; only claimed rows are sent."""
    with transaction.atomic():
        ids = list(
            queryset.select_for_update(skip_locked=True, of=("self",))
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            WebhookDelivery.objects.filter(id__in=ids).update(
                claimed_at=now, attempts=F("attempts") + 1
            )
    return ids


def send_one(delivery: WebhookDelivery, now: dt.datetime) -> bool:
    """POSTs one claimed delivery and records the outcome. True if delivered."""
    endpoint = delivery.endpoint
    body = signing.body_of(delivery.event)
    code: int | None = None
    try:
        headers = signing.headers(endpoint.secret, delivery.message_id, body, timezone.now())
        code = post(endpoint.url, body.encode(), headers)
        error = "" if 200 <= code < 300 else f"answered HTTP {code}"
    except RefusedURL as exc:
        error = f"refused: {exc}"
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    rows = WebhookDelivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True)
    if not error:
        rows.update(
            delivered_at=now,
            claimed_at=None,
            response_code=code,
            last_error="",
            last_attempt_at=now,
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(
            failing_since=None
        )
        return True
    window = dt.timedelta(seconds=settings.WEBHOOKS_RETRY_FOR)
    update = {
        "claimed_at": None,
        "response_code": code,
        "last_error": error,
        "last_attempt_at": now,
    }
    if now - delivery.window_start >= window:
        rows.update(given_up_at=now, **update)
        log.error("webhook %s to endpoint %s given up: %s", delivery.message_id, endpoint.pk, error)
    else:
        wait = backoff_seconds(delivery.attempts)
        rows.update(retry_at=now + dt.timedelta(seconds=wait), **update)
        log.warning(
            "webhook %s to endpoint %s failed (%s); retried in %.0f s",
            delivery.message_id,
            endpoint.pk,
            error,
            wait,
        )
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    if disable_failing_endpoint(endpoint.pk, now=now):
        log.error("webhook endpoint %s disabled after failing for a day", endpoint.pk)
    return False


def deliver(ids: list[int], now: dt.datetime) -> int:
    """Sends claimed rows one by one (each marked as it goes). Returns how many delivered."""
    delivered = 0
    rows = list(
        WebhookDelivery.objects.filter(id__in=ids, delivered_at__isnull=True)
        .select_related("endpoint", "event__engagement", "event__task", "event__actor")
        .order_by("id")
    )
    # Endpoints disabled since the claim (by hand), read once for the batch; one that an
    # earlier row of this batch disabled (a failure) is read again after that failure only.
    enabled = set(
        WebhookEndpoint.objects.filter(
            pk__in={d.endpoint_id for d in rows}, enabled=True
        ).values_list("pk", flat=True)
    )
    for delivery in rows:
        if delivery.endpoint_id not in enabled:
            # Not tried: the claim's attempt is taken back.
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                claimed_at=None, attempts=Greatest(F("attempts") - 1, 0)
            )
            continue
        try:
            sent = send_one(delivery, now)
            delivered += sent
            if (
                not sent
                and not WebhookEndpoint.objects.filter(
                    pk=delivery.endpoint_id, enabled=True
                ).exists()
            ):
                enabled.discard(delivery.endpoint_id)
        except BaseException:
            WebhookDelivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True).update(
                claimed_at=None
            )
            raise
    return delivered


def deliver_for_event(event_id: int, now: dt.datetime | None = None) -> int:
    """The event's deliveries (enqueued after its commit). Each batch is claimed at the time
    it starts (a batch that took minutes must not leave the next one's claim stale)."""
    delivered = 0
    while True:
        at = now or timezone.now()
        ids = claim(due(at).filter(event_id=event_id), at, settings.WEBHOOKS_BATCH_SIZE)
        if not ids:
            return delivered
        delivered += deliver(ids, at)


def deliver_due_batches(now: dt.datetime | None = None, max_batches: int = 20) -> int:
    """Everything due: retries whose delay is over, rows a broker outage left (the sweep)."""
    delivered = 0
    for _ in range(max_batches):
        at = now or timezone.now()  # each batch claimed at the time it starts
        ids = claim(due(at), at, settings.WEBHOOKS_BATCH_SIZE)
        if not ids:
            break
        delivered += deliver(ids, at)
    return delivered
