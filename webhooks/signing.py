"""What a webhook delivery carries: the event as JSON, and the Standard Webhooks headers
(webhook-id, webhook-timestamp, webhook-signature: HMAC-SHA256 over
"{id}.{timestamp}.{body}" with the endpoint's secret), made with the `standardwebhooks`
package, whose `Webhook.verify` is what a receiver calls."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from typing import Any

from django.conf import settings
from django.urls import reverse
from standardwebhooks import Webhook

from engagements import events

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: "whsec_" and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_problem(secret: str) -> str:
    """Why a given secret cannot be used ("" if it can)."""
    if not secret.startswith(SECRET_PREFIX):
        return f"a secret starts with {SECRET_PREFIX} followed by base64"
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return f"a secret starts with {SECRET_PREFIX} followed by base64"
    if not 24 <= len(key) <= 64:
        return "a secret holds 24 to 64 bytes (32 to 88 base64 characters)"
    return ""


def _link(event: Any) -> str:
    if event.task_id:
        return settings.SITE_URL + reverse("engagements:task-detail", args=[event.task_id])
    return settings.SITE_URL + reverse("engagements:engagement-detail", args=[event.engagement_id])


def payload(event: Any) -> dict[str, Any]:
    """The body: {"type", "timestamp", "data"} as the specification suggests."""
    task = event.task
    return {
        "type": event.verb,
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {
            "event": event.pk,
            "engagement": {"id": event.engagement_id, "name": event.engagement.name},
            "task": (
                {
                    "id": task.pk,
                    "key": task.key,
                    "environment": task.environment,
                    "name": task.label,
                }
                if task is not None
                else None
            ),
            "actor": event.actor.get_username() if event.actor_id else None,
            "from": event.from_state,
            "to": event.to_state,
            "title": events.title(event, task),
            "details": event.data or {},
            "url": _link(event),
        },
    }


def body_of(event: Any) -> str:
    return json.dumps(payload(event), separators=(",", ":"), sort_keys=True, default=str)


def headers(secret: str, message_id: str, body: str, at: dt.datetime) -> dict[str, str]:
    """The three Standard Webhooks headers; `at` is the time of this try (receivers refuse a
    timestamp more than five minutes off their clock)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }
