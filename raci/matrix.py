"""The matrix as a document: reading and writing it as CSV, JSON and a terminal table.

One shape serves every source (a template version, an engagement's copy): a
`Matrix` of parties and rows, each row holding one `Cell` per party. The CSV
cell format is the seed's: letters in R, A, C, I order joined by ", ", then
" - " and the role title, then " (" condition ")", e.g.
"C, I (in the event that there are issues)" or "R, A - Auth0 Customer Success Engineer".
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from psaas_portal import csvsafe

from .checklist_specs import specs_from_data, specs_to_data
from .checklist_values import ChecklistSpec
from .choices import ENVIRONMENTS, LETTER_FIELDS, LETTERS, Phase, PrerequisiteUntil, Tracking

OPTIONAL_SUFFIX = " (if required)"


@dataclass(frozen=True)
class Cell:
    letters: str  # canonical order, e.g. "RA"
    role_title: str = ""
    condition: str = ""

    @classmethod
    def of(cls, obj: Any) -> Cell:
        """From any model with the LetterFields fields."""
        return cls(letters=obj.letters, role_title=obj.role_title, condition=obj.condition)

    def text(self) -> str:
        text = ", ".join(self.letters)
        if self.role_title:
            text += f" - {self.role_title}"
        if self.condition:
            text += f" ({self.condition})"
        return text

    def field_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {f: letter in self.letters for letter, f in LETTER_FIELDS.items()}
        values.update(role_title=self.role_title, condition=self.condition)
        return values


@dataclass(frozen=True)
class Requirement:
    """A prerequisite of a row: the row it names (by key, or by name where it has none),
    how far that row must be, and the environments it concerns (see raci.Prerequisite)."""

    task: str
    until: str = PrerequisiteUntil.DONE
    environment: str = ""
    for_environment: str = ""

    def text(self) -> str:
        env = dict(ENVIRONMENTS)
        what = f"{self.task} ({env[self.environment]})" if self.environment else self.task
        until = dict(PrerequisiteUntil.choices)[self.until]
        where = f" [for {env[self.for_environment]}]" if self.for_environment else ""
        return f"{what} {until}{where}"


@dataclass
class Row:
    name: str
    cells: dict[str, Cell]  # party name -> cell
    notes: str = ""
    key: str = ""
    description: str = ""
    is_optional: bool = False
    tracking: str = Tracking.ONCE
    due_offset_days: int | None = None
    phase: str = Phase.ONBOARDING
    four_eyes: bool = False
    tool: str = ""
    requires: tuple[Requirement, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """How other rows name this one in their prerequisites."""
        return self.key or self.name

    @property
    def display_name(self) -> str:
        return self.name + OPTIONAL_SUFFIX if self.is_optional else self.name

    @classmethod
    def of(cls, task: Any, cells: Iterable[Any], **more: Any) -> Row:
        """A row from a task (of a template version, or a copy of one) and its cells."""
        return cls(
            name=task.name,
            key=task.key,
            cells={cell.party.name: Cell.of(cell) for cell in cells},
            notes=task.notes,
            description=task.description,
            is_optional=task.is_optional,
            tracking=task.tracking,
            phase=getattr(task, "phase", Phase.ONBOARDING),
            four_eyes=getattr(task, "four_eyes", False),
            tool=getattr(task, "tool", ""),
            **more,
        )


@dataclass
class Matrix:
    title: str
    parties: list[tuple[str, bool]]  # (name, is_vendor), in column order
    rows: list[Row]
    general_division: str = ""
    raci_definitions: str = ""
    # The Infrastructure Checklist's items (a CSV carries none).
    checklist: list[ChecklistSpec] = field(default_factory=list)

    @property
    def party_names(self) -> list[str]:
        return [name for name, _ in self.parties]


class MatrixFormatError(ValueError):
    """A matrix document that cannot be read; `problems` name line and column."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


# --- Writing ------------------------------------------------------------------


def to_csv(matrix: Matrix) -> str:
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\n")
    writer.writerow(["task", *matrix.party_names, "notes"])
    for row in matrix.rows:
        cells = [row.cells[p].text() if p in row.cells else "" for p in matrix.party_names]
        writer.writerow([row.display_name, *cells, row.notes])
    return out.getvalue()


def to_data(matrix: Matrix) -> dict[str, Any]:
    return {
        "title": matrix.title,
        "general_division": matrix.general_division,
        "raci_definitions": matrix.raci_definitions,
        "parties": [{"name": name, "is_vendor": vendor} for name, vendor in matrix.parties],
        "tasks": [
            {
                "key": row.key,
                "name": row.name,
                "optional": row.is_optional,
                "tracking": row.tracking,
                "due_offset_days": row.due_offset_days,
                "phase": row.phase,
                "four_eyes": row.four_eyes,
                "tool": row.tool,
                "requires": [
                    {
                        "task": r.task,
                        "until": r.until,
                        "environment": r.environment,
                        "for_environment": r.for_environment,
                    }
                    for r in row.requires
                ],
                "description": row.description,
                "notes": row.notes,
                "cells": {
                    party: {
                        "letters": list(cell.letters),
                        "role_title": cell.role_title,
                        "condition": cell.condition,
                        "text": cell.text(),
                    }
                    for party, cell in row.cells.items()
                },
                **row.extra,
            }
            for row in matrix.rows
        ],
        "checklist": specs_to_data(matrix.checklist),
    }


def to_json(matrix: Matrix) -> str:
    return json.dumps(to_data(matrix), indent=2, ensure_ascii=False) + "\n"


def to_table(matrix: Matrix, width: int = 34) -> str:
    """A plain-text grid for a terminal."""
    headers = ["#", "task", *matrix.party_names]
    rows = [
        [
            str(i),
            row.display_name,
            *(row.cells[p].text() if p in row.cells else "" for p in matrix.party_names),
        ]
        for i, row in enumerate(matrix.rows, start=1)
    ]
    widths = [min(width, max(len(r[c]) for r in [headers, *rows])) for c in range(len(headers))]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            (cell if len(cell) <= w else cell[: w - 1] + "…").ljust(w)
            for cell, w in zip(cells, widths, strict=True)
        ).rstrip()

    lines = [matrix.title, fmt(headers), fmt(["-" * w for w in widths])]
    lines += [fmt(r) for r in rows]
    return "\n".join(lines) + "\n"


# --- Reading ------------------------------------------------------------------


def parse_cell(text: str) -> Cell:
    """Reads one cell; raises ValueError with a reason a person can act on."""
    text = text.strip()
    if not text:
        raise ValueError("the cell is empty; every party needs at least one of R, A, C, I")
    condition = ""
    if text.endswith(")") and " (" in text:
        text, condition = text[:-1].rsplit(" (", 1)
        condition = condition.strip()
        if not condition:
            raise ValueError("the condition in parentheses is empty")
    role_title = ""
    if " - " in text:
        text, role_title = text.split(" - ", 1)
        role_title = role_title.strip()
    tokens = [t.strip() for t in text.split(",")]
    seen: list[str] = []
    for token in tokens:
        if token not in LETTER_FIELDS:
            raise ValueError(f"unknown letter {token!r}; use R, A, C or I separated by commas")
        if token in seen:
            raise ValueError(f"the letter {token} is given twice")
        seen.append(token)
    letters = "".join(letter for letter, _, _ in LETTERS if letter in seen)
    if condition and not ({"C", "I"} & set(letters)):
        raise ValueError("a condition can only qualify C or I")
    return Cell(letters=letters, role_title=role_title, condition=condition)


def from_csv(content: str | bytes, title: str = "") -> Matrix:
    """Reads the CSV `to_csv` writes. Every problem is reported with its line and column."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MatrixFormatError(["the file is not UTF-8 text; is it a CSV file?"]) from None
    if "\x00" in content:
        raise MatrixFormatError(["the file is binary, not CSV"])
    try:
        records = list(csv.reader(io.StringIO(content, newline=""), strict=True))
    except csv.Error as exc:
        raise MatrixFormatError([f"the file is not valid CSV: {exc}"]) from None
    records = [[csvsafe.restore(cell) for cell in r] for r in records]  # as to_csv quoted them
    records = [(n, r) for n, r in enumerate(records, start=1) if any(c.strip() for c in r)]
    if not records:
        raise MatrixFormatError(["the file is empty"])
    line, header = records[0]
    header = [h.strip() for h in header]
    problems: list[str] = []
    if len(header) < 3 or header[0].lower() != "task" or header[-1].lower() != "notes":
        raise MatrixFormatError(
            [
                f"line {line}: the header must be task,<party>,<party>,…,notes (at least one party column)"
            ]
        )
    parties = header[1:-1]
    for col, party in enumerate(parties, start=2):
        if not party:
            problems.append(f"line {line}, column {col}: a party column has no name")
        elif parties.index(party) != col - 2:
            problems.append(f"line {line}, column {col} ({party}): the party column is repeated")
    if problems:
        raise MatrixFormatError(problems)
    rows: list[Row] = []
    seen_names: dict[str, int] = {}
    for line, record in records[1:]:
        if len(record) != len(header):
            problems.append(
                f"line {line}: {len(record)} columns, expected {len(header)} "
                f"(task, {', '.join(parties)}, notes); is a party column missing?"
            )
            continue
        display = record[0].strip()
        if not display:
            problems.append(f"line {line}, column 1 (task): the task has no name")
            continue
        optional = display.endswith(OPTIONAL_SUFFIX)
        name = display[: -len(OPTIONAL_SUFFIX)].strip() if optional else display
        if name.lower() in seen_names:
            problems.append(
                f"line {line}, column 1 (task): duplicate task {name!r} (first on line {seen_names[name.lower()]})"
            )
            continue
        seen_names[name.lower()] = line
        cells: dict[str, Cell] = {}
        for col, party in enumerate(parties, start=2):
            try:
                cells[party] = parse_cell(record[col - 1])
            except ValueError as exc:
                problems.append(f"line {line}, column {col} ({party}): {exc}")
        rows.append(Row(name=name, cells=cells, notes=record[-1].strip(), is_optional=optional))
    if not rows and not problems:
        problems.append("the file has a header but no tasks")
    if problems:
        raise MatrixFormatError(problems)
    return Matrix(title=title, parties=[(p, False) for p in parties], rows=rows)


def _requirement(raw: Any) -> Requirement:
    envs = dict(ENVIRONMENTS)
    task = str(raw["task"]).strip()
    until = raw.get("until", PrerequisiteUntil.DONE)
    environment, for_environment = raw.get("environment", ""), raw.get("for_environment", "")
    if not task:
        raise ValueError("a prerequisite needs the task it waits on")
    if until not in PrerequisiteUntil.values:
        raise ValueError(f"until must be one of {', '.join(PrerequisiteUntil.values)}")
    for value in (environment, for_environment):
        if value and value not in envs:
            raise ValueError(f"unknown environment {value!r}")
    return Requirement(task, until, environment, for_environment)


def from_data(data: Any) -> Matrix:
    """Reads the JSON document `to_data` writes (the fixtures use it too)."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), list):
        raise MatrixFormatError(["the JSON document needs a 'parties' list and a 'tasks' list"])
    parties_raw = data.get("parties")
    if not isinstance(parties_raw, list) or not parties_raw:
        raise MatrixFormatError(["the JSON document needs a non-empty 'parties' list"])
    parties = [(str(p["name"]), bool(p.get("is_vendor", False))) for p in parties_raw]
    names = [n for n, _ in parties]
    rows: list[Row] = []
    seen: set[str] = set()
    for index, task in enumerate(data["tasks"], start=1):
        where = f"task {index}"
        name = str(task.get("name", "")).strip()
        if not name:
            problems.append(f"{where}: the task has no name")
            continue
        if name.lower() in seen:
            problems.append(f"{where}: duplicate task {name!r}")
            continue
        seen.add(name.lower())
        tracking = task.get("tracking", Tracking.ONCE)
        if tracking not in Tracking.values:
            problems.append(f"{where} ({name}): unknown tracking {tracking!r}")
        offset = task.get("due_offset_days")
        if offset is not None and (type(offset) is not int or not 0 <= offset <= 3650):
            problems.append(
                f"{where} ({name}): due_offset_days must be a whole number from 0 to 3650"
            )
        cells: dict[str, Cell] = {}
        for party in names:
            raw = task.get("cells", {}).get(party)
            if raw is None:
                problems.append(f"{where} ({name}), party {party}: no cell")
                continue
            text = ", ".join(raw.get("letters", []))
            try:
                cell = parse_cell(text)
            except ValueError as exc:
                problems.append(f"{where} ({name}), party {party}: {exc}")
                continue
            cells[party] = Cell(cell.letters, raw.get("role_title", ""), raw.get("condition", ""))
        phase = task.get("phase", Phase.ONBOARDING)
        if phase not in Phase.values:
            problems.append(f"{where} ({name}): unknown phase {phase!r}")
        requires = []
        for raw in task.get("requires", []) or []:
            try:
                requires.append(_requirement(raw))
            except (ValueError, TypeError, AttributeError) as exc:
                problems.append(f"{where} ({name}), requires: {exc}")
        rows.append(
            Row(
                name=name,
                key=str(task.get("key", "")),
                cells=cells,
                notes=task.get("notes", ""),
                description=task.get("description", ""),
                is_optional=bool(task.get("optional", False)),
                tracking=tracking,
                due_offset_days=task.get("due_offset_days"),
                phase=phase,
                four_eyes=bool(task.get("four_eyes", False)),
                tool=str(task.get("tool") or "").strip()[:120],
                requires=tuple(sorted(requires, key=Requirement.text)),
            )
        )
    refs = {row.ref for row in rows}
    for row in rows:
        for r in row.requires:
            if r.task not in refs:
                problems.append(f"{row.name}: the prerequisite names an unknown task {r.task!r}")
    checklist = specs_from_data(data.get("checklist"), problems)
    if problems:
        raise MatrixFormatError(problems)
    return Matrix(
        title=str(data.get("title", "")),
        parties=parties,
        rows=rows,
        general_division=data.get("general_division", ""),
        raci_definitions=data.get("raci_definitions", ""),
        checklist=checklist,
    )
