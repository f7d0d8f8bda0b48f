"""Writes on webhook endpoints: registering, enabling, deleting, replaying a delivery, and the
portal disabling an endpoint that failed for a day. Each is one transaction with an actor
(none for the portal's own move), checks the rule `engagement.manage_webhooks` and records an
event of the registry (engagements.events). A URL's host is looked up (DNS) after the rule is
checked and before the transaction opens, never inside it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from engagements import events, policy
from engagements.audit import record_event
from engagements.errors import Conflict, DomainError
from engagements.models import Engagement, Membership
from psaas_portal.outbound import RefusedURL, check_url

from .models import WebhookDelivery, WebhookEndpoint
from .outbox import enqueue, enqueue_sweep
from .signing import new_secret, secret_problem

MAX_ENDPOINTS = 10


def choosable_kinds() -> list[str]:
    """The event kinds an endpoint may choose: the registry, less the webhooks' own."""
    return [verb for verb in events.REGISTRY if not verb.startswith("webhook.")]


def clean_url(url: str) -> str:
    """The URL if it may be used now (https, public addresses); DomainError naming the field."""
    try:
        check_url(url)
    except RefusedURL as exc:
        raise DomainError(f"URL: {exc}.") from None
    return url.strip()


def clean_kinds(kinds: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(kinds))
    known = set(choosable_kinds())
    unknown = [k for k in chosen if k not in known]
    if unknown:
        raise DomainError(f"Events: unknown event kind {unknown[0]!r}.")
    if not chosen:
        raise DomainError("Events: choose at least one kind of event.")
    return chosen


def create_endpoint(
    engagement: Engagement,
    *,
    actor: Any,
    url: str,
    kinds: Iterable[str],
    secret: str = "",
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Registers an endpoint; returns it and its secret (generated unless given), which the
    page shows this once. The URL's host is looked up before the transaction opens (a slow
    DNS answer never holds one open), and only for someone the rule allows (nobody else
    learns what a host resolves to); the rule is checked again in the transaction."""
    policy.check(actor, "engagement.manage_webhooks", engagement)
    url = clean_url(url)
    return _create_endpoint(
        engagement, actor=actor, url=url, kinds=kinds, secret=secret, description=description
    )


@transaction.atomic
def _create_endpoint(
    engagement: Engagement,
    *,
    actor: Any,
    url: str,
    kinds: Iterable[str],
    secret: str,
    description: str,
) -> tuple[WebhookEndpoint, str]:
    policy.check(actor, "engagement.manage_webhooks", engagement)
    chosen = clean_kinds(kinds)
    secret = secret.strip()
    if secret and (problem := secret_problem(secret)):
        raise DomainError(f"Secret: {problem}.")
    if WebhookEndpoint.objects.filter(engagement=engagement).count() >= MAX_ENDPOINTS:
        raise DomainError(f"An engagement has at most {MAX_ENDPOINTS} webhook endpoints.")
    endpoint = WebhookEndpoint.objects.create(
        engagement=engagement,
        url=url,
        description=description.strip()[:200],
        secret=secret or new_secret(),
        kinds=chosen,
        created_by=actor,
    )
    record_event(
        engagement,
        events.WEBHOOK_CREATED,
        actor=actor,
        data={
            "summary": f"registered a webhook to {endpoint.host} for {len(chosen)} event kind(s)",
            "endpoint": endpoint.pk,
        },
    )
    return endpoint, endpoint.secret


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return (
        WebhookEndpoint.objects.select_for_update().select_related("engagement").get(pk=endpoint.pk)
    )


def enable_endpoint(endpoint: WebhookEndpoint, *, actor: Any) -> WebhookEndpoint:
    """Turns a disabled endpoint back on; its deliveries not given up go out again. Its URL
    (which never changes) is looked up again first, before the row is locked: a slow DNS
    answer never holds the lock."""
    policy.check(actor, "engagement.manage_webhooks", endpoint.engagement)
    clean_url(endpoint.url)
    return _enable_endpoint(endpoint, actor=actor)


@transaction.atomic
def _enable_endpoint(endpoint: WebhookEndpoint, *, actor: Any) -> WebhookEndpoint:
    endpoint = _locked(endpoint)
    policy.check(actor, "engagement.manage_webhooks", endpoint.engagement)
    if endpoint.enabled:
        raise Conflict("That endpoint is already enabled.")
    endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
    endpoint.failing_since = None
    endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason", "failing_since"])
    now = timezone.now()
    in_flight = now - dt.timedelta(seconds=settings.WEBHOOKS_CLAIM_LEASE)
    # Rows a worker holds right now keep their claim (they would be posted twice).
    endpoint.deliveries.filter(delivered_at__isnull=True, given_up_at__isnull=True).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=in_flight)
    ).update(retry_at=None, claimed_at=None, window_start=now)
    record_event(
        endpoint.engagement,
        events.WEBHOOK_CHANGED,
        actor=actor,
        data={"summary": f"enabled the webhook to {endpoint.host}", "endpoint": endpoint.pk},
    )
    transaction.on_commit(enqueue_sweep)
    return endpoint


@transaction.atomic
def delete_endpoint(endpoint: WebhookEndpoint, *, actor: Any) -> None:
    endpoint = _locked(endpoint)
    policy.check(actor, "engagement.manage_webhooks", endpoint.engagement)
    record_event(
        endpoint.engagement,
        events.WEBHOOK_DELETED,
        actor=actor,
        data={"summary": f"deleted the webhook to {endpoint.host}", "endpoint": endpoint.pk},
    )
    endpoint.delete()


@transaction.atomic
def replay_delivery(delivery: WebhookDelivery, *, actor: Any) -> WebhookDelivery:
    """Sends a delivery again, with the same webhook-id (receivers de-duplicate on it) and a
    fresh retry window."""
    delivery = (
        WebhookDelivery.objects.select_for_update()
        .select_related("endpoint__engagement")
        .get(pk=delivery.pk)
    )
    endpoint = delivery.endpoint
    policy.check(actor, "engagement.manage_webhooks", endpoint.engagement)
    if not endpoint.enabled:
        raise DomainError("The endpoint is disabled: enable it first.")
    lease = dt.timedelta(seconds=settings.WEBHOOKS_CLAIM_LEASE)
    if delivery.claimed_at is not None and delivery.claimed_at > timezone.now() - lease:
        raise Conflict("That delivery is being sent right now; replay it once it is done.")
    delivery.delivered_at = delivery.given_up_at = delivery.retry_at = delivery.claimed_at = None
    delivery.window_start = timezone.now()
    delivery.save(
        update_fields=["delivered_at", "given_up_at", "retry_at", "claimed_at", "window_start"]
    )
    record_event(
        endpoint.engagement,
        events.WEBHOOK_CHANGED,
        actor=actor,
        data={
            "summary": f"replayed {delivery.message_id} to {endpoint.host}",
            "endpoint": endpoint.pk,
        },
    )
    transaction.on_commit(partial(enqueue, delivery.event_id))
    return delivery


@transaction.atomic
def disable_failing_endpoint(endpoint_id: int, *, now: dt.datetime) -> bool:
    """The portal's own move: an endpoint whose deliveries failed for WEBHOOKS_DISABLE_AFTER
    is disabled and its managers are emailed (the `webhook.disabled` event's audience goes
    through the notification outbox). True if this call disabled it."""
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .select_related("engagement")
        .filter(pk=endpoint_id, enabled=True, failing_since__isnull=False)
        .first()
    )
    limit = dt.timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER)
    if endpoint is None or now - endpoint.failing_since < limit:  # type: ignore[operator]
        return False
    endpoint.enabled, endpoint.disabled_at = False, now
    hours = int(limit.total_seconds() // 3600)
    endpoint.disabled_reason = f"Every delivery failed for {hours} hours."
    endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason"])
    managers = list(
        Membership.objects.filter(
            engagement=endpoint.engagement, is_manager=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    record_event(
        endpoint.engagement,
        events.WEBHOOK_DISABLED,
        data={
            "url": endpoint.host,
            "hours": hours,
            "endpoint": endpoint.pk,
            "to_ids": managers,
            "summary": f"disabled the webhook to {endpoint.host}",
        },
    )
    return True
