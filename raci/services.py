"""Writes to the template world, and the reads that build a Matrix from it.

Every write is one transaction with a keyword-only actor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from .choices import VersionStatus
from .matrix import Cell, Matrix, Row, from_data
from .models import Party, RaciTemplate, TemplateCell, TemplateTask, TemplateVersion, VersionParty

SEED_TEMPLATE_PATH = Path(settings.BASE_DIR) / "fixtures" / "psaas-appliance-raci.json"
SEED_TEMPLATE_NAME = "PSaaS Appliance"


class TemplateError(Exception):
    """A template change that is not allowed (for instance, editing a published version)."""


# --- Reads --------------------------------------------------------------------


def version_with_matrix(version_id: int) -> TemplateVersion:
    """A version with its columns, tasks and cells in four queries."""
    return (
        TemplateVersion.objects.select_related("template")
        .prefetch_related(
            Prefetch("columns", queryset=VersionParty.objects.select_related("party")),
            Prefetch(
                "tasks",
                queryset=TemplateTask.objects.order_by("position").prefetch_related(
                    Prefetch("cells", queryset=TemplateCell.objects.select_related("party"))
                ),
            ),
        )
        .get(pk=version_id)
    )


def version_matrix(version: TemplateVersion) -> Matrix:
    version = version_with_matrix(version.pk)
    parties = [(c.party.name, c.party.is_vendor) for c in version.columns.all()]
    rows = [
        Row(
            name=task.name,
            key=task.key,
            cells={cell.party.name: Cell.of(cell) for cell in task.cells.all()},
            notes=task.notes,
            description=task.description,
            is_optional=task.is_optional,
            tracking=task.tracking,
            due_offset_days=task.due_offset_days,
        )
        for task in version.tasks.all()
    ]
    return Matrix(
        title=f"{version.template.name} v{version.number}",
        parties=parties,
        rows=rows,
        general_division=version.general_division,
        raci_definitions=version.raci_definitions,
    )


# --- Writes -------------------------------------------------------------------


def _inherit_from_previous(matrix: Matrix, template: RaciTemplate) -> None:
    """A CSV carries no tracking, description or due offsets: keep the last version's."""
    previous = template.versions.order_by("-number").first()
    if previous is None:
        return
    earlier = {t.name.lower(): t for t in previous.tasks.all()}
    for row in matrix.rows:
        old = earlier.get(row.name.lower())
        if old is not None:
            row.tracking = old.tracking
            row.key = row.key or old.key
            row.description = row.description or old.description
            row.due_offset_days = old.due_offset_days
    matrix.general_division = matrix.general_division or previous.general_division
    matrix.raci_definitions = matrix.raci_definitions or previous.raci_definitions


@transaction.atomic
def create_version(
    matrix: Matrix,
    *,
    template_name: str,
    actor=None,
    publish: bool = False,
    inherit: bool = False,
) -> TemplateVersion:
    """Writes a matrix as the next version of a template (created if new), as a draft."""
    template, _ = RaciTemplate.objects.get_or_create(name=template_name)
    # Lock the template row so two imports never take the same version number.
    template = RaciTemplate.objects.select_for_update().get(pk=template.pk)
    if inherit:
        _inherit_from_previous(matrix, template)
    number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = TemplateVersion.objects.create(
        template=template,
        number=number,
        general_division=matrix.general_division,
        raci_definitions=matrix.raci_definitions,
        created_by=actor,
    )
    parties: dict[str, Party] = {}
    for position, (name, is_vendor) in enumerate(matrix.parties, start=1):
        party, _ = Party.objects.get_or_create(name=name, defaults={"is_vendor": is_vendor})
        parties[name] = party
        VersionParty.objects.create(version=version, party=party, position=position)
    tasks = TemplateTask.objects.bulk_create(
        TemplateTask(
            version=version,
            position=position,
            key=row.key,
            name=row.name,
            description=row.description,
            notes=row.notes,
            is_optional=row.is_optional,
            tracking=row.tracking,
            due_offset_days=row.due_offset_days,
        )
        for position, row in enumerate(matrix.rows, start=1)
    )
    TemplateCell.objects.bulk_create(
        TemplateCell(task=task, party=parties[party_name], **cell.field_values())
        for task, row in zip(tasks, matrix.rows, strict=True)
        for party_name, cell in row.cells.items()
    )
    if publish:
        version = publish_version(version, actor=actor)
    return version


@transaction.atomic
def publish_version(version: TemplateVersion, *, actor=None) -> TemplateVersion:
    version = TemplateVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_draft:
        raise TemplateError(f"{version} is already published.")
    if not version.tasks.exists():
        raise TemplateError("A version with no tasks cannot be published.")
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    version.save(update_fields=["status", "published_at", "published_by"])
    return version


def load_seed_template(*, actor=None, path: Path = SEED_TEMPLATE_PATH) -> TemplateVersion:
    """Loads the PSaaS Appliance matrix from fixtures/, once: a repeat returns the same version."""
    matrix = from_data(json.loads(path.read_text(encoding="utf-8")))
    current = TemplateVersion.objects.latest_published(SEED_TEMPLATE_NAME)
    if current is not None and version_matrix(current) == _titled(matrix, current):
        return current
    return create_version(matrix, template_name=SEED_TEMPLATE_NAME, actor=actor, publish=True)


def _titled(matrix: Matrix, version: TemplateVersion) -> Matrix:
    matrix.title = f"{version.template.name} v{version.number}"
    return matrix


# --- RACI hygiene ---------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A RACI hygiene warning: shown to the editor, never enforced."""

    task: str
    message: str


def hygiene_findings(matrix: Matrix) -> list[Finding]:
    """Good practice: exactly one Accountable and at least one Responsible party per task."""
    findings: list[Finding] = []
    for row in matrix.rows:
        accountable = [p for p, c in row.cells.items() if "A" in c.letters]
        responsible = [p for p, c in row.cells.items() if "R" in c.letters]
        if not accountable:
            findings.append(
                Finding(row.name, "No Accountable party: the Responsible party closes it.")
            )
        elif len(accountable) > 1:
            findings.append(
                Finding(row.name, f"More than one Accountable party ({', '.join(accountable)}).")
            )
        if not responsible:
            findings.append(Finding(row.name, "No Responsible party: nobody does the work."))
        elif len(responsible) > 1:
            findings.append(
                Finding(
                    row.name,
                    f"More than one Responsible party ({', '.join(responsible)}): agree who leads.",
                )
            )
    for party in matrix.party_names:
        if matrix.rows and all(
            {"R", "A"} <= set(row.cells.get(party, Cell("")).letters) for row in matrix.rows
        ):
            findings.append(Finding("", f"{party} is Responsible and Accountable for every task."))
    return findings
