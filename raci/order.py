"""The order a template's tasks are worked in, as data (raci.Prerequisite rows).

A row waits on other rows (see raci.Prerequisite and raci.matrix.Requirement). Both the
template world (cycles are refused) and the live work (what a task waits on) resolve a
prerequisite to the environments it concerns with `required_environments`, so the two
read the rule the same way.
"""

from __future__ import annotations

from .choices import ENVIRONMENTS, PrerequisiteUntil, Tracking
from .matrix import Matrix, Requirement, Row
from .models import Prerequisite, TemplateTask

ENV_VALUES = [value for value, _ in ENVIRONMENTS]


def per_environment(tracking: str) -> bool:
    return tracking == Tracking.PER_ENVIRONMENT


def applies_to(for_environment: str, waiting_environment: str) -> bool:
    """Whether a prerequisite limited to `for_environment` concerns this row of the waiting
    task (rows of a task tracked once have no environment and are always concerned)."""
    return not for_environment or not waiting_environment or for_environment == waiting_environment


def required_environments(
    environment: str, waiting_environment: str, required_tracking: str
) -> list[str] | None:
    """The environments of the required task that must be far enough: one named environment,
    the waiting row's own environment where both are per environment, else None (every row
    of the required task)."""
    if not per_environment(required_tracking):
        return None
    if environment:
        return [environment]
    if waiting_environment:
        return [waiting_environment]
    return None


def requirement_of(p: Prerequisite) -> Requirement:
    """A stored prerequisite as the matrix document names it (`required` loaded)."""
    return Requirement(p.required.key or p.required.name, p.until, p.environment, p.for_environment)


def requirements(prerequisites: list[Prerequisite]) -> tuple[Requirement, ...]:
    return tuple(sorted((requirement_of(p) for p in prerequisites), key=Requirement.text))


def _nodes(row: Row) -> list[tuple[str, str]]:
    envs = ENV_VALUES if per_environment(row.tracking) else [""]
    return [(row.ref, env) for env in envs]


def find_cycle(matrix: Matrix) -> list[str]:
    """A chain of rows that wait on each other in a circle ([] when there is none)."""
    rows = {row.ref: row for row in matrix.rows}
    edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in matrix.rows:
        for node in _nodes(row):
            targets = edges.setdefault(node, [])
            for req in row.requires:
                required = rows.get(req.task)
                if required is None or not applies_to(req.for_environment, node[1]):
                    continue
                envs = required_environments(req.environment, node[1], required.tracking)
                targets += [n for n in _nodes(required) if envs is None or n[1] in envs]
    state: dict[tuple[str, str], int] = {}  # 1 visiting, 2 done
    path: list[tuple[str, str]] = []

    def visit(node: tuple[str, str]) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                loop = [*path[path.index(nxt) :], nxt]
                return [_label(rows[ref], env) for ref, env in loop]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in edges:
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return []


def _label(row: Row, env: str) -> str:
    return f"{row.name} ({dict(ENVIRONMENTS)[env]})" if env else row.name


def cycle_message(cycle: list[str]) -> str:
    return "The prerequisites go round in a circle: " + " → ".join(cycle) + "."


# --- Editing a draft's prerequisites -----------------------------------------------------


class PrerequisiteError(Exception):
    """A prerequisite that cannot be added (the message names the field)."""


def clean_requirement(
    task: TemplateTask,
    required: TemplateTask,
    *,
    until: str,
    environment: str,
    for_environment: str,
) -> Requirement:
    if required.version_id != task.version_id:
        raise PrerequisiteError("Required task: that task is not in this draft.")
    if until not in PrerequisiteUntil.values:
        raise PrerequisiteError("Until: choose done or signed off.")
    for field, value in (("Environment", environment), ("For environment", for_environment)):
        if value and value not in ENV_VALUES:
            raise PrerequisiteError(f"{field}: unknown environment {value!r}.")
    if environment and not per_environment(required.tracking):
        raise PrerequisiteError(
            f"Environment: {required.name} is not tracked per environment; leave it empty."
        )
    if for_environment and not per_environment(task.tracking):
        raise PrerequisiteError(
            f"For environment: {task.name} is not tracked per environment; leave it empty."
        )
    if required.pk == task.pk and not (environment and for_environment != environment):
        raise PrerequisiteError(
            "Required task: a task can only wait on another environment of itself "
            "(e.g. Production on Development)."
        )
    return Requirement(required.key or required.name, until, environment, for_environment)


def check_no_cycle(matrix: Matrix) -> None:
    cycle = find_cycle(matrix)
    if cycle:
        raise PrerequisiteError(cycle_message(cycle))
