"""Reminder sweep: 10,000 engagements from the seed template (about 150,000 tasks, 5%
overdue) on PostgreSQL. Reports seconds, SQL queries and reminders written and sent, and
shows the query count grows with the number of batches, not of engagements.
Usage: see bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from common import Sink, drop_database, scratch_database, setup_django

DB = "psaas_bench_reminders"


def build(n: int) -> int:
    """n engagements with their tasks and letters, written in bulk (set-up, not measured)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from engagements.actions.engagements import new_letters, new_tasks
    from engagements.choices import OrganizationKind
    from engagements.models import (
        Engagement,
        EngagementTask,
        Membership,
        Organization,
        Profile,
        TaskParty,
    )
    from raci.services import load_seed_template

    User = get_user_model()
    version = load_seed_template()
    template_tasks = list(version.tasks.order_by("position").prefetch_related("cells"))
    today = dt.date.today()
    rng = random.Random(7)
    vendor = Organization.objects.create(name="Vendor", kind=OrganizationKind.VENDOR)
    cse = User.objects.create_user("cse", "cse@example.com")
    Profile.objects.create(user=cse, organization=vendor)
    parties = {c.party.name: c.party for c in version.columns.select_related("party")}
    total = 0
    for start in range(0, n, 500):
        with transaction.atomic():
            size = min(500, n - start)
            orgs = Organization.objects.bulk_create(
                Organization(name=f"Subscriber {start + i}", kind=OrganizationKind.SUBSCRIBER)
                for i in range(size)
            )
            users = User.objects.bulk_create(
                User(username=f"eng{start + i}", email=f"eng{start + i}@example.com")
                for i in range(size)
            )
            Profile.objects.bulk_create(
                Profile(user=u, organization=o) for u, o in zip(users, orgs, strict=False)
            )
            engagements = Engagement.objects.bulk_create(
                Engagement(
                    organization=o,
                    name="Appliance",
                    template_version=version,
                    kickoff_date=today - dt.timedelta(days=30),
                )
                for o in orgs
            )
            Membership.objects.bulk_create(
                [Membership(engagement=e, user=cse, party=parties["Auth0"]) for e in engagements]
                + [
                    Membership(engagement=e, user=u, party=parties["Subscriber"])
                    for e, u in zip(engagements, users, strict=False)
                ]
            )
            # The rows the portal copies at creation, with due dates for the benchmark:
            # 5% overdue; the rest due later or without a due date.
            rows = [t for e in engagements for t in new_tasks(e, template_tasks)]
            for task in rows:
                task.due_date = (
                    today - dt.timedelta(days=rng.randint(1, 10))
                    if rng.random() < 0.05
                    else (
                        today + dt.timedelta(days=rng.randint(10, 90))
                        if rng.random() < 0.5
                        else None
                    )
                )
            created = EngagementTask.objects.bulk_create(rows, batch_size=5000)
            by_tt = {tt.pk: list(tt.cells.all()) for tt in template_tasks}
            TaskParty.objects.bulk_create(new_letters(created, by_tt), batch_size=10000)
            total += len(created)
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engagements", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--send",
        action="store_true",
        help="also deliver the reminders to an SMTP sink on 127.0.0.1",
    )
    args = parser.parse_args()
    url = scratch_database(DB)
    setup_django(url)
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB)


def run(args) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from engagements import reminders, tasks
    from engagements.choices import OPEN_STATUSES
    from engagements.models import EngagementTask, Notification

    t0 = time.monotonic()
    total = build(args.engagements)
    overdue = EngagementTask.objects.filter(
        due_date__lt=dt.date.today(), status__in=OPEN_STATUSES
    ).count()
    print(
        f"set-up: {args.engagements} engagements, {total} tasks, {overdue} overdue ({100 * overdue / total:.1f}%) in {time.monotonic() - t0:.0f} s"
    )
    for run_no in (1, 2):
        before = Notification.objects.count()
        started = time.monotonic()
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            written = reminders.sweep_reminders(batch_size=args.batch_size)
        seconds = time.monotonic() - started
        new = Notification.objects.count() - before
        print(
            f"sweep {run_no}: {seconds:.1f} s, {len(ctx.captured_queries)} queries, {written} rows offered, {new} new rows"
        )
    batches = -(
        -EngagementTask.objects.filter(
            due_date__isnull=False,
            due_date__lte=dt.date.today() + dt.timedelta(days=settings.REMINDER_LEAD_DAYS),
            status__in=OPEN_STATUSES,
        ).count()
        // args.batch_size
    )
    print(
        f"batches of {args.batch_size}: {batches}; queries per batch: {len(ctx.captured_queries) / max(batches, 1):.1f}"
    )
    # Escalation (issue 12): past the grace period each open task escalates once per due
    # date, in its own transaction (an audited event and its notifications); a second
    # sweep the same day finds nothing new.
    from engagements.escalations import sweep_task_escalations
    from engagements.models import Event

    counted = [0]

    def count(execute, sql, params, many, context):
        counted[0] += 1
        return execute(sql, params, many, context)

    for run_no in (1, 2):
        started, counted[0] = time.monotonic(), 0
        with connection.execute_wrapper(count):  # (the query log keeps only 9,000)
            escalated = sweep_task_escalations(batch_size=args.batch_size)
        seconds = time.monotonic() - started
        n = counted[0]
        print(
            f"escalation sweep {run_no}: {seconds:.1f} s, {n} queries, {escalated} escalated"
            + (f" ({n / escalated:.1f} queries each)" if escalated else "")
        )
    print(f"task.escalated events: {Event.objects.filter(verb='task.escalated').count()}")
    if args.send:
        sink = Sink()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        started = time.monotonic()
        sent = 0
        while True:
            n = tasks.deliver_pending_batches()
            sent += n
            if not n:
                break
        seconds = time.monotonic() - started
        print(
            f"delivered: {sink.messages} reminder emails in {seconds:.1f} s ({sink.messages / seconds:.0f}/s) over {sink.connections} SMTP connections"
        )
        sink.stop()


if __name__ == "__main__":
    main()
