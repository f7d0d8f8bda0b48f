from __future__ import annotations

from django.core.management.base import BaseCommand

from engagements import delivery_backoff


class Command(BaseCommand):
    help = (
        "Puts emails and chat messages given up on (attempts used up, or refused "
        "permanently) back in the queue; the beat sweeps send them within "
        "NOTIFY_SWEEP_SECONDS."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="notification ids (default: all)")
        parser.add_argument(
            "--dry-run", action="store_true", help="only count what would be re-queued"
        )

    def handle(self, *args, ids, dry_run, **options) -> None:
        rows = delivery_backoff.given_up()
        if ids:
            rows = rows.filter(pk__in=ids)
        if dry_run:
            self.stdout.write(f"{rows.count()} given-up message(s) would be re-queued")
            return
        count = delivery_backoff.requeue(ids or None)
        self.stdout.write(f"{count} given-up message(s) re-queued")
