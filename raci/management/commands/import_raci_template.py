from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from raci import services
from raci.matrix import MatrixFormatError, from_csv, from_data

MAX_BYTES = 2 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Imports a RACI template from a CSV file (task,<party>,…,notes) or the JSON that "
        "raci_matrix --format json writes, as a new draft version. Nothing is written on bad input."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--name", required=True, help="Template name, e.g. 'PSaaS Appliance'.")
        parser.add_argument(
            "--publish", action="store_true", help="Publish the new version at once."
        )

    def handle(self, *args, file: Path, name: str, publish: bool, **options) -> None:
        name = name.strip()
        if not name:
            raise CommandError("--name must not be empty.")
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: cannot read the file ({exc.strerror}).") from None
        if len(raw) > MAX_BYTES:
            raise CommandError(f"{file}: the file is larger than {MAX_BYTES // 1024} KiB.")
        try:
            if file.suffix.lower() == ".json":
                try:
                    data = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise MatrixFormatError([f"the file is not valid JSON: {exc}"]) from None
                matrix = from_data(data)
            else:
                matrix = from_csv(raw)
        except MatrixFormatError as exc:
            problems = "\n".join(f"  {file}: {p}" for p in exc.problems)
            raise CommandError(f"Nothing was imported:\n{problems}") from None
        version = services.create_version(
            matrix, template_name=name, publish=publish, inherit=file.suffix.lower() != ".json"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(matrix.rows)} tasks and {len(matrix.parties)} parties as "
                f"{version.template.name} v{version.number} ({version.get_status_display().lower()})."
            )
        )
