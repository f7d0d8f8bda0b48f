"""Editing a draft's prerequisites: the order its tasks are worked in (see raci.order).
Each edit is one transaction on a draft; a cycle, an unknown task or an environment the
tasks do not have is refused naming the field, and nothing is saved."""

from __future__ import annotations

from django.db import transaction

from . import order
from .choices import PrerequisiteUntil
from .models import Prerequisite, TemplateTask, TemplateVersion
from .services import TemplateError, _draft, _task_of, version_matrix


@transaction.atomic
def add_prerequisite(
    version: TemplateVersion,
    *,
    task_id: int,
    required_id: int,
    until: str = PrerequisiteUntil.DONE,
    environment: str = "",
    for_environment: str = "",
    actor,
) -> Prerequisite:
    """Makes a draft's task wait on another (a cycle, an unknown task or an environment
    the tasks do not have is refused, naming the field; nothing is saved)."""
    version = _draft(version)
    task = _task_of(version, task_id)
    required = TemplateTask.objects.filter(version=version, pk=required_id).first()
    if required is None:
        raise TemplateError("Required task: that task is not in this draft.")
    try:
        wanted = order.clean_requirement(
            task,
            required,
            until=until,
            environment=environment,
            for_environment=for_environment,
        )
        matrix = version_matrix(version)
        for row in matrix.rows:
            if row.ref == (task.key or task.name):
                row.requires = (*row.requires, wanted)
        order.check_no_cycle(matrix)
    except order.PrerequisiteError as exc:
        raise TemplateError(str(exc)) from None
    prerequisite, created = Prerequisite.objects.get_or_create(
        task=task,
        required=required,
        environment=environment,
        for_environment=for_environment,
        defaults={"until": until},
    )
    if not created:
        raise TemplateError(f"{task.name} already waits on that.")
    return prerequisite


@transaction.atomic
def remove_prerequisite(version: TemplateVersion, *, prerequisite_id: int, actor) -> None:
    version = _draft(version)
    deleted, _ = Prerequisite.objects.filter(task__version=version, pk=prerequisite_id).delete()
    if not deleted:
        raise TemplateError("That prerequisite is not in this draft.")
