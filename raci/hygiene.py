"""RACI hygiene: good practice the editor shows, and the one error that blocks publishing
(prerequisites that go round in a circle)."""

from __future__ import annotations

from dataclasses import dataclass

from .matrix import Cell, Matrix
from .order import cycle_message, find_cycle


@dataclass(frozen=True)
class Finding:
    """A RACI hygiene finding: a warning shown to the editor, or an error (a prerequisite
    cycle) that blocks publishing."""

    task: str
    message: str
    is_error: bool = False


def hygiene_findings(matrix: Matrix) -> list[Finding]:
    """Good practice: exactly one Accountable and at least one Responsible party per task;
    prerequisites that never go round in a circle (an error)."""
    findings: list[Finding] = []
    cycle = find_cycle(matrix)
    if cycle:
        findings.append(Finding(cycle[0], cycle_message(cycle), is_error=True))
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
