"""Engagements: creating one from a published template version (its tasks, letters,
checklists and duties), and moving it between onboarding, live and closed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

from django.db import transaction

from engagements import events, policy
from engagements.actions.checklists import create_checklists
from engagements.actions.duties import create_default_duties
from engagements.actions.membership import add_founding_members
from engagements.audit import record_event
from engagements.choices import (
    EnvironmentSet,
    OrganizationKind,
)
from engagements.cleaning import clean_text
from engagements.errors import DomainError
from engagements.models import (
    Engagement,
    EngagementTask,
    Event,
    Organization,
    TaskParty,
)
from engagements.states import ENGAGEMENT
from raci.choices import Tracking
from raci.models import TemplateTask, TemplateVersion


def expand_environments(template_task: TemplateTask, engagement: Engagement) -> list[str]:
    """The environments a template task is tracked for in this engagement: each one it runs
    where the template tracks the task per environment, else once ("")."""
    if template_task.tracking == Tracking.PER_ENVIRONMENT:
        return list(engagement.environment_list)
    return [""]


def check_environment(engagement: Engagement, environment: str) -> None:
    """One of the environments the engagement runs (a cycle's step, an issue); DomainError
    naming what it runs otherwise."""
    if environment not in engagement.environment_list:
        raise DomainError(
            "Choose the environment: Development or Production."
            if engagement.has_development
            else "This engagement runs Production only: choose Production."
        )


def clean_environments(value: str) -> str:
    if value not in EnvironmentSet.values:
        choices = " or ".join(f"{label!r}" for label in EnvironmentSet.labels)
        raise DomainError(f"Choose the environments the engagement runs: {choices}.")
    return value


def check_new_engagement(
    *, organization: Organization, name: str, version: TemplateVersion
) -> None:
    """Raises DomainError when an engagement with these values cannot be created."""
    if organization.kind != OrganizationKind.SUBSCRIBER:
        raise DomainError("An engagement belongs to a subscriber organisation.")
    if version.is_draft:
        raise DomainError("Engagements are created from a published template version.")
    if Engagement.objects.filter(organization=organization, name=name).exists():
        raise DomainError(f"{organization.name} already has an engagement named {name!r}.")


# A task of a new engagement, named by its template task's key and its environment ("" for
# a task tracked once): the key of a due date chosen before the engagement is started.
DueKey = tuple[str, str]


class DueRow(NamedTuple):
    key: str
    environment: str
    name: str
    environment_label: str
    due: dt.date | None


@transaction.atomic
def create_engagement(
    *,
    organization: Organization,
    name: str,
    version: TemplateVersion,
    kickoff_date: dt.date,
    actor=None,
    due: Mapping[DueKey, dt.date | None] | None = None,
    environments: str = EnvironmentSet.BOTH,
) -> Engagement:
    """Creates an engagement with its tasks and letters copied from a published template version.

    Per-environment tasks become one task for each environment the engagement runs
    (Development and Production, or Production only); due dates are the kickoff date plus
    the template's offsets, except those chosen in `due` (None: no due date).
    """
    check_new_engagement(organization=organization, name=name, version=version)
    engagement = Engagement.objects.create(
        organization=organization,
        name=name,
        template_version=version,
        kickoff_date=kickoff_date,
        environments=clean_environments(environments),
        created_by=actor,
    )
    template_tasks = list(version.tasks.order_by("position").prefetch_related("cells"))
    tasks = copy_tasks(engagement, template_tasks, due=due)
    create_checklists(engagement, tasks)
    create_default_duties(engagement)
    data: dict[str, Any] = {
        "template": version.template.name,
        "version": version.number,
        "environments": engagement.environments,
    }
    changed = [t for t in tasks if due and (t.key, t.environment) in due]
    if changed:
        data["due_dates_chosen"] = len(changed)
    record_event(engagement, events.ENGAGEMENT_CREATED, actor=actor, data=data)
    return engagement


def due_dates(
    version: TemplateVersion, kickoff_date: dt.date, environments: str = EnvironmentSet.BOTH
) -> list[DueRow]:
    """Each task's due date as an engagement started on `kickoff_date` would have it: shown
    (and editable) before it is started."""
    template_tasks = list(version.tasks.order_by("position"))
    engagement = Engagement(kickoff_date=kickoff_date, environments=environments)
    return [
        DueRow(t.key, t.environment, t.name, t.get_environment_display(), t.due_date)
        for t in new_tasks(engagement, template_tasks)
    ]


def choose_due_dates(
    tasks: list[EngagementTask], due: Mapping[DueKey, dt.date | None]
) -> list[EngagementTask]:
    """The chosen due dates on the unsaved task rows; DomainError for a task that is not one
    of them (nothing is saved then)."""
    known = {(t.key, t.environment) for t in tasks}
    unknown = sorted(set(due) - known)
    if unknown:
        key, env = unknown[0]
        raise DomainError(
            f"{key}{f' ({env})' if env else ''} is not a task of this template version; "
            "show the due dates again."
        )
    for task in tasks:
        if (task.key, task.environment) in due:
            task.due_date = due[(task.key, task.environment)]
    return tasks


@transaction.atomic
def start_engagement(
    *,
    organization: Organization | None,
    new_organization: str = "",
    name: str,
    version: TemplateVersion,
    kickoff_date: dt.date,
    cse: Any,
    actor: Any,
    due: Mapping[DueKey, dt.date | None] | None = None,
    environments: str = EnvironmentSet.BOTH,
) -> Engagement:
    """Starts an engagement from the portal: portal admins and the vendor's managers. A new
    subscriber organisation is created by name; the engagement is made by create_engagement
    (as in the admin and the demo); the CSE (a vendor person) joins as its manager. `due`:
    the due dates chosen on the page, by task."""
    policy.check_start_engagement(actor)
    name = clean_text(name, "engagement name", required=True)
    if organization is None:
        org_name = clean_text(new_organization, "subscriber's name", required=True)
        organization = Organization.objects.filter(name__iexact=org_name).first()
        if organization is None:
            organization = Organization.objects.create(
                name=org_name, kind=OrganizationKind.SUBSCRIBER
            )
    profile = getattr(cse, "profile", None)
    if profile is None or not profile.organization.is_vendor:
        raise DomainError(f"{cse} does not work for the vendor; choose one of its CSEs.")
    engagement = create_engagement(
        organization=organization,
        name=name,
        version=version,
        kickoff_date=kickoff_date,
        actor=actor,
        due=due,
        environments=environments,
    )
    add_founding_members(engagement, cse=cse, actor=actor)
    return engagement


def new_tasks(engagement: Engagement, template_tasks: list[TemplateTask]) -> list[EngagementTask]:
    """The engagement's task rows for these template tasks, unsaved: one per environment where
    the template tracks a task per environment, due at the kickoff plus the task's offset."""
    return [
        EngagementTask(
            engagement=engagement,
            template_task=tt,
            position=tt.position,
            key=tt.key,
            name=tt.name,
            description=tt.description,
            notes=tt.notes,
            environment=env,
            tracking=tt.tracking,
            is_optional=tt.is_optional,
            phase=tt.phase,
            four_eyes=tt.four_eyes,
            due_date=(
                engagement.kickoff_date + dt.timedelta(days=tt.due_offset_days)
                if tt.due_offset_days is not None
                else None
            ),
        )
        for tt in template_tasks
        for env in expand_environments(tt, engagement)
    ]


def new_letters(tasks: list[EngagementTask], cells_of: dict[int, list[Any]]) -> list[TaskParty]:
    """The letters of saved task rows, copied from their template task's cells (unsaved)."""
    return [
        TaskParty(task=task, party_id=cell.party_id, **cell.letter_values())
        for task in tasks
        for cell in cells_of[task.template_task_id]  # type: ignore[index]
    ]


def copy_tasks(
    engagement: Engagement,
    template_tasks: list[TemplateTask],
    *,
    due: Mapping[DueKey, dt.date | None] | None = None,
) -> list[EngagementTask]:
    rows = new_tasks(engagement, template_tasks)
    if due:
        choose_due_dates(rows, due)
    tasks = EngagementTask.objects.bulk_create(rows)
    TaskParty.objects.bulk_create(
        new_letters(tasks, {tt.pk: list(tt.cells.all()) for tt in template_tasks})
    )
    return tasks


def engagement_move_verdict(engagement: Engagement, to: str, *, actor: Any, reason: str) -> str:
    """Why moving the engagement to `to` would be refused ("" if it would not): for forms
    that validate before the move is made (the admin)."""
    try:
        move = ENGAGEMENT.check(engagement, to, what="The engagement")
        policy.check(actor, move.rule, engagement, seat=None)  # type: ignore[arg-type]
        clean_text(reason, "reason", required=move.needs_reason)
    except DomainError as exc:
        return str(exc)
    return ""


@transaction.atomic
def move_engagement(engagement: Engagement, *, to: str, actor: Any, reason: str = "") -> Event:
    """Moves the engagement along its state machine (onboarding, live, closed): the
    engagement's managers only, a reason where the move needs one, one audited event."""
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
    move = ENGAGEMENT.check(engagement, to, what="The engagement")
    policy.check(actor, move.rule, engagement, seat=None)  # type: ignore[arg-type]
    reason = clean_text(reason, "reason", required=move.needs_reason)
    before = ENGAGEMENT.apply(engagement, to)
    engagement.save(update_fields=["state"])
    return record_event(
        engagement,
        events.ENGAGEMENT_STATE_CHANGED,
        actor=actor,
        from_state=before,
        to_state=to,
        data={"reason": reason} if reason else {},
    )
