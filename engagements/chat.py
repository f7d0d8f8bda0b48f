"""Chat channels: the outbox rows of channel "chat" posted to Slack or Microsoft Teams
incoming webhooks, the way emails are sent (engagements.tasks): rows written with the event,
claimed by a worker after commit, marked sent once; a refused post waits with the emails'
growing delay (engagements.delivery_backoff) and is given up after NOTIFY_MAX_ATTEMPTS. The
URL passes the same server-side request forgery check as webhooks, at each post
(psaas_portal.outbound). A daily digest posts one message per channel."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from psaas_portal.outbound import RefusedURL, post

from . import delivery_backoff, events, outbox_mail
from .choices import Channel, ChatKind, Delivery
from .models import ChatChannel, Notification
from .tasks import claim, retrying

log = logging.getLogger("engagements.chat")


def _line(n: Notification) -> str:
    """One line: the event's headline (or the reminder's kind) and where it happened."""
    headline = events.title(n.event, n.task) if n.event_id is not None else n.kind
    prefix = "Your turn: " if n.reason == "your_turn" else ""
    return f"{prefix}{headline} ({n.engagement.organization.name} · {n.engagement.name})"


def message(kind: str, title: str, lines: list[tuple[str, str]]) -> dict:
    """The JSON a Slack or Teams incoming webhook takes: a title and (text, link) lines."""
    if kind == ChatKind.TEAMS:
        text = "<br>".join(f"[{t}]({link})" for t, link in lines)
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": title,
            "title": title,
            "text": text,
        }
    body = "\n".join(f"• <{link}|{t}>" for t, link in lines)
    return {"text": f"*{title}*\n{body}"}


def _channel_of(n: Notification) -> ChatChannel | None:
    if n.chat_id is not None:
        return n.chat
    return getattr(n.recipient, "chat_channel", None) if n.recipient_id else None


def _post(channel: ChatChannel, payload: dict) -> str:
    """Posts; "" when the chat service took it, else why not."""
    try:
        code = post(channel.url, json.dumps(payload).encode(), {})
    except RefusedURL as exc:
        return f"refused: {exc}"
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return "" if 200 <= code < 300 else f"answered HTTP {code}"


def _failed(notification_id: int, attempts: int, error: str) -> None:
    row = Notification.objects.filter(pk=notification_id, sent_at__isnull=True)
    if attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        row.update(claimed_at=None, retry_at=None, last_error=error[:300])
        log.error(
            "chat message %s given up after %s attempt(s): %s", notification_id, attempts, error
        )
        return
    wait = delivery_backoff.backoff_seconds(attempts)
    row.update(
        claimed_at=None,
        retry_at=timezone.now() + dt.timedelta(seconds=wait),
        last_error=error[:300],
    )
    log.warning("chat message %s not taken (%s); retried in %.0f s", notification_id, error, wait)


def deliver(ids: list[int]) -> int:
    """Posts claimed chat rows, one message each; each marked as it goes."""
    sent = 0
    rows = (
        Notification.objects.filter(id__in=ids, sent_at__isnull=True)
        .select_related(
            "event__actor", "task", "engagement__organization", "chat", "recipient__chat_channel"
        )
        .order_by("id")
    )
    for n in rows:
        channel = _channel_of(n)
        if channel is None or channel.delivery == Delivery.OFF:
            Notification.objects.filter(pk=n.pk).update(
                sent_at=timezone.now(), last_error="no chat channel"
            )
            continue
        title = "Your turn" if n.reason == "your_turn" else "PSaaS Portal"
        try:
            error = _post(channel, message(channel.kind, title, [(_line(n), outbox_mail.link(n))]))
        except BaseException:
            delivery_backoff.release([n.pk], uncount=False)
            raise
        if error:
            _failed(n.pk, n.attempts, error)
            continue
        Notification.objects.filter(pk=n.pk, sent_at__isnull=True).update(
            sent_at=timezone.now(), claimed_at=None, last_error=""
        )
        sent += 1
    return sent


def immediate():
    return Notification.objects.filter(channel=Channel.CHAT, digest=False)


@shared_task(**retrying)
def deliver_chat_event(event_id: int) -> int:
    """The immediate chat messages of one event (enqueued after its commit)."""
    sent = 0
    while ids := claim(immediate().filter(event_id=event_id), settings.NOTIFY_BATCH_SIZE):
        sent += deliver(ids)
    return sent


@shared_task(**retrying)
def deliver_pending_chat() -> int:
    """Beat: chat messages left unsent (a broker outage, a retry now due)."""
    sent = 0
    for _ in range(settings.NOTIFY_SWEEP_MAX_BATCHES):
        ids = claim(immediate(), settings.NOTIFY_BATCH_SIZE)
        if not ids:
            break
        sent += deliver(ids)
    return sent


def send_chat_digest_batches(now: dt.datetime | None = None) -> int:
    """One message per chat channel and day listing its digest items since the last one
    (the channel row lock makes two runs at once post one digest)."""
    now = now or timezone.now()
    min_gap = dt.timedelta(hours=settings.DIGEST_MIN_HOURS)
    stale = now - dt.timedelta(seconds=settings.NOTIFY_CLAIM_LEASE)
    waiting = Notification.objects.filter(
        channel=Channel.CHAT, digest=True, sent_at__isnull=True
    ).filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
    channel_ids = set(waiting.values_list("chat_id", flat=True)) | set(
        ChatChannel.objects.filter(
            user_id__in=waiting.filter(chat__isnull=True).values("recipient_id")
        ).values_list("pk", flat=True)
    )
    posted = 0
    for channel_id in sorted(i for i in channel_ids if i is not None):
        with transaction.atomic():
            channel = ChatChannel.objects.select_for_update().filter(pk=channel_id).first()
            if channel is None or (
                channel.last_digest_at and now - channel.last_digest_at < min_gap
            ):
                continue
            mine = Q(chat=channel) if channel.engagement_id else Q(recipient_id=channel.user_id)
            if channel.delivery == Delivery.OFF:  # turned off since its rows were written
                waiting.filter(mine).update(sent_at=now, last_error="chat channel off")
                continue
            items = list(
                waiting.filter(mine)
                .select_related("event__actor", "task", "engagement__organization")
                .order_by("created_at", "id")
            )
            if not items:
                continue
            ids = [n.pk for n in items]
            Notification.objects.filter(pk__in=ids).update(
                claimed_at=now, attempts=F("attempts") + 1
            )
            previous = channel.last_digest_at
            channel.last_digest_at = now
            channel.save(update_fields=["last_digest_at"])
        lines = [(_line(n), outbox_mail.link(n)) for n in items]
        error = _post(
            channel, message(channel.kind, f"Daily digest: {len(lines)} update(s)", lines)
        )
        if error:
            log.warning("chat digest for channel %s not posted: %s", channel_id, error)
            Notification.objects.filter(pk__in=ids).update(claimed_at=None, last_error=error)
            ChatChannel.objects.filter(pk=channel_id, last_digest_at=now).update(
                last_digest_at=previous
            )
            continue
        Notification.objects.filter(pk__in=ids).update(sent_at=now, claimed_at=None, last_error="")
        posted += 1
    return posted


@shared_task(**retrying)
def send_chat_digests() -> int:
    """Beat (daily, after the email digests): the chat digests."""
    return send_chat_digest_batches()
