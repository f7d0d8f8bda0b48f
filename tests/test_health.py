"""/healthz, /readyz and portal_status: each failing check is named, with a 503."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from psaas_portal import health
from psaas_portal.celery import app
from psaas_portal.models import Heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def alive():
    Heartbeat.beat("beat")
    Heartbeat.beat("worker")


def readyz(client):
    response = client.get("/readyz")
    return response.status_code, json.loads(response.content)


def test_healthz_answers_without_the_database(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(ctx.captured_queries) == 0


def test_ready_when_everything_answers(client, alive):
    status, body = readyz(client)
    assert status == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "broker", "beat", "worker", "outbox"}
    assert all(c["ok"] for c in body["checks"].values())


def test_stale_beat_is_not_ready(client, alive):
    Heartbeat.objects.filter(name="beat").update(seen_at=timezone.now() - dt.timedelta(hours=1))
    status, body = readyz(client)
    assert status == 503
    assert body["checks"]["beat"]["ok"] is False
    assert "last beat heartbeat" in body["checks"]["beat"]["detail"]
    assert body["checks"]["worker"]["ok"] is True


def test_no_worker_seen_is_not_ready(client):
    Heartbeat.beat("beat")
    status, body = readyz(client)
    assert status == 503
    assert body["checks"]["worker"] == {
        "ok": False,
        "ms": body["checks"]["worker"]["ms"],
        "detail": "no worker heartbeat yet",
    }


def test_broker_down_is_not_ready_and_no_address_leaks(client, alive, monkeypatch):
    old = app.conf.broker_url
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        status, body = readyz(client)
    finally:
        monkeypatch.undo()
        app.conf.broker_url = old
    assert status == 503
    assert body["checks"]["broker"]["ok"] is False
    assert "127.0.0.1" not in json.dumps(body)


def test_database_down_is_not_ready(client, alive, monkeypatch):
    def refuse():
        raise connection.Database.OperationalError("could not connect to server at 10.0.0.1")

    monkeypatch.setitem(health.CHECKS, "database", refuse)
    status, body = readyz(client)
    assert status == 503
    assert body["checks"]["database"] == {
        "ok": False,
        "ms": body["checks"]["database"]["ms"],
        "detail": "unavailable (OperationalError)",
    }
    assert body["checks"]["beat"]["detail"] == "database unavailable"
    assert "10.0.0.1" not in json.dumps(body)


def test_portal_status_exits_non_zero_when_not_ready(alive):
    out = StringIO()
    call_command("portal_status", stdout=out)
    assert "ready" in out.getvalue()
    Heartbeat.objects.all().delete()
    with pytest.raises(SystemExit) as excinfo:
        call_command("portal_status", stdout=out)
    assert excinfo.value.code == 1
    assert "NOT READY" in out.getvalue()


@pytest.mark.django_db(transaction=True)  # the scheduler closes stale connections, as beat must
def test_the_worker_task_and_the_beat_scheduler_record_heartbeats(tmp_path):
    from psaas_portal.beat import HeartbeatScheduler
    from psaas_portal.tasks import heartbeat

    heartbeat()
    assert Heartbeat.objects.filter(name="worker").exists()
    scheduler = HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "beat"))
    try:
        assert scheduler.tick() <= 30
    finally:
        scheduler.close()
    assert Heartbeat.objects.filter(name="beat").exists()
