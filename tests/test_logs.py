"""Structured logs with the request's context, and the request id passed on to tasks."""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse

from psaas_portal import logs

pytestmark = pytest.mark.django_db


def test_every_response_carries_a_request_id_and_a_valid_one_is_kept(client):
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    assert (
        client.get("/healthz", HTTP_X_REQUEST_ID="proxy-abc-123456")["X-Request-ID"]
        == "proxy-abc-123456"
    )
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\\nwith newline")["X-Request-ID"]
    assert forged != "bad id\\nwith newline" and len(forged) == 32


def test_log_lines_carry_request_user_and_engagement(client_for, engagement_a, engineer_a, caplog):
    caplog.handler.addFilter(logs.ContextFilter())
    formatter = logs.JsonFormatter()

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client_for(engineer_a).post(
            reverse(
                "engagements:task-transition", args=[engagement_a.tasks.get(key="monitoring").pk]
            ),
            {"to": "done", "revision": 1},
            HTTP_X_REQUEST_ID="req-0123456789",
        )
    assert response.status_code == 400
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "django.request"]
    assert lines, "Django logs a 400 as a warning"
    assert lines[-1]["request_id"] == "req-0123456789"
    assert lines[-1]["user_id"] == str(engineer_a.pk)


def test_the_request_id_is_added_to_the_messages_a_request_publishes():
    from celery.signals import before_task_publish

    token = logs.request_id.set("req-for-the-task")
    try:
        headers: dict = {}
        before_task_publish.send(
            sender="engagements.tasks.deliver_event", headers=headers, body=None
        )
        assert headers["request_id"] == "req-for-the-task"
    finally:
        logs.request_id.reset(token)


@pytest.mark.parametrize(
    "line, hidden",
    [
        ("login failed password=hunter2-secret for x", "hunter2-secret"),
        ('{"password": "hunter2-secret"}', "hunter2-secret"),
        ("Cookie: sessionid=abcdef0123456789; csrftoken=tok-value-1", "abcdef0123456789"),
        ("Cookie: sessionid=abcdef0123456789; csrftoken=tok-value-1", "tok-value-1"),
        ("?token=tok-value-2&next=/", "tok-value-2"),
        ("Not Found: /accounts/reset/MQ/cbkzpo-0123456789abcdef/", "cbkzpo-0123456789abcdef"),
    ],
)
def test_the_formatters_mask_secrets_that_reach_a_message(line, hidden):
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "%s", (line,), None)
    logs.ContextFilter().filter(record)
    text = logs.TextFormatter("%(levelname)s %(message)s").format(record)
    as_json = logs.JsonFormatter().format(record)
    assert hidden not in text and hidden not in as_json
    assert "[redacted]" in text


def test_ordinary_lines_are_left_alone():
    line = "GET /accounts/reset/MQ/set-password/ password_change done; tasks/12/transition/"
    assert logs.redact(line) == line


def test_gunicorn_access_lines_are_redacted():
    """deploy/gunicorn.conf.py's logger class, on the request line of a reset link."""
    import datetime as dt
    import runpy

    from django.conf import settings as django_settings
    from gunicorn.config import Config

    conf = runpy.run_path(str(django_settings.BASE_DIR / "deploy" / "gunicorn.conf.py"))
    logger = conf["logger_class"](Config())
    path = "/accounts/reset/MQ/tok-abc-123456/"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://portal.example.com{path}",
    }

    class Response:
        status, sent, headers = "302 Found", 0, ()

    class Request:
        headers = ()

    atoms = logger.atoms(Response(), Request(), environ, dt.timedelta(seconds=0.01))
    assert atoms["r"] == "GET /accounts/reset/MQ/[redacted]/ HTTP/1.1"
    assert "tok-abc-123456" not in atoms["U"] + atoms["f"]
