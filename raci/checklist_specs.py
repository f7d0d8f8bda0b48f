"""A template version's Infrastructure Checklist items as a document: written to and read
from the matrix's JSON, and compared between versions like the tasks are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .checklist_values import ChecklistSpec, ValueRefused, check_spec
from .choices import ValueKind


def specs_to_data(specs: list[ChecklistSpec]) -> list[dict[str, Any]]:
    return [spec.as_dict() for spec in specs]


def specs_from_data(items: Any, problems: list[str]) -> list[ChecklistSpec]:
    """Reads the 'checklist' list of a matrix document; each problem names the item."""
    if items is None:
        return []
    if not isinstance(items, list):
        problems.append("'checklist' must be a list of items")
        return []
    specs: list[ChecklistSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(items, start=1):
        where = f"checklist item {index}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: not an object")
            continue
        try:
            spec = ChecklistSpec(
                key=str(raw.get("key", "")).strip(),
                label=str(raw.get("label", "")).strip(),
                requirement=str(raw.get("requirement", "")).strip(),
                kind=str(raw.get("kind", ValueKind.TEXT)),
                required=bool(raw.get("required", True)),
                min_value=raw.get("min_value"),
                max_value=raw.get("max_value"),
            )
            check_spec(spec)
        except ValueRefused as exc:
            problems.append(f"{where}: {exc.message}")
            continue
        if spec.key in seen:
            problems.append(f"{where}: duplicate key {spec.key!r}")
            continue
        seen.add(spec.key)
        specs.append(spec)
    return specs


@dataclass
class ChecklistDiff:
    added: list[ChecklistSpec]
    removed: list[ChecklistSpec]
    changed: list[tuple[ChecklistSpec, list[str]]]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _kind_label(kind: str) -> str:
    return ValueKind(kind).label if kind in ValueKind.values else kind


def _changes(old: ChecklistSpec, new: ChecklistSpec) -> list[str]:
    changes = []
    if old.label != new.label:
        changes.append(f"renamed from {old.label!r}")
    if old.requirement != new.requirement:
        changes.append("requirement changed")
    if old.kind != new.kind:
        changes.append(f"value {_kind_label(old.kind)} → {_kind_label(new.kind)}")
    if old.required != new.required:
        changes.append("value now required" if new.required else "value now optional")
    for name, what in (("min_value", "minimum"), ("max_value", "maximum")):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.append(
                f"{what} {'—' if before is None else before} → {'—' if after is None else after}"
            )
    return changes


def compare_specs(old: list[ChecklistSpec], new: list[ChecklistSpec]) -> ChecklistDiff:
    """Items are the same across versions when their keys match."""
    old_by_key = {s.key: s for s in old}
    new_by_key = {s.key: s for s in new}
    changed = []
    for key, spec in new_by_key.items():
        if key in old_by_key and (changes := _changes(old_by_key[key], spec)):
            changed.append((spec, changes))
    return ChecklistDiff(
        added=[s for k, s in new_by_key.items() if k not in old_by_key],
        removed=[s for k, s in old_by_key.items() if k not in new_by_key],
        changed=changed,
    )
