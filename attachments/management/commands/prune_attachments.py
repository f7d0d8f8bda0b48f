"""Deletes stored files that no attachment names: left by a commit that failed after the
file was stored, or by an owner deleted with its attachments (a template version that drops
a checklist item). Only files older than --older-than-hours (24 by default), so an upload
in progress is not touched; 0 prunes every file no row names (with the portal stopped)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from attachments.actions import storage
from attachments.models import Attachment
from attachments.storage_walk import stored_names


class Command(BaseCommand):
    help = "Deletes stored attachment files that no attachment names (older than a day)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-hours", type=int, default=24)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, older_than_hours: int, dry_run: bool, **options):
        store = storage()
        cutoff = timezone.now() - dt.timedelta(hours=max(older_than_hours, 0))
        names = list(stored_names(store))
        known = set(Attachment.objects.filter(key__in=names).values_list("key", flat=True))
        pruned = 0
        for name in names:
            if name in known or store.get_modified_time(name) > cutoff:
                continue
            pruned += 1
            if not dry_run:
                store.delete(name)
            self.stdout.write(f"{'would delete' if dry_run else 'deleted'} {name}")
        self.stdout.write(f"{pruned} orphaned file(s){' found' if dry_run else ' deleted'}.")
