"""The template editor's writes to a draft's Infrastructure Checklist items.

Each is one transaction on a locked draft (as the task edits are); an item definition is
checked by raci.checklist_values.check_spec, and keys stay unique in the version.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from .checklist_values import ChecklistSpec, ValueRefused, check_spec
from .choices import NUMERIC_KINDS, ValueKind
from .models import ChecklistRequirement, TemplateVersion
from .services import TemplateError, _draft

EDITABLE = ("label", "requirement", "kind", "required", "min_value", "max_value")


def _requirement_of(version: TemplateVersion, requirement_id: int) -> ChecklistRequirement:
    requirement = ChecklistRequirement.objects.filter(version=version, pk=requirement_id).first()
    if requirement is None:
        raise TemplateError("That checklist item is not in this draft.")
    return requirement


def _checked(spec: ChecklistSpec) -> ChecklistSpec:
    if spec.kind not in NUMERIC_KINDS:  # a bound left in the form of another kind means nothing
        spec = ChecklistSpec(**{**spec.as_dict(), "min_value": None, "max_value": None})
    try:
        check_spec(spec)
    except ValueRefused as exc:
        raise TemplateError(exc.message) from None
    return spec


@transaction.atomic
def add_requirement(
    version: TemplateVersion,
    *,
    key: str,
    label: str,
    kind: str = ValueKind.TEXT,
    requirement: str = "",
    actor: Any,
) -> ChecklistRequirement:
    """Appends an item to the draft's checklist; its value is required by default."""
    version = _draft(version)
    spec = _checked(
        ChecklistSpec(
            key=key.strip().lower(), label=label.strip(), requirement=requirement, kind=kind
        )
    )
    if version.checklist_requirements.filter(key=spec.key).exists():
        raise TemplateError(f"There is already a checklist item with the key {spec.key!r}.")
    position = (version.checklist_requirements.aggregate(n=Max("position"))["n"] or 0) + 1
    return ChecklistRequirement.objects.create(version=version, position=position, **spec.as_dict())


@transaction.atomic
def update_requirement(
    version: TemplateVersion, *, requirement_id: int, actor: Any, **fields: Any
) -> ChecklistRequirement:
    """Changes an item's label, requirement, kind, whether its value is required, and its range.
    The key stays: engagements find the item by it across versions."""
    version = _draft(version)
    item = _requirement_of(version, requirement_id)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TemplateError(f"Unknown checklist item field {', '.join(sorted(unknown))}.")
    values = {**item.spec().as_dict(), **fields}
    for name in ("label", "requirement"):
        values[name] = str(values[name]).strip()
    spec = _checked(ChecklistSpec(**values))
    for name in EDITABLE:
        setattr(item, name, getattr(spec, name))
    item.save()
    return item


@transaction.atomic
def remove_requirement(version: TemplateVersion, *, requirement_id: int, actor: Any) -> None:
    version = _draft(version)
    _requirement_of(version, requirement_id).delete()
    for position, item in enumerate(version.checklist_requirements.order_by("position"), start=1):
        if item.position != position:  # moving down only, so no two rows collide
            ChecklistRequirement.objects.filter(pk=item.pk).update(position=position)


@transaction.atomic
def move_requirement(
    version: TemplateVersion, *, requirement_id: int, up: bool, actor: Any
) -> None:
    version = _draft(version)
    item = _requirement_of(version, requirement_id)
    items = version.checklist_requirements
    neighbour = (
        items.filter(position__lt=item.position).order_by("-position").first()
        if up
        else items.filter(position__gt=item.position).order_by("position").first()
    )
    if neighbour is None:
        return
    a, b = item.position, neighbour.position
    ChecklistRequirement.objects.filter(pk=item.pk).update(position=0)
    ChecklistRequirement.objects.filter(pk=neighbour.pk).update(position=a)
    ChecklistRequirement.objects.filter(pk=item.pk).update(position=b)
