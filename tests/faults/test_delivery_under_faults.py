"""Delivery under faults, against real processes: a Redis of the test's own, real `celery
worker` processes on the test database, and an SMTP relay that refuses (4xx, 5xx), goes away,
or is slow. Emails are counted by Message-ID at the relay. The test process plays beat's
sweep (every 1.5 s). Each scenario is bounded (about a minute at most) and prints its figures."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from engagements import delivery_backoff, tasks
from engagements.choices import Channel
from engagements.models import Notification
from tests.faults.conftest import Figures, stopwatch, wait_until
from tests.integration.test_notifications import toggle_many

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FAST = {  # the production rules, on a faster clock
    "NOTIFY_BACKOFF_BASE": "2",
    "NOTIFY_BACKOFF_MAX": "4",
    "NOTIFY_CLAIM_LEASE": "8",
    "EMAIL_TIMEOUT": "3",
}


def emails():
    return Notification.objects.filter(channel=Channel.EMAIL)


def sent() -> int:
    return emails().filter(sent_at__isnull=False).count()


def sweep_until(done, timeout: float, what: str) -> None:
    def check() -> bool:
        if done():
            return True
        tasks.deliver_pending.delay()
        return False

    wait_until(check, timeout, what, interval=1.5)


def sweep_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tasks.deliver_pending.delay()
        time.sleep(1.5)


def test_relay_answering_451_then_recovering_delivers_every_email_once(
    start_worker, relay, engagement_a, engineer_a
):
    relay.handler.reply = "451 4.3.0 try again later"
    worker = start_worker("w451", smtp_port=relay.port, extra_env=FAST)
    figures = Figures("relay answers 451 for 15 s, then recovers", changes=40, expected=40)
    toggle_many(engagement_a, engineer_a, 40)
    sweep_for(15)
    assert relay.handler.refused >= 40
    assert not delivery_backoff.given_up().exists()  # before the fix: all 40 given up at once
    assert emails().filter(retry_at__isnull=False).count() == 40
    relay.handler.reply = "250 OK"
    started = stopwatch()
    sweep_until(lambda: sent() == 40, 45, "40 emails sent after the relay recovered")
    figures.recover_s = stopwatch() - started
    time.sleep(1)
    figures.delivered, figures.duplicates = relay.handler.counts()
    figures.note = f"refusals={relay.handler.refused}"
    figures.record()
    assert (figures.delivered, figures.duplicates) == (40, 0)
    assert "given up" not in worker.output()


def test_relay_answering_550_gives_up_visibly_and_the_command_requeues(
    start_worker, relay, engagement_a, engineer_a
):
    relay.handler.reply = "550 5.7.1 relaying denied"
    worker = start_worker("w550", smtp_port=relay.port, extra_env=FAST)
    figures = Figures("relay answers 550, then re-queued by command", changes=10, expected=10)
    toggle_many(engagement_a, engineer_a, 10)
    wait_until(lambda: delivery_backoff.given_up().count() == 10, 30, "10 rows given up")
    assert relay.handler.refused == 10  # one try each: a 5xx is not retried
    worker.wait_for("given up after 1 attempt(s)", timeout=10)
    assert " ERROR " in worker.output() or '"level": "ERROR"' in worker.output()
    out = StringIO()
    assert "10 email(s) given up" in delivery_backoff.outbox_status()
    relay.handler.reply = "250 OK"
    started = stopwatch()
    call_command("requeue_notifications", stdout=out)
    assert "10 given-up message(s) re-queued" in out.getvalue()
    sweep_until(lambda: sent() == 10, 30, "10 re-queued emails sent")
    figures.recover_s = stopwatch() - started
    time.sleep(1)
    figures.delivered, figures.duplicates = relay.handler.counts()
    figures.record()
    assert (figures.delivered, figures.duplicates) == (10, 0)


def test_relay_down_then_back_delivers_everything_and_logs_the_outage_once(
    start_worker, relay, engagement_a, engineer_a
):
    relay.down()
    worker = start_worker("wdown", smtp_port=relay.port, extra_env=FAST)
    figures = Figures("relay down for 15 s", changes=20, expected=20)
    toggle_many(engagement_a, engineer_a, 20)
    sweep_for(15)
    assert sent() == 0
    # An outage uses up no attempt (1 at most: a claim in flight, given back when it fails).
    assert not emails().filter(attempts__gt=1).exists()
    relay.up()
    started = stopwatch()
    sweep_until(lambda: sent() == 20, 45, "20 emails sent after the relay came back")
    figures.recover_s = stopwatch() - started
    time.sleep(1)
    figures.delivered, figures.duplicates = relay.handler.counts()
    log = worker.output()
    figures.note = (
        f"outage warnings: start={log.count('SMTP outage:')} end={log.count('SMTP outage over')}"
    )
    figures.record()
    assert (figures.delivered, figures.duplicates) == (20, 0)
    assert log.count("SMTP outage:") == 1 and log.count("SMTP outage over") == 1


def test_a_worker_killed_mid_batch_leaves_its_rows_to_another_within_the_lease(
    start_worker, redis_server, relay, engagement_a, engineer_a
):
    redis_server.stop()  # the rows wait; one sweep will claim all 30 in one batch
    toggle_many(engagement_a, engineer_a, 30)
    redis_server.start()
    first = start_worker("wkill1", smtp_port=relay.port, extra_env=FAST)
    figures = Figures("worker SIGKILL mid-batch", changes=30, expected=30)

    def kill_in_the_middle(accepted: int) -> None:
        if accepted == 10 and first.proc.poll() is None:
            first.proc.kill()

    relay.handler.on_recipient = kill_in_the_middle
    tasks.deliver_pending.delay()
    wait_until(lambda: first.proc.poll() is not None, 30, "the first worker to be killed")
    killed = stopwatch()
    relay.handler.on_recipient = None
    # Accepted messages are recorded a group at a time (NOTIFY_RECORD_EVERY, 50 by default):
    # what the kill left unrecorded is sent again, with the same Message-ID.
    recorded = sent()
    assert recorded <= 10
    start_worker("wkill2", smtp_port=relay.port, extra_env=FAST)
    sweep_until(lambda: sent() == 30, 45, "the dead worker's rows taken over")
    figures.recover_s = stopwatch() - killed
    time.sleep(1)
    figures.delivered, figures.duplicates = relay.handler.counts()
    figures.note = f"recorded at the kill={recorded} of 10 accepted"
    figures.record()
    assert (figures.delivered, figures.duplicates) == (30, 10 - recorded)
    assert figures.duplicates <= settings.NOTIFY_RECORD_EVERY
    assert figures.recover_s < 8 + 20  # the lease (8 s here) and a few sweeps, not 6 minutes


def test_redis_stopped_mid_burst_loses_nothing(
    start_worker, redis_server, relay, engagement_a, engineer_a
):
    start_worker("wredis", smtp_port=relay.port, extra_env=FAST)
    figures = Figures("Redis stopped mid-burst for 5 s", changes=40, expected=40)
    toggle_many(engagement_a, engineer_a, 16)
    redis_server.stop()
    toggle_many(engagement_a, engineer_a, 24)  # publishes fail fast; the rows wait
    time.sleep(5)
    redis_server.start()
    started = stopwatch()
    sweep_until(lambda: sent() == 40, 45, "40 emails sent after Redis came back")
    figures.recover_s = stopwatch() - started
    time.sleep(1)
    figures.delivered, figures.duplicates = relay.handler.counts()
    figures.record()
    assert (figures.delivered, figures.duplicates) == (40, 0)


def _get(live_server, path: str, session_id: str) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        live_server.url + path, headers={"Cookie": f"sessionid={session_id}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_database_connections_dropped_mid_burst(
    start_worker, relay, engagement_a, engineer_a, live_server
):
    """A database blip (every connection but the test's own terminated, the worker's and the
    web server's, while the worker delivers): the next page is a 200, not a 500; every change
    has its event; no claim stays stuck; nothing is lost or sent twice."""
    from django.test import Client

    from engagements.models import Event

    browser = Client()
    browser.force_login(engineer_a)
    session_id = browser.cookies["sessionid"].value
    page = f"/engagements/{engagement_a.pk}/"
    assert _get(live_server, page, session_id) == 200
    relay.handler.delay = 0.1
    start_worker("wdb", smtp_port=relay.port, extra_env=FAST)
    figures = Figures("database connections dropped mid-burst", changes=30, expected=30)
    toggle_many(engagement_a, engineer_a, 30)
    wait_until(lambda: sent() >= 5, 30, "delivery under way")
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        dropped = cursor.rowcount
    started = stopwatch()
    assert _get(live_server, page, session_id) == 200  # the web side reconnects: no 500
    sweep_until(lambda: sent() == 30, 45, "30 emails sent after the blip")
    figures.recover_s = stopwatch() - started
    time.sleep(1)
    figures.delivered, figures.duplicates = relay.handler.counts()
    figures.note = f"connections dropped={dropped}"
    figures.record()
    assert Event.objects.filter(verb="task.status_changed").count() == 30
    assert (figures.delivered, figures.duplicates) == (30, 0)
    assert not emails().filter(sent_at__isnull=True, claimed_at__isnull=False).exists()
