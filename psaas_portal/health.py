"""Readiness checks, shared by /readyz and `manage.py portal_status`.

Each check answers ok or not with the time it took and a short reason; nothing
in the output names a host, a URL or a secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone


@dataclass
class Check:
    name: str
    ok: bool
    ms: float
    detail: str = ""

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "ms": round(self.ms, 1),
            **({"detail": self.detail} if self.detail else {}),
        }


_migrated = False  # once the schema is up to date, a process need not ask again


def database() -> str:
    global _migrated
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if not _migrated:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise RuntimeError("migrations not applied")
        _migrated = True
    return ""


def broker() -> str:
    from psaas_portal.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    return ""


def _heartbeat(name: str, max_age: int) -> str:
    from .models import Heartbeat

    seen = Heartbeat.objects.filter(name=name).values_list("seen_at", flat=True).first()
    if seen is None:
        raise RuntimeError(f"no {name} heartbeat yet")
    age = (timezone.now() - seen).total_seconds()
    if age > max_age:
        raise RuntimeError(f"last {name} heartbeat {age:.0f} s ago (max {max_age} s)")
    return f"{age:.0f} s ago"


def beat() -> str:
    return _heartbeat("beat", settings.HEARTBEAT_MAX_AGE)


def worker() -> str:
    return _heartbeat("worker", settings.HEARTBEAT_MAX_AGE)


def outbox() -> str:
    """Never fails readiness (an email given up is no reason to stop serving), but says how
    many emails wait after a temporary refusal and how many were given up."""
    from engagements import delivery_backoff

    return delivery_backoff.outbox_status()


CHECKS: dict[str, Callable[[], str]] = {
    "database": database,
    "broker": broker,
    "beat": beat,
    "worker": worker,
    "outbox": outbox,
}


def run_checks() -> tuple[bool, dict[str, Check]]:
    results = {}
    for name, check in CHECKS.items():
        if name in ("beat", "worker", "outbox") and not results["database"].ok:
            results[name] = Check(name, False, 0.0, "database unavailable")
            continue
        started = time.perf_counter()
        try:
            detail, ok = check(), True
        except Exception as exc:  # any failure is "not ready", described briefly
            detail, ok = _describe(exc), False
        results[name] = Check(name, ok, (time.perf_counter() - started) * 1000, detail)
    return all(c.ok for c in results.values()), results


def _describe(exc: Exception) -> str:
    """A short reason without addresses: the exception type, and our own messages."""
    if isinstance(exc, RuntimeError):
        return str(exc)
    return f"unavailable ({type(exc).__name__})"
