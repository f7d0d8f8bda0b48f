from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q

from engagements.choices import (
    SENT_CHANNELS,
    Channel,
    ChatKind,
    Delivery,
    NotificationReason,
)
from raci.models import Party

from .core import Engagement, EngagementTask, Event
from .invitations import Invitation


class ChatChannel(models.Model):
    """A Slack or Microsoft Teams incoming webhook the portal posts notifications to: a
    person's own (beside email and the portal, told what they are told), or an engagement's
    for one of its parties (told what that party's letters reach), set by its managers.

    The URL is a secret of the chat service (whoever holds it may post to the channel): it
    is shown only as its host."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_channel",
    )
    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.CASCADE, related_name="chat_channels"
    )
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ChatKind.choices)
    url = models.CharField(max_length=2000)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.IMMEDIATE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, engagement__isnull=True, party__isnull=True)
                    | Q(user__isnull=True, engagement__isnull=False, party__isnull=False)
                ),
                name="chat_channel_owner",
            ),
            models.UniqueConstraint(
                fields=["engagement", "party"],
                condition=Q(engagement__isnull=False),
                name="chat_channel_once_per_party",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ChatKind.values) & Q(delivery__in=Delivery.values),
                name="chat_channel_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.host}"

    @property
    def host(self) -> str:
        """What a page shows of the URL (the rest is the secret)."""
        return urlsplit(self.url).hostname or ""


class Notification(models.Model):
    """One message to one person on one channel: the outbox.

    Written in the same transaction as the change (its Event) or by the
    reminder sweep, delivered after commit by Celery, and marked sent once.
    A worker claims rows before sending (`claimed_at`), so two workers never
    send the same row; the unique keys make a duplicate row impossible.
    """

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="notifications"
    )
    # Found by notification_once_per_event (event first), by notification_inbox_idx (recipient
    # first), by the partial indexes below (invitation, chat: empty on most rows): no index of
    # their own, which every write of the outbox would pay for (issue 16, P5).
    event = models.ForeignKey(
        Event,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    task = models.ForeignKey(
        EngagementTask,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    # An invitation's email goes to an address that has no account yet (recipient empty).
    invitation = models.ForeignKey(
        Invitation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    # A chat message goes to a person's own chat channel (recipient set) or to an
    # engagement's channel for a party (chat set, recipient empty).
    chat = models.ForeignKey(
        ChatChannel,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=40, help_text="The event's verb, or the reminder's kind.")
    reason = models.CharField(max_length=20, blank=True, choices=NotificationReason.choices)
    digest = models.BooleanField(default=False, help_text="Waits for the daily digest.")
    day = models.DateField(null=True, blank=True, help_text="For reminders: the day it is for.")
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="After a temporary refusal: not tried before this."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The outbox's queues, one per channel that is sent: its unsent rows (not the
            # digests), by id (the claim's order), so a claim reads its batch and stops,
            # however long the history. The key is the id alone, as the primary key's: the
            # planner then never prefers the primary key (same order, more rows), whatever
            # its statistics say.
            # With (channel, digest, id) over every unsent row, the portal's rows included
            # (never sent), it walked the primary key instead once autovacuum had analyzed
            # the table, filtering the whole history out on every claim, even on an empty
            # queue (issue 16, P5: 18,700 buffers and 5 ms per claim at 20,000 rows).
            models.Index(
                fields=["id"],
                condition=Q(sent_at__isnull=True, channel=Channel.EMAIL, digest=False),
                name="notification_email_queue_idx",
            ),
            models.Index(
                fields=["id"],
                condition=Q(sent_at__isnull=True, channel=Channel.CHAT, digest=False),
                name="notification_chat_queue_idx",
            ),
            # Every unsent row of the channels that are sent (digests; the health check's
            # count of retries and given-up rows), not the portal's.
            models.Index(
                fields=["channel", "digest", "id"],
                condition=Q(sent_at__isnull=True, channel__in=SENT_CHANNELS),
                name="notification_unsent_idx",
            ),
            models.Index(
                fields=["recipient", "channel", "-created_at"], name="notification_inbox_idx"
            ),
            models.Index(
                fields=["invitation"],
                condition=Q(invitation__isnull=False),
                name="notification_invitation_idx",
            ),
            models.Index(
                fields=["chat"], condition=Q(chat__isnull=False), name="notification_chat_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "recipient", "channel"],
                condition=Q(event__isnull=False),
                name="notification_once_per_event",
            ),
            models.UniqueConstraint(
                fields=["task", "recipient", "channel", "kind", "day"],
                condition=Q(event__isnull=True),
                name="reminder_once_per_day",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="notification_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False)
                | Q(invitation__isnull=False)
                | Q(chat__isnull=False),
                name="notification_has_addressee",
            ),
            models.UniqueConstraint(
                fields=["event", "chat"],
                condition=Q(event__isnull=False, chat__isnull=False),
                name="notification_once_per_chat",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient or self.address} by {self.channel}"

    @property
    def address(self) -> str:
        """Where the email goes: the person's address, or the invited address."""
        if self.recipient_id is not None:
            return self.recipient.email
        return self.invitation.email if self.invitation_id else ""
