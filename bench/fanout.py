"""Fan-out: 1,000 status changes with 5 recipients each, delivered by a real Celery worker
over Redis to an SMTP sink on loopback, on PostgreSQL.

Reports emails per second, SMTP connections opened, and SQL queries per delivered batch.
Usage: see bench/README.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import Sink, drop_database, scratch_database, setup_django, start_worker

DB = "psaas_bench_fanout"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--recipients", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()

    import os

    broker = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")
    url = scratch_database(DB)
    setup_django(url, CELERY_BROKER_URL=broker)
    sink = Sink()
    worker = None
    try:
        worker, _, _ = run(args, url, broker, sink)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        sink.stop()
        from django.db import connections

        connections.close_all()
        drop_database(DB)


def run(args, url: str, broker: str, sink: Sink):
    import datetime as dt
    from unittest import mock

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from engagements import tasks
    from engagements.actions.engagements import create_engagement
    from engagements.actions.membership import add_member
    from engagements.actions.tasks import transition_task
    from engagements.choices import Channel, OrganizationKind, TaskStatus
    from engagements.models import Notification, Organization, Profile
    from psaas_portal.celery import app
    from raci.models import Party
    from raci.services import load_seed_template

    User = get_user_model()
    version = load_seed_template()
    vendor = Organization.objects.create(name="Vendor", kind=OrganizationKind.VENDOR)
    sub = Organization.objects.create(name="Subscriber", kind=OrganizationKind.SUBSCRIBER)
    engagement = create_engagement(
        organization=sub, name="Bench", version=version, kickoff_date=dt.date.today()
    )
    engineer = User.objects.create_user("engineer", "engineer@example.com")
    Profile.objects.create(user=engineer, organization=sub)
    add_member(engagement, engineer, party=Party.objects.get(name="Subscriber"))
    for i in range(args.recipients):  # Auth0 is Informed on Monitoring: each change tells them all
        user = User.objects.create_user(f"cse{i}", f"cse{i}@example.com")
        Profile.objects.create(user=user, organization=vendor)
        add_member(engagement, user, party=Party.objects.get(name="Auth0"))
    task = engagement.tasks.get(key="monitoring")

    log = Path(tempfile.mkdtemp()) / "worker.log"
    worker = start_worker(url, broker, sink.port, log, concurrency=args.concurrency)
    app.conf.broker_url = broker
    expected = args.changes * args.recipients
    started = time.monotonic()
    for i in range(args.changes):
        task.refresh_from_db()
        transition_task(
            task,
            to=TaskStatus.IN_PROGRESS if i % 2 == 0 else TaskStatus.NOT_STARTED,
            actor=engineer,
        )
    committed = time.monotonic() - started
    while sink.messages < expected:
        if time.monotonic() - started > 600:
            raise SystemExit(f"only {sink.messages} of {expected} emails after 600 s")
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    sent = Notification.objects.filter(channel=Channel.EMAIL, sent_at__isnull=False).count()

    # Queries per delivered batch, measured in-process on a fresh batch of 100 unsent rows
    # (changes whose delivery was left to the sweep, as when the broker was down).
    for i in range(20):
        task.refresh_from_db()
        with mock.patch("engagements.notifications.enqueue_delivery"):
            transition_task(
                task,
                to=TaskStatus.IN_PROGRESS if i % 2 == 0 else TaskStatus.NOT_STARTED,
                actor=engineer,
            )
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    pending = Notification.objects.filter(channel=Channel.EMAIL, digest=False)
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        ids = tasks.claim(pending, 100)
        delivered = tasks.deliver(ids)
    print(
        f"changes committed:          {args.changes} in {committed:.1f} s ({args.changes / committed:.0f} changes/s)"
    )
    print(
        f"emails delivered:           {sink.messages - delivered} of {expected} (rows marked sent: {sent})"
    )
    print(f"end-to-end:                 {elapsed:.1f} s, {expected / elapsed:.0f} emails/s")
    print(f"SMTP connections opened:    {sink.connections}")
    print(
        f"SQL queries, one batch of {delivered}: {len(ctx.captured_queries)} "
        f"(claim 2, read 1, one UPDATE per message marked sent)"
    )
    return worker, elapsed, sink.connections


if __name__ == "__main__":
    main()
