"""Operational state of the portal's own processes (not the domain)."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.base_session import AbstractBaseSession
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


class PortalSession(AbstractBaseSession):
    """A signed-in (or anonymous) browser session, as Django's database sessions, with the
    id of the person it belongs to in a column of its own (kept by psaas_portal.sessions'
    SessionStore on every save): so that a person's sessions can be listed and ended (the
    account page; a member removed from their last engagement) without decoding every row."""

    user_id = models.IntegerField(null=True, blank=True, db_index=True)

    class Meta:
        db_table = "portal_session"

    @classmethod
    def get_session_store_class(cls):
        # Decoding needs no model: Django's own store reads the data.
        return DatabaseSessionStore
