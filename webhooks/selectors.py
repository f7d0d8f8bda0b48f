"""What the webhook pages show, in a constant number of queries whatever the number of
endpoints and deliveries."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q

from engagements import policy
from engagements.models import Engagement

from .models import WebhookDelivery, WebhookEndpoint

LOG_SIZE = 50


def may_manage(user: Any, engagement: Engagement) -> bool:
    return bool(policy.offered(user, engagement, names=["engagement.manage_webhooks"], seat=None))


def endpoints_page(engagement: Engagement) -> dict:
    """The endpoints with their counts of deliveries (one query)."""
    endpoints = list(
        WebhookEndpoint.objects.filter(engagement=engagement)
        .annotate(
            delivered=Count("deliveries", filter=Q(deliveries__delivered_at__isnull=False)),
            failed=Count("deliveries", filter=Q(deliveries__given_up_at__isnull=False)),
            waiting=Count(
                "deliveries",
                filter=Q(
                    deliveries__delivered_at__isnull=True, deliveries__given_up_at__isnull=True
                ),
            ),
            last_delivery=Max("deliveries__created_at"),
        )
        .order_by("pk")
    )
    return {"engagement": engagement, "endpoints": endpoints}


def endpoint_page(endpoint: WebhookEndpoint) -> dict:
    """One endpoint and its latest deliveries with their events (one query)."""
    deliveries = list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-pk")[:LOG_SIZE]
    )
    return {"engagement": endpoint.engagement, "endpoint": endpoint, "deliveries": deliveries}


def endpoint_for_view(user: Any, endpoint_id: int) -> WebhookEndpoint | None:
    return (
        WebhookEndpoint.objects.filter(engagement__in=Engagement.objects.visible_to(user))
        .select_related("engagement__organization")
        .filter(pk=endpoint_id)
        .first()
    )


def delivery_for_view(user: Any, delivery_id: int) -> WebhookDelivery | None:
    return (
        WebhookDelivery.objects.filter(endpoint__engagement__in=Engagement.objects.visible_to(user))
        .select_related("endpoint__engagement")
        .filter(pk=delivery_id)
        .first()
    )
