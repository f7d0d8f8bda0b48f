"""A calm `make run`: expected refusals logged as one line (no traceback), 5xx still loud; the
demo's emails sent once, by load_demo, with nothing left for the worker; the banner."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.http import Http404
from django.urls import reverse

from engagements.choices import Channel
from engagements.models import Notification
from engagements.tasks import deliver_pending_batches
from psaas_portal.logs import ExpectedRefusalFilter


def record_for(exc: BaseException, status: int) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        exc_info = sys.exc_info()
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "x", (), exc_info)
    record.status_code = status
    return record


def test_the_filter_drops_the_traceback_of_an_expected_refusal_only():
    keep = ExpectedRefusalFilter()
    for exc, status in [(PermissionDenied("no"), 403), (Http404("gone"), 404)]:
        record = record_for(exc, status)
        assert keep.filter(record) and record.exc_info is None and record.getMessage() == "x"
    for exc, status in [(RuntimeError("bug"), 500), (PermissionDenied("odd"), 500)]:
        record = record_for(exc, status)
        assert keep.filter(record) and record.exc_info is not None


@pytest.mark.django_db
def test_a_403_is_one_line_in_the_log_without_a_traceback(client_for, engineer_a, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client_for(engineer_a).get(reverse("engagements:engagement-new"))
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage().startswith("Forbidden (Permission denied)")
    assert record.exc_info is None
    # The filter sits on django.request in LOGGING; its records reach the root handler once.
    assert "expected_refusals" in settings.LOGGING["loggers"]["django.request"]["filters"]
    assert logging.getLogger("django").handlers == []


def test_the_embedded_broker_url_names_a_host():
    """kombu warns "No hostname was supplied" at every connection to a bare filesystem://."""
    if settings.CELERY_BROKER_URL.startswith("filesystem:"):
        assert settings.CELERY_BROKER_URL == "filesystem://localhost//"
    from kombu import Connection

    assert Connection("filesystem://localhost//").hostname == "localhost"


@pytest.mark.django_db(transaction=True)
def test_load_demo_sends_its_emails_once_and_leaves_none_for_the_worker(
    mailoutbox, live_server, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("load_demo", stdout=io.StringIO())
    emails = Notification.objects.filter(channel=Channel.EMAIL, digest=False)
    first = len(mailoutbox)
    assert first > 10 and first == emails.count()
    assert not emails.filter(sent_at__isnull=True).exists()
    # The worker's sweep (what a `make run` start runs) finds nothing to send.
    assert deliver_pending_batches() == 0
    rows = Notification.objects.count()
    call_command("load_demo", stdout=io.StringIO())
    assert len(mailoutbox) == first and Notification.objects.count() == rows

    # make run's banner, once the server answers: its URL and the demo logins.
    out = io.StringIO()
    call_command("run_banner", live_server.url + "/", wait=30, stdout=out)
    banner = out.getvalue()
    assert f"PSaaS Portal: {live_server.url}/" in banner
    assert "acme-engineer" in banner and "psaas-demo-2026" in banner


ROOT = Path(__file__).resolve().parents[1]


def test_site_url_follows_port_under_make_run():
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=8101"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    line = dry[dry.index("SITE_URL=") :]  # the one shell line that starts all three
    assert "SITE_URL=${SITE_URL:-http://127.0.0.1:8101}" in line
    assert (
        "celery -A psaas_portal -q worker" in line and "runserver --noreload 127.0.0.1:8101" in line
    )
