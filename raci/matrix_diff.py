"""Comparing two matrices (a draft against the version it was made from, or two versions):
parties, tasks added, removed and changed cell by cell, and the checklist's items."""

from __future__ import annotations

from dataclasses import dataclass, field

from .checklist_specs import ChecklistDiff, compare_specs
from .matrix import Matrix, Requirement, Row


@dataclass
class RowChange:
    old: Row
    new: Row
    changes: list[str]


@dataclass
class MatrixDiff:
    parties_added: list[str]
    parties_removed: list[str]
    added: list[Row]
    removed: list[Row]
    changed: list[RowChange]
    unchanged: list[Row]
    checklist: ChecklistDiff = field(default_factory=lambda: ChecklistDiff([], [], []))

    @property
    def is_empty(self) -> bool:
        return not (
            self.parties_added
            or self.parties_removed
            or self.added
            or self.removed
            or self.changed
            or not self.checklist.is_empty
        )


def row_identity(row: Row) -> str:
    """Rows are the same task across versions when their keys match (or, without keys, their names)."""
    return f"key:{row.key}" if row.key else f"name:{row.name.lower()}"


def _row_changes(old: Row, new: Row, parties: list[str]) -> list[str]:
    changes = []
    if old.name != new.name:
        changes.append(f"renamed from {old.name!r}")
    for party in parties:
        before, after = old.cells.get(party), new.cells.get(party)
        if before != after:
            changes.append(
                f"{party}: {before.text() if before else '—'} → {after.text() if after else '—'}"
            )
    if old.notes != new.notes:
        changes.append("notes changed")
    if old.description != new.description:
        changes.append("description changed")
    if old.is_optional != new.is_optional:
        changes.append("now optional" if new.is_optional else "no longer optional")
    if old.tracking != new.tracking:
        changes.append(f"tracking {old.tracking} → {new.tracking}")
    if old.phase != new.phase:
        changes.append(f"phase {old.phase} → {new.phase}")
    if old.four_eyes != new.four_eyes:
        changes.append("sign-off now needs four eyes" if new.four_eyes else "four eyes no longer")
    if old.tool != new.tool:
        changes.append(f"tool {old.tool or '(none)'} → {new.tool or '(none)'}")
    before, after = set(old.requires), set(new.requires)
    for r in sorted(after - before, key=Requirement.text):
        changes.append(f"now waits on {r.text()}")
    for r in sorted(before - after, key=Requirement.text):
        changes.append(f"no longer waits on {r.text()}")
    return changes


def compare(old: Matrix, new: Matrix) -> MatrixDiff:
    """What changed between two matrices: parties, tasks added, removed and changed (cell by
    cell), and the Infrastructure Checklist's items added, removed and changed."""
    old_rows = {row_identity(r): r for r in old.rows}
    new_rows = {row_identity(r): r for r in new.rows}
    parties = list(dict.fromkeys([*old.party_names, *new.party_names]))
    changed, unchanged = [], []
    for ident, new_row in new_rows.items():
        old_row = old_rows.get(ident)
        if old_row is None:
            continue
        changes = _row_changes(old_row, new_row, parties)
        if changes:
            changed.append(RowChange(old_row, new_row, changes))
        else:
            unchanged.append(new_row)
    return MatrixDiff(
        parties_added=[p for p in new.party_names if p not in old.party_names],
        parties_removed=[p for p in old.party_names if p not in new.party_names],
        added=[r for i, r in new_rows.items() if i not in old_rows],
        removed=[r for i, r in old_rows.items() if i not in new_rows],
        changed=changed,
        unchanged=unchanged,
        checklist=compare_specs(old.checklist, new.checklist),
    )
