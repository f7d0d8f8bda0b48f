from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from psaas_portal.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restores a backup into an empty database (or any, with --force) and verifies the row counts."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--force", action="store_true", help="Replace a database that is not empty."
        )

    def handle(self, *args, file: Path, force: bool, **options) -> None:
        if not file.exists():
            raise CommandError(f"{file}: no such file.")
        try:
            manifest = restore(file, force=force)
        except BackupError as exc:
            raise CommandError(
                f"Nothing was restored: {exc}" if "row counts differ" not in str(exc) else str(exc)
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored the backup of {manifest['created_at']}: {len(manifest['row_counts'])} tables, "
                f"row counts verified; {manifest.get('attachment_files_restored', 0)} attachment "
                "files restored, checksums verified."
            )
        )
        for key in manifest.get("attachment_files_gone", []):
            self.stderr.write(
                f"The attachment {key} was removed while the backup ran: its row has no file."
            )
