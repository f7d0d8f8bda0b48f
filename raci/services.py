"""Writes to the template world, and the reads that build a Matrix from it.

Every write is one transaction with a keyword-only actor.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from psaas_portal import inputs

from .choices import Phase, VersionStatus
from .hygiene import Finding, hygiene_findings
from .matrix import Cell, Matrix, Requirement, Row, from_data, parse_cell
from .models import (
    ChecklistRequirement,
    Party,
    Prerequisite,
    RaciTemplate,
    TemplateCell,
    TemplateTask,
    TemplateVersion,
    VersionParty,
)
from .order import cycle_message, find_cycle, requirements

__all__ = ["Finding", "hygiene_findings"]  # the editor page reads them from here too

SEED_TEMPLATE_PATH = Path(settings.BASE_DIR) / "fixtures" / "psaas-appliance-raci.json"
SEED_TEMPLATE_NAME = "PSaaS Appliance"


MAX_DUE_OFFSET_DAYS = 3650


class TemplateError(Exception):
    """A template change that is not allowed (for instance, editing a published version)."""


def _line(value: str, what: str) -> str:
    """A one-line text (a name, a role title, a condition): control characters refused."""
    try:
        return inputs.single_line(value, what)
    except inputs.InputError as exc:
        raise TemplateError(f"The {what} {exc.message}") from None


def _text(value: str, what: str) -> str:
    try:
        return inputs.multi_line(value, what)
    except inputs.InputError as exc:
        raise TemplateError(f"The {what} {exc.message}") from None


# --- Reads --------------------------------------------------------------------


def version_with_matrix(version_id: int) -> TemplateVersion:
    """A version with its columns, tasks, cells, prerequisites and checklist items in six
    queries."""
    return (
        TemplateVersion.objects.select_related("template")
        .prefetch_related(
            Prefetch("columns", queryset=VersionParty.objects.select_related("party")),
            Prefetch(
                "tasks",
                queryset=TemplateTask.objects.order_by("position").prefetch_related(
                    Prefetch("cells", queryset=TemplateCell.objects.select_related("party")),
                    Prefetch(
                        "prerequisites",
                        queryset=Prerequisite.objects.select_related("required").order_by(),
                    ),
                ),
            ),
            Prefetch(
                "checklist_requirements", queryset=ChecklistRequirement.objects.order_by("position")
            ),
        )
        .get(pk=version_id)
    )


def version_matrix(version: TemplateVersion) -> Matrix:
    return matrix_of(version_with_matrix(version.pk))


def matrix_of(version: TemplateVersion) -> Matrix:
    """The Matrix of a version loaded by `version_with_matrix` (no further queries)."""
    parties = [(c.party.name, c.party.is_vendor) for c in version.columns.all()]
    rows = [
        Row.of(
            task,
            task.cells.all(),
            due_offset_days=task.due_offset_days,
            requires=requirements(list(task.prerequisites.all())),
        )
        for task in version.tasks.all()
    ]
    return Matrix(
        title=f"{version.template.name} v{version.number}",
        parties=parties,
        rows=rows,
        general_division=version.general_division,
        raci_definitions=version.raci_definitions,
        checklist=[r.spec() for r in version.checklist_requirements.all()],
    )


# --- Writes -------------------------------------------------------------------


def _inherit_from_previous(matrix: Matrix, template: RaciTemplate) -> None:
    """A CSV carries no tracking, description, due offsets or checklist: keep the last version's."""
    previous = template.versions.order_by("-number").first()
    if previous is None:
        return
    earlier = {t.name.lower(): t for t in previous.tasks.prefetch_related("prerequisites")}
    for row in matrix.rows:
        old = earlier.get(row.name.lower())
        if old is not None:
            row.tracking = old.tracking
            row.key = row.key or old.key
            row.description = row.description or old.description
            row.due_offset_days = old.due_offset_days
            row.phase, row.four_eyes = old.phase, old.four_eyes
            row.tool = row.tool or old.tool
    # Prerequisites follow by task key or name, where the task they wait on is still there.
    refs = {row.ref for row in matrix.rows}
    names = {t.pk: (t.key or t.name) for t in previous.tasks.all()}
    for row in matrix.rows:
        old = earlier.get(row.name.lower())
        if old is not None and not row.requires:
            row.requires = tuple(
                sorted(
                    (
                        Requirement(names[p.required_id], p.until, p.environment, p.for_environment)
                        for p in old.prerequisites.all()
                        if names[p.required_id] in refs
                    ),
                    key=Requirement.text,
                )
            )
    if not matrix.checklist:
        matrix.checklist = [r.spec() for r in previous.checklist_requirements.order_by("position")]
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
            phase=row.phase,
            four_eyes=row.four_eyes,
            tool=row.tool,
        )
        for position, row in enumerate(matrix.rows, start=1)
    )
    by_ref = {row.ref: task for task, row in zip(tasks, matrix.rows, strict=True)}
    missing = [
        f"{row.name} waits on {r.task!r}, which is not a task of this version"
        for row in matrix.rows
        for r in row.requires
        if r.task not in by_ref
    ]
    if missing:
        raise TemplateError("; ".join(missing) + ".")
    Prerequisite.objects.bulk_create(
        Prerequisite(
            task=task,
            required=by_ref[r.task],
            until=r.until,
            environment=r.environment,
            for_environment=r.for_environment,
        )
        for task, row in zip(tasks, matrix.rows, strict=True)
        for r in row.requires
    )
    TemplateCell.objects.bulk_create(
        TemplateCell(task=task, party=parties[party_name], **cell.field_values())
        for task, row in zip(tasks, matrix.rows, strict=True)
        for party_name, cell in row.cells.items()
    )
    ChecklistRequirement.objects.bulk_create(
        ChecklistRequirement(version=version, position=position, **spec.as_dict())
        for position, spec in enumerate(matrix.checklist, start=1)
    )
    if publish:
        version = publish_version(version, actor=actor)
    return version


@transaction.atomic
def publish_version(
    version: TemplateVersion, *, actor=None, change_note: str | None = None
) -> TemplateVersion:
    """Publishes a draft. `change_note`: what changed, required when given (the editor always
    asks; None for an import or the seed, which publish without one)."""
    note = ""
    if change_note is not None:
        note = change_note.replace("\r\n", "\n").strip()
        if not note:
            raise TemplateError("Change note: say what changed in this version.")
        if len(note) > 2000:
            raise TemplateError("Change note: at most 2000 characters.")
    version = TemplateVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_draft:
        raise TemplateError(f"{version} is already published.")
    if not version.tasks.exists():
        raise TemplateError("A version with no tasks cannot be published.")
    cycle = find_cycle(version_matrix(version))
    if cycle:
        raise TemplateError(cycle_message(cycle) + " Remove one of them to publish.")
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    version.change_note = note
    version.save(update_fields=["status", "published_at", "published_by", "change_note"])
    return version


def change_notes(old: TemplateVersion, new: TemplateVersion) -> list[TemplateVersion]:
    """The published versions after `old` up to `new` of the same template, newest first:
    what their publishers said changed (one query)."""
    low, high = sorted((old.number, new.number))
    return list(
        TemplateVersion.objects.published()
        .filter(template_id=new.template_id, number__gt=low, number__lte=high)
        .order_by("-number")
    )


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


# --- The template editor (drafts only) ---------------------------------------------------


def _draft(version: TemplateVersion) -> TemplateVersion:
    """Locks the version row; every edit of a draft goes through here."""
    locked = (
        TemplateVersion.objects.select_for_update().select_related("template").get(pk=version.pk)
    )
    if not locked.is_draft:
        raise TemplateError(f"{locked} is published and frozen; start a new draft to change it.")
    return locked


def _task_of(version: TemplateVersion, task_id: int) -> TemplateTask:
    task = TemplateTask.objects.filter(version=version, pk=task_id).first()
    if task is None:
        raise TemplateError("That task is not in this draft.")
    return task


def _party_of(version: TemplateVersion, party_id: int) -> Party:
    column = (
        VersionParty.objects.filter(version=version, party_id=party_id)
        .select_related("party")
        .first()
    )
    if column is None:
        raise TemplateError("That party is not in this draft.")
    return column.party


@transaction.atomic
def start_draft(version: TemplateVersion, *, actor) -> TemplateVersion:
    """A new draft copied from a version; one draft per template at a time."""
    template = RaciTemplate.objects.select_for_update().get(pk=version.template_id)
    existing = template.versions.filter(status=VersionStatus.DRAFT).first()
    if existing is not None:
        raise TemplateError(
            f"{template.name} already has a draft (v{existing.number}); edit or publish it first."
        )
    return create_version(version_matrix(version), template_name=template.name, actor=actor)


@transaction.atomic
def set_cell(
    version: TemplateVersion,
    *,
    task_id: int,
    party_id: int,
    letters: str,
    condition: str = "",
    role_title: str = "",
    actor,
) -> TemplateCell:
    """Sets one cell's letters, condition and role title (validated like an imported cell)."""
    version = _draft(version)
    task = _task_of(version, task_id)
    party = _party_of(version, party_id)
    text = ", ".join(ch for ch in letters.upper() if ch.strip() and ch != ",")
    try:
        cell = parse_cell(text)
    except ValueError as exc:
        raise TemplateError(f"{task.name}, {party.name}: {exc}.") from None
    condition, role_title = condition.strip()[:120], role_title.strip()[:120]
    _line(condition, "condition")
    _line(role_title, "role title")
    if condition and not ({"C", "I"} & set(cell.letters)):
        raise TemplateError(f"{task.name}, {party.name}: a condition can only qualify C or I.")
    values = Cell(cell.letters, role_title, condition).field_values()
    obj, _ = TemplateCell.objects.update_or_create(task=task, party=party, defaults=values)
    return obj


@transaction.atomic
def toggle_letter(
    version: TemplateVersion, *, task_id: int, party_id: int, letter: str, actor
) -> TemplateCell:
    version = _draft(version)
    letter = letter.upper()
    if letter not in ("R", "A", "C", "I"):
        raise TemplateError(f"Unknown letter {letter!r}.")
    cell = TemplateCell.objects.filter(
        task__version=version, task_id=task_id, party_id=party_id
    ).first()
    current = cell.letters if cell else ""
    wanted = current.replace(letter, "") if letter in current else current + letter
    if not wanted:
        raise TemplateError(
            "A cell needs at least one letter; add another before removing this one."
        )
    return set_cell(
        version,
        task_id=task_id,
        party_id=party_id,
        letters=wanted,
        condition=cell.condition if cell and ({"C", "I"} & set(wanted)) else "",
        role_title=cell.role_title if cell else "",
        actor=actor,
    )


@transaction.atomic
def update_task(version: TemplateVersion, *, task_id: int, actor, **fields) -> TemplateTask:
    version = _draft(version)
    task = _task_of(version, task_id)
    allowed = {
        "name",
        "description",
        "notes",
        "is_optional",
        "tracking",
        "due_offset_days",
        "phase",
        "four_eyes",
        "tool",
    }
    for name, value in fields.items():
        if name not in allowed:
            raise TemplateError(f"Unknown task field {name}.")
        if name == "phase" and value not in Phase.values:
            raise TemplateError("Phase: choose onboarding or operations.")
        if isinstance(value, str):
            value = (_line if name == "name" else _text)(value.strip(), name)
        setattr(task, name, value)
    if not task.name:
        raise TemplateError("A task needs a name.")
    if (
        TemplateTask.objects.filter(version=version, name__iexact=task.name)
        .exclude(pk=task.pk)
        .exists()
    ):
        raise TemplateError(f"There is already a task named {task.name!r}.")
    task.save()
    return task


@transaction.atomic
def add_task(version: TemplateVersion, *, name: str, actor) -> TemplateTask:
    """Appends a task; every party starts Informed, to be edited."""
    version = _draft(version)
    name = _line(name.strip(), "task name")
    if not name:
        raise TemplateError("A task needs a name.")
    if version.tasks.filter(name__iexact=name).exists():
        raise TemplateError(f"There is already a task named {name!r}.")
    position = (version.tasks.aggregate(n=Max("position"))["n"] or 0) + 1
    task = TemplateTask.objects.create(version=version, position=position, name=name)
    TemplateCell.objects.bulk_create(
        TemplateCell(task=task, party_id=c.party_id, informed=True) for c in version.columns.all()
    )
    return task


@transaction.atomic
def remove_task(version: TemplateVersion, *, task_id: int, actor) -> None:
    version = _draft(version)
    task = _task_of(version, task_id)
    if version.tasks.count() == 1:
        raise TemplateError("A template needs at least one task.")
    task.delete()
    _renumber(version)


def _renumber(version: TemplateVersion) -> None:
    tasks = list(version.tasks.order_by("position"))
    # Two passes so the unique (version, position) constraint holds at every step.
    offset = len(tasks) + 1000
    for i, task in enumerate(tasks, start=1):
        TemplateTask.objects.filter(pk=task.pk).update(position=offset + i)
    for i, task in enumerate(tasks, start=1):
        TemplateTask.objects.filter(pk=task.pk).update(position=i)


@transaction.atomic
def move_task(version: TemplateVersion, *, task_id: int, up: bool, actor) -> None:
    version = _draft(version)
    task = _task_of(version, task_id)
    neighbour = (
        version.tasks.filter(position__lt=task.position).order_by("-position").first()
        if up
        else version.tasks.filter(position__gt=task.position).order_by("position").first()
    )
    if neighbour is None:
        return
    a, b = task.position, neighbour.position
    TemplateTask.objects.filter(pk=task.pk).update(position=0)
    TemplateTask.objects.filter(pk=neighbour.pk).update(position=a)
    TemplateTask.objects.filter(pk=task.pk).update(position=b)


@transaction.atomic
def add_party(version: TemplateVersion, *, name: str, is_vendor: bool = False, actor) -> Party:
    """Adds a column; the party starts Informed on every task."""
    version = _draft(version)
    name = _line(name.strip(), "party name")
    if not name:
        raise TemplateError("A party needs a name.")
    party, created = Party.objects.get_or_create(name=name, defaults={"is_vendor": is_vendor})
    if not created and version.columns.filter(party=party).exists():
        raise TemplateError(f"{name} is already a party of this draft.")
    position = (version.columns.aggregate(n=Max("position"))["n"] or 0) + 1
    VersionParty.objects.create(version=version, party=party, position=position)
    TemplateCell.objects.bulk_create(
        TemplateCell(task=t, party=party, informed=True) for t in version.tasks.all()
    )
    return party


@transaction.atomic
def remove_party(version: TemplateVersion, *, party_id: int, actor) -> None:
    version = _draft(version)
    party = _party_of(version, party_id)
    if version.columns.count() == 1:
        raise TemplateError("A template needs at least one party.")
    TemplateCell.objects.filter(task__version=version, party=party).delete()
    VersionParty.objects.filter(version=version, party=party).delete()
