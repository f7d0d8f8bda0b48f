"""Operational state of the portal's own processes (not the domain)."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a process kind (Celery beat, a Celery worker) showed it was alive."""

    name = models.CharField(max_length=20, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def beat(cls, name: str) -> None:
        from django.utils import timezone

        cls.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


class ResetRequest(models.Model):
    """One password reset email sent (or refused by the limits), for rate limiting: the reset
    form must not become a way to flood someone's mailbox."""

    user_id = models.IntegerField(null=True, db_index=True)
    ip = models.GenericIPAddressField(null=True)
    sent = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"reset for user {self.user_id} from {self.ip} at {self.created_at:%Y-%m-%d %H:%M}"
