"""Fan-out: 1,000 status changes with 5 recipients each, delivered by a real Celery worker
over Redis to an SMTP sink on loopback, on PostgreSQL, against the raw limit measured in the
same run: the same number of processes sending the same emails to the same sink with no
database work (P5 of issue 16: delivery at least 80% of raw).

Three measurements, after a warm-up. Raw and delivery alternate for --rounds rounds (5; raw,
delivery, raw, delivery, ..., raw): each delivery is compared with the mean of the raw runs
just before and after it, and the median round is the figure (the machine is shared).
  raw       N processes (N = --concurrency, the worker's), each sending its share of 5,000
            copies of one real rendered notification email, one SMTP connection per
            NOTIFY_BATCH_SIZE messages; from "go" to the last message accepted by the sink.
  delivery  1,000 changes committed first (their rows pending, nothing published), then one
            drain requested as a commit would; from that request (every row pending) to the
            last message accepted: claims, reads, renders, SMTP, and the "sent" UPDATEs.
  live      1,000 changes committed one by one while the worker delivers (each commit asks
            for a drain after commit, as in production); from the first commit to the last
            message accepted. The change loop runs in this process and bounds this figure:
            it is printed as its own rate.
Also: SMTP connections per phase; the CPU per email of the sending processes, of PostgreSQL
and of the sink; SQL queries per batch and for a drain finding nothing.
Usage: see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import Sink, drop_database, scratch_database, setup_django, start_worker

DB = os.environ.get("BENCH_FANOUT_DB", "psaas_bench_fanout")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--recipients", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    broker = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")
    url = scratch_database(DB)
    # As in production: DEBUG off, in this process and the worker (which inherits it).
    setup_django(
        url,
        CELERY_BROKER_URL=broker,
        DEBUG="0",
        SECRET_KEY="bench-fanout-only-a-long-random-enough-value-0123456789",
        ALLOWED_HOSTS="127.0.0.1",
    )
    sink = Sink()
    worker = None
    try:
        worker = run(args, url, broker, sink)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        sink.stop()
        from django.db import connections

        connections.close_all()
        drop_database(DB)


def wait_for(sink: Sink, count: int, what: str, timeout: float = 600) -> float:
    """Waits until the sink has accepted `count` messages in all; returns when the last one was."""
    started = time.monotonic()
    while sink.messages < count:
        if time.monotonic() - started > timeout:
            raise SystemExit(f"{what}: only {sink.messages} of {count} emails after {timeout} s")
        time.sleep(0.005)
    return sink.last


def raw_sender(message, count: int, batch: int, ready, go, cpu) -> None:
    """A child process: `count` copies of `message` over one connection per `batch`."""
    from django.core.mail import get_connection

    ready.release()
    go.wait()
    started = time.process_time()
    left = count
    while left:
        with get_connection(fail_silently=False) as connection:
            for _ in range(min(batch, left)):
                message.connection = connection
                connection.send_messages([message])
                left -= 1
    cpu.put(time.process_time() - started)


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of a process and its children (alive, or ended and waited
    for), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid:  # its own time and its children's that have ended
            total += sum(int(f) for f in fields[11:15]) / tick
        elif int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postmaster_pid() -> int:
    """PostgreSQL's postmaster (its backends are its children): the server is on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    return int((Path("/proc") / str(backend) / "stat").read_text().rsplit(")", 1)[1].split()[1])


class Others:
    """CPU used meanwhile by PostgreSQL (all its processes) and by this process (the SMTP sink's
    thread, and the wait loop's polling)."""

    def __init__(self, postmaster: int) -> None:
        self.postmaster = postmaster
        self.postgres = self.sink = 0.0

    def __enter__(self):
        self.started = (cpu_seconds(self.postmaster), time.process_time())
        return self

    def __exit__(self, *exc) -> None:
        self.postgres += cpu_seconds(self.postmaster) - self.started[0]
        self.sink += time.process_time() - self.started[1]


def raw(message, total: int, processes: int, batch: int, sink: Sink) -> tuple[float, int, float]:
    import multiprocessing

    from django.db import connections

    connections.close_all()  # nothing of the database crosses the fork
    context = multiprocessing.get_context("fork")
    ready, go, cpu = context.Semaphore(0), context.Event(), context.Queue()
    shares = [total // processes + (i < total % processes) for i in range(processes)]
    children = [
        context.Process(target=raw_sender, args=(message, share, batch, ready, go, cpu))
        for share in shares
    ]
    for child in children:
        child.start()
    for _ in children:
        ready.acquire()
    before, connections_before = sink.messages, sink.connections
    started = time.monotonic()
    go.set()
    last = wait_for(sink, before + total, "raw")
    used = sum(cpu.get() for _ in children)
    for child in children:
        child.join()
    return last - started, sink.connections - connections_before, used


def kind_of(sql: str) -> str:
    if "RETURNING" in sql:
        return "claim"
    if 'SET "sent_at"' in sql:
        return "sent"
    if 'SET "claimed_at"' in sql:
        return "renewal"
    if sql.startswith("SELECT") and "engagements_notification" in sql:
        return "read"
    return sql.split()[0].lower() + " " + sql.split('"')[1] if '"' in sql else sql[:20]


def run(args, url: str, broker: str, sink: Sink):
    import datetime as dt
    from unittest import mock

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from engagements import outbox_mail, tasks
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
    flip = {"i": 0}

    def changes(n: int, publish: bool = True) -> float:
        started = time.monotonic()
        for _ in range(n):
            task.refresh_from_db()
            to = TaskStatus.IN_PROGRESS if flip["i"] % 2 == 0 else TaskStatus.NOT_STARTED
            flip["i"] += 1
            if publish:
                transition_task(task, to=to, actor=engineer)
            else:  # the rows wait, as when the broker is down
                with mock.patch("engagements.notifications.enqueue_delivery"):
                    transition_task(task, to=to, actor=engineer)
        return time.monotonic() - started

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    app.conf.broker_url = broker
    batch = settings.NOTIFY_BATCH_SIZE
    expected = args.changes * args.recipients
    log = Path(tempfile.mkdtemp()) / "worker.log"
    print(f"worker log: {log}")
    worker = start_worker(url, broker, sink.port, log, concurrency=args.concurrency)

    # Warm-up: every worker process imports, connects and sends batches before anything is
    # measured: a backlog of two batches per process, drained as the measured ones are (ten
    # changes, one batch, left the second process cold for the first round: it then ran
    # 15 to 20% slower than the next rounds).
    warm = 2 * args.concurrency * batch // args.recipients
    changes(10)
    changes(warm, publish=False)
    tasks.request_delivery()
    wait_for(sink, (10 + warm) * args.recipients, "warm-up")

    # The real message: one row rendered as the worker renders it, sent as often as the run's.
    row = Notification.objects.filter(channel=Channel.EMAIL).select_related(
        "event__actor", "task", "engagement__organization", "recipient"
    )[0]
    message = outbox_mail.message(row)
    postmaster = postmaster_pid()

    def measure_raw() -> dict:
        with Others(postmaster) as others:
            seconds, connections, cpu = raw(message, expected, args.concurrency, batch, sink)
        return {
            "s": seconds,
            "conn": connections,
            "cpu": cpu,
            "pg": others.postgres,
            "sink": others.sink,
        }

    def measure_delivery() -> dict:
        """A backlog (every row pending, nothing published), then one drain requested as after
        a commit; from that request to the last message accepted."""
        changes(args.changes, publish=False)
        before, connections_before = sink.messages, sink.connections
        cpu = cpu_seconds(worker.pid)
        with Others(postmaster) as others:
            started = time.monotonic()
            tasks.request_delivery()
            seconds = wait_for(sink, before + expected, "delivery") - started
            time.sleep(0.5)  # the last group's UPDATE
        return {
            "s": seconds,
            "conn": sink.connections - connections_before,
            "cpu": cpu_seconds(worker.pid) - cpu,
            "pg": others.postgres,
            "sink": others.sink,
        }

    # Rounds: raw, delivery, raw, delivery, ... raw. Each delivery is compared with the mean
    # of the raw runs just before and after it (the machine is shared: a ratio measured
    # within a round holds when absolute times drift); the median round is the figure.
    raws = [measure_raw()]
    deliveries = []
    for _ in range(args.rounds):
        deliveries.append(measure_delivery())
        raws.append(measure_raw())
    rounds = []
    for i, d in enumerate(deliveries):
        r0, r1 = raws[i], raws[i + 1]
        raw_s = (r0["s"] + r1["s"]) / 2
        rounds.append(
            {
                "raw_rate": expected / raw_s,
                "delivery_rate": expected / d["s"],
                "ratio": raw_s / d["s"],
                "raw_cpu": (r0["cpu"] + r1["cpu"]) / 2 / expected * 1000,
                "worker_cpu": d["cpu"] / expected * 1000,
                "raw_pg": (r0["pg"] + r1["pg"]) / 2 / expected * 1000,
                "pg": d["pg"] / expected * 1000,
                "raw_sink": (r0["sink"] + r1["sink"]) / 2 / expected * 1000,
                "sink": d["sink"] / expected * 1000,
                "conn": d["conn"],
            }
        )
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]

    # Live: the change loop while the worker delivers.
    before, connections_before = sink.messages, sink.connections
    started = time.monotonic()
    loop_s = changes(args.changes)
    live_s = wait_for(sink, before + expected, "live") - started
    live_connections = sink.connections - connections_before
    time.sleep(1)  # the last group's UPDATE
    unsent = Notification.objects.filter(channel=Channel.EMAIL, sent_at__isnull=True).count()
    total_rows = Notification.objects.filter(channel=Channel.EMAIL).count()

    # Queries: one batch of 100 unsent rows, in this process; then a drain that finds nothing.
    changes(100 // args.recipients, publish=False)
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as batch_queries:
        delivered = tasks.deliver_claimed(tasks.claim_rows(tasks.immediate_emails(), 100))
    with CaptureQueriesContext(connection) as empty_queries:
        tasks.deliver_emails()
    task.refresh_from_db()
    with CaptureQueriesContext(connection) as change_queries:
        changes(1)

    print(
        f"fan-out, {args.changes} changes x {args.recipients} recipients = {expected} emails, "
        f"{args.concurrency} worker processes, batches of {batch}, "
        f"'sent' recorded every {settings.NOTIFY_RECORD_EVERY}, {args.rounds} rounds"
    )
    print(
        "| round | raw emails/s (mean of the runs before and after) | delivery of the backlog, "
        "emails/s | delivery / raw | CPU ms per email: raw senders / worker | "
        "PostgreSQL | sink | SMTP connections (raw / delivery) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for i, r in enumerate(rounds, 1):
        print(
            f"| {i} | {r['raw_rate']:.0f} | {r['delivery_rate']:.0f} | {r['ratio']:.0%} "
            f"| {r['raw_cpu']:.2f} / {r['worker_cpu']:.2f} "
            f"| {r['raw_pg']:.2f} / {r['pg']:.2f} | {r['raw_sink']:.2f} / {r['sink']:.2f} "
            f"| {raws[i]['conn']} / {r['conn']} |"
        )
    print(
        f"delivery / raw, the median round: {median['ratio']:.0%} (goal >= 80%); "
        "rounds: " + ", ".join(f"{r['ratio']:.0%}" for r in rounds)
    )
    print(
        f"| live: changes while delivering | {live_s:.2f} s | {expected / live_s:.0f} emails/s "
        f"| {live_connections} SMTP connections |"
    )
    print(
        f"change loop: {args.changes} changes in {loop_s:.1f} s "
        f"({args.changes / loop_s:.0f} changes/s, {expected / loop_s:.0f} emails/s produced)"
    )
    print(f"rows: {total_rows} emails, {unsent} unsent at the end")
    kinds = Counter(kind_of(q["sql"]) for q in batch_queries.captured_queries)
    print(
        f"SQL queries, one batch of {delivered}: {len(batch_queries.captured_queries)} "
        f"({', '.join(f'{kind} {n}' for kind, n in kinds.items())}); "
        f"a drain finding nothing: {len(empty_queries.captured_queries)}; "
        f"one change of the loop: {len(change_queries.captured_queries) - 1} "
        "(statements, BEGIN and COMMIT included, the refresh not)"
    )
    return worker


if __name__ == "__main__":
    main()
