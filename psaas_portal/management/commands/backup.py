from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from psaas_portal.backup import BackupError, backup


class Command(BaseCommand):
    help = "Writes a consistent backup of the database (pg_dump custom format, or SQLite's backup API) with a manifest."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output", required=True, type=Path, help="The backup file to write (a tar)."
        )

    def handle(self, *args, output: Path, **options) -> None:
        try:
            manifest = backup(output)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(manifest["row_counts"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {len(manifest['row_counts'])} tables, {rows} rows ({manifest['engine']} "
                f"{manifest['server_version']}) and {len(manifest['attachment_files'])} attachment "
                f"files to {output}; sha256 {manifest['sha256'][:16]}…"
            )
        )
