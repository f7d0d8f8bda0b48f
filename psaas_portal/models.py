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
