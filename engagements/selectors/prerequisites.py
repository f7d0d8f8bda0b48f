"""What a task waits on: its template task's prerequisites (raci.Prerequisite), resolved
against the engagement's live tasks with the template world's own reading of environments
(raci.prerequisites), so the editor's cycle check and the live order agree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engagements.choices import TaskStatus
from engagements.models import EngagementTask
from psaas_portal import prepared
from raci.choices import PrerequisiteUntil
from raci.models import Prerequisite
from raci.order import applies_to, required_environments

# The moves a task's prerequisites hold back: starting it and completing it.
STARTING = (TaskStatus.IN_PROGRESS, TaskStatus.DONE)
MET = {
    PrerequisiteUntil.DONE: {TaskStatus.DONE, TaskStatus.SIGNED_OFF, TaskStatus.NOT_APPLICABLE},
    PrerequisiteUntil.SIGNED_OFF: {TaskStatus.SIGNED_OFF, TaskStatus.NOT_APPLICABLE},
}


@dataclass(frozen=True)
class Wait:
    """One unmet prerequisite: the live task waited on and how far it must get."""

    task: EngagementTask
    until: str

    @property
    def until_label(self) -> str:
        return str(PrerequisiteUntil(self.until).label)

    @property
    def text(self) -> str:
        """ "Deployment to Development and Production environments [Development] signed off" """
        return f"{self.task.label} {self.until_label}"

    @property
    def now(self) -> str:
        return self.task.get_status_display().lower()


def rules_of_version(version_id: int) -> dict[int, list[Prerequisite]]:
    """Template task id -> its prerequisites (one query)."""
    out: dict[int, list[Prerequisite]] = {}
    for p in prepared.rows(("rules of version",), _rules_query, version_id=version_id):
        out.setdefault(p.task_id, []).append(p)
    return out


def _rules_query(version_id: int):
    return Prerequisite.objects.filter(task__version_id=version_id).select_related("required")


def unmet(
    task: EngagementTask,
    rules: dict[int, list[Prerequisite]],
    live_by_template_task: dict[int, list[EngagementTask]],
) -> list[Wait]:
    """The prerequisites of `task` not met now (no queries: the caller passes the rules of
    the version and the engagement's live tasks by template task)."""
    out: list[Wait] = []
    for p in rules.get(task.template_task_id or 0, []):
        if not applies_to(p.for_environment, task.environment):
            continue
        envs = required_environments(p.environment, task.environment, p.required.tracking)
        for required in live_by_template_task.get(p.required_id, []):
            if required.pk == task.pk or (envs is not None and required.environment not in envs):
                continue
            if required.status not in MET[PrerequisiteUntil(p.until)]:
                out.append(Wait(required, p.until))
    return out


def by_template_task(tasks: Iterable[EngagementTask]) -> dict[int, list[EngagementTask]]:
    out: dict[int, list[EngagementTask]] = {}
    for task in tasks:
        if task.template_task_id and task.retired_at is None:
            out.setdefault(task.template_task_id, []).append(task)
    return out


def waits_of_tasks(
    tasks: list[EngagementTask], version_id: int, *, all_tasks: list[EngagementTask] | None = None
) -> dict[int, list[Wait]]:
    """Task id -> its unmet prerequisites, for tasks of one engagement (one query; `all_tasks`
    are the engagement's live tasks when the caller has them, else `tasks` must be all)."""
    rules = rules_of_version(version_id)
    live = by_template_task(all_tasks if all_tasks is not None else tasks)
    return {task.pk: unmet(task, rules, live) for task in tasks}


def waits_of(task: EngagementTask) -> list[Wait]:
    """One task's unmet prerequisites (two queries; none when it has no prerequisites, and
    none at all when the task was read with `has_prerequisites` False: selectors.locked)."""
    if task.__dict__.get("has_prerequisites") is False:
        return []
    rules = {
        task.template_task_id or 0: list(
            Prerequisite.objects.filter(task_id=task.template_task_id).select_related("required")
        )
    }
    required = {p.required_id for p in rules[task.template_task_id or 0]}
    if not required:
        return []
    live = EngagementTask.objects.live().filter(
        engagement_id=task.engagement_id, template_task_id__in=required
    )
    return unmet(task, rules, by_template_task(live))


def now_ready(done: EngagementTask) -> list[EngagementTask]:
    """The live tasks that wait on `done` (a prerequisite concerning its row) and whose
    prerequisites are all met now: the ones whose turn it has become. Three queries, none
    when no task waits on it."""
    if not Prerequisite.objects.filter(required_id=done.template_task_id).exists():
        return []
    rules = rules_of_version(done.engagement.template_version_id)
    all_live = list(
        EngagementTask.objects.live()
        .filter(engagement_id=done.engagement_id)
        .prefetch_related("parties__party")
    )
    live = by_template_task(all_live)
    ready = []
    for task in all_live:
        if task.status not in (TaskStatus.NOT_STARTED, TaskStatus.REOPENED):
            continue
        concerned = [
            p
            for p in rules.get(task.template_task_id or 0, [])
            if p.required_id == done.template_task_id
            and applies_to(p.for_environment, task.environment)
            and _concerns(p, task, done)
        ]
        if concerned and not unmet(task, rules, live):
            ready.append(task)
    return ready


def _concerns(p: Prerequisite, task: EngagementTask, done: EngagementTask) -> bool:
    envs = required_environments(p.environment, task.environment, p.required.tracking)
    return envs is None or done.environment in envs
