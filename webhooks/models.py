from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q

from engagements.models import Engagement, Event


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookEndpoint(models.Model):
    """A program's URL that an engagement's managers registered: the events of the kinds
    chosen are POSTed to it, signed with its secret (Standard Webhooks). Disabled by the
    portal after a day of failed deliveries (its managers are emailed), or by hand."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # "whsec_" and the base64 of the key: needed to sign, so kept (shown once when made).
    secret = models.CharField(max_length=120)
    kinds = models.JSONField(default=list, help_text="Event verbs (engagements.events).")
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="The first failure since the last success."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["engagement", "pk"]

    def __str__(self) -> str:
        return f"webhook {self.pk} to {self.host}"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def secret_hint(self) -> str:
        return f"{self.secret[:10]}…"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (given up)"


class WebhookDelivery(models.Model):
    """One event to one endpoint: the outbox row, written in the event's transaction and
    sent after commit by a worker, retried with a growing delay for WEBHOOKS_RETRY_FOR.
    `message_id` is the webhook-id header: the same on every try and every replay, so a
    receiver de-duplicates on it (delivery is at least once)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=40, unique=True, default=new_message_id)
    created_at = models.DateTimeField(auto_now_add=True)
    # The retry window starts here: at the event, or when someone replayed it.
    window_start = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once"),
        ]
        indexes = [
            models.Index(
                fields=["retry_at", "id"],
                condition=Q(delivered_at__isnull=True, given_up_at__isnull=True),
                name="webhook_delivery_due_idx",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} to endpoint {self.endpoint_id}"

    @property
    def status(self) -> str:
        if self.delivered_at:
            return DeliveryStatus.DELIVERED
        if self.given_up_at:
            return DeliveryStatus.FAILED
        return DeliveryStatus.RETRYING if self.attempts else DeliveryStatus.PENDING

    @property
    def status_label(self) -> str:
        return DeliveryStatus(self.status).label
