from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from engagements.choices import (
    Channel,
    NotificationReason,
)

from .core import Engagement, EngagementTask, Event
from .invitations import Invitation


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
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
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
    )
    # An invitation's email goes to an address that has no account yet (recipient empty).
    invitation = models.ForeignKey(
        Invitation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
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
            models.Index(
                fields=["channel", "digest", "created_at"],
                condition=Q(sent_at__isnull=True),
                name="notification_unsent_idx",
            ),
            models.Index(
                fields=["recipient", "channel", "-created_at"], name="notification_inbox_idx"
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
                condition=Q(recipient__isnull=False) | Q(invitation__isnull=False),
                name="notification_has_addressee",
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
