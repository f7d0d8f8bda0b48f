"""Standing-duty sweep: 10,000 live engagements with a backup and a monitoring duty each;
10% of backups past due within grace, 2% past grace. Reports seconds, SQL queries, reminders
written and missed-duty events, for two sweeps the same day (the second writes nothing).
Usage: BENCH_PG=… .venv/bin/python bench/duties.py [--engagements 10000] [--batch-size 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from common import drop_database, scratch_database, setup_django
from reminders import build

DB = "psaas_bench_duties"


def add_duties(rng: random.Random) -> tuple[int, int]:
    from django.utils import timezone

    from engagements.models import Engagement, StandingDuty

    now = timezone.now()
    due, missed, rows = 0, 0, []
    for engagement_id in Engagement.objects.values_list("pk", flat=True).iterator():
        roll = rng.random()
        if roll < 0.02:
            backup_due, missed = now - dt.timedelta(days=2), missed + 1  # past the 1-day grace
        elif roll < 0.12:
            backup_due, due = now - dt.timedelta(hours=5), due + 1  # due, within grace
        else:
            backup_due = now + dt.timedelta(hours=rng.randint(1, 23))
        rows += [
            StandingDuty(
                engagement_id=engagement_id,
                kind="backup",
                cadence_days=1,
                grace_days=1,
                due_at=backup_due,
            ),
            StandingDuty(
                engagement_id=engagement_id,
                kind="monitoring",
                cadence_days=30,
                grace_days=7,
                due_at=now + dt.timedelta(days=rng.randint(1, 29)),
            ),
        ]
    StandingDuty.objects.bulk_create(rows, batch_size=5000)
    return due, missed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engagements", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    url = scratch_database(DB)
    setup_django(url)
    try:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from engagements import reminders
        from engagements.models import Event, Notification

        t0 = time.monotonic()
        build(args.engagements)
        due, missed = add_duties(random.Random(11))
        print(
            f"set-up: {args.engagements} engagements, {2 * args.engagements} duties; "
            f"{due} backups due within grace, {missed} past grace ({time.monotonic() - t0:.0f} s)"
        )
        for run_no in (1, 2):
            rows_before, events_before = Notification.objects.count(), Event.objects.count()
            started = time.monotonic()
            with CaptureQueriesContext(connection) as ctx:
                result = reminders.sweep_duties(batch_size=args.batch_size)
            seconds = time.monotonic() - started
            print(
                f"sweep {run_no}: {seconds:.1f} s, {len(ctx.captured_queries)} queries, "
                f"{Notification.objects.count() - rows_before} new reminder and notification rows, "
                f"{Event.objects.count() - events_before} duty.missed events ({result})"
            )
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB)


if __name__ == "__main__":
    main()
