"""Writes to the live work. One transaction each, a keyword-only actor, an Event row.

Views, the admin, management commands and Celery tasks all call these.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from raci.choices import Tracking
from raci.models import Party, TemplateTask, TemplateVersion

from . import notifications, permissions, token_lifecycle, workflow
from .choices import (
    OPEN_STATUSES,
    Channel,
    ChecklistItemKey,
    ChecklistStatus,
    Delivery,
    Environment,
    OrganizationKind,
    TaskStatus,
)
from .models import (
    ChecklistItem,
    Comment,
    Engagement,
    EngagementTask,
    Event,
    InfrastructureChecklist,
    Membership,
    Notification,
    Organization,
    Profile,
    SignOff,
    TaskParty,
)


class DomainError(Exception):
    """An action the rules refuse; the message is for the person who tried it."""


def record_event(
    engagement: Engagement,
    verb: str,
    *,
    actor=None,
    task: EngagementTask | None = None,
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Appends one event to the engagement's audit trail and writes the notifications it
    causes (the outbox), inside the caller's transaction; delivery starts after commit."""
    event = Event.objects.create(
        engagement=engagement,
        task=task,
        actor=actor,
        verb=verb,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )
    if task is not None:
        notifications.fan_out(event, task)
    return event


def _expand(template_task: TemplateTask) -> list[str]:
    if template_task.tracking == Tracking.PER_ENVIRONMENT:
        return [Environment.DEVELOPMENT, Environment.PRODUCTION]
    return [""]


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


@transaction.atomic
def create_engagement(
    *,
    organization: Organization,
    name: str,
    version: TemplateVersion,
    kickoff_date: dt.date,
    actor=None,
) -> Engagement:
    """Creates an engagement with its tasks and letters copied from a published template version.

    Per-environment tasks become one task for Development and one for
    Production; due dates are the kickoff date plus the template's offsets.
    """
    check_new_engagement(organization=organization, name=name, version=version)
    engagement = Engagement.objects.create(
        organization=organization,
        name=name,
        template_version=version,
        kickoff_date=kickoff_date,
        created_by=actor,
    )
    template_tasks = list(version.tasks.order_by("position").prefetch_related("cells"))
    tasks = _copy_tasks(engagement, template_tasks)
    _create_checklists(engagement, tasks)
    from .operations import create_default_duties

    create_default_duties(engagement)
    record_event(
        engagement,
        "engagement.created",
        actor=actor,
        data={"template": version.template.name, "version": version.number},
    )
    return engagement


def _copy_tasks(engagement: Engagement, template_tasks: list[TemplateTask]) -> list[EngagementTask]:
    pairs = [(tt, env) for tt in template_tasks for env in _expand(tt)]
    tasks = EngagementTask.objects.bulk_create(
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
            due_date=(
                engagement.kickoff_date + dt.timedelta(days=tt.due_offset_days)
                if tt.due_offset_days is not None
                else None
            ),
        )
        for tt, env in pairs
    )
    TaskParty.objects.bulk_create(
        TaskParty(task=task, party_id=cell.party_id, **cell.letter_values())
        for task, (tt, _) in zip(tasks, pairs, strict=True)
        for cell in tt.cells.all()
    )
    return tasks


def check_membership(engagement: Engagement, user, *, party: Party) -> None:
    """Raises DomainError when the person cannot join that party of the engagement.

    A subscriber's people can only join the subscriber side of their own
    organisation's engagement; the vendor's people only the vendor side.
    """
    profile = getattr(user, "profile", None)
    if profile is None:
        raise DomainError(f"{user} belongs to no organisation; give them a profile first.")
    org = profile.organization
    if party.is_vendor and not org.is_vendor:
        raise DomainError(
            f"{user} works for {org.name}, not the vendor; they cannot join {party.name}."
        )
    if not party.is_vendor and org.pk != engagement.organization_id:
        raise DomainError(
            f"{user} works for {org.name}; only {engagement.organization.name}'s people "
            f"can join {party.name} on this engagement."
        )
    if not engagement.template_version.columns.filter(party=party).exists():
        raise DomainError(f"{party.name} is not a party of this engagement's template.")


@transaction.atomic
def add_member(
    engagement: Engagement,
    user,
    *,
    party: Party,
    actor=None,
    role_title: str = "",
    is_manager: bool = False,
) -> Membership:
    """Puts a person in one party of the engagement (or moves them) and derives their permissions."""
    check_membership(engagement, user, party=party)
    existing = (
        Membership.objects.select_for_update().filter(engagement=engagement, user=user).first()
    )
    if existing is not None:
        before = {
            "party": existing.party.name,
            "role_title": existing.role_title,
            "is_manager": existing.is_manager,
        }
        existing.party = party
        existing.role_title = role_title
        existing.is_manager = is_manager
        existing.save(update_fields=["party", "role_title", "is_manager"])
        membership = existing
        verb, data = "member.changed", {"before": before}
    else:
        membership = Membership.objects.create(
            engagement=engagement,
            user=user,
            party=party,
            role_title=role_title,
            is_manager=is_manager,
        )
        verb, data = "member.added", {}
    permissions.sync_member_permissions(engagement, user)
    data.update(
        user=user.get_username(), party=party.name, role_title=role_title, is_manager=is_manager
    )
    record_event(engagement, verb, actor=actor, data=data)
    token_lifecycle.revoke_tokens_of_departed(engagement, user, actor=actor)
    return membership


@transaction.atomic
def remove_member(engagement: Engagement, user, *, actor=None) -> None:
    membership = (
        Membership.objects.select_for_update().filter(engagement=engagement, user=user).first()
    )
    if membership is None:
        raise DomainError(f"{user} is not a member of this engagement.")
    party = membership.party.name
    membership.delete()
    permissions.sync_member_permissions(engagement, user)
    record_event(
        engagement,
        "member.removed",
        actor=actor,
        data={"user": user.get_username(), "party": party},
    )
    token_lifecycle.revoke_tokens_of_departed(engagement, user, actor=actor)


# --- The task workflow ----------------------------------------------------------


class NotAllowed(DomainError):
    """The person may see the task but not make this move (answered with 403)."""


class Conflict(DomainError):
    """Someone else changed the task since the form was shown."""


COMMENT_MAX_LENGTH = 5000


def member_party_id(engagement_id: int, user) -> int | None:
    return (
        Membership.objects.filter(engagement_id=engagement_id, user=user)
        .values_list("party_id", flat=True)
        .first()
    )


def _lock(task: EngagementTask) -> EngagementTask:
    """The task row, locked for this transaction, with its engagement and letters.

    select_for_update(of=("self",)) locks the task row only; the letters are read
    after the lock (prefetch), so the rules see the current state.
    """
    return (
        EngagementTask.objects.select_for_update(of=("self",))
        .select_related("engagement")
        .prefetch_related("parties__party")
        .get(pk=task.pk)
    )


def _locked_task(task: EngagementTask, revision: int | None) -> EngagementTask:
    """Locks the task row for this transaction and checks the form saw its current state."""
    locked = _lock(task)
    if locked.retired_at is not None:
        raise NotAllowed(
            f"{locked.label} was dropped by a newer template version; it is kept read-only."
        )
    if revision is not None and revision != locked.revision:
        raise Conflict(
            f"{locked.label} was changed by someone else since you opened it "
            f"(it is now {locked.get_status_display().lower()}). Nothing was saved; "
            "review the current state and try again."
        )
    return locked


def _clean_text(text: str, what: str, *, required: bool) -> str:
    text = (text or "").strip()
    if "\x00" in text:
        raise DomainError(f"The {what} contains a NUL character.")
    if required and not text:
        raise DomainError(f"A {what} is required.")
    if len(text) > COMMENT_MAX_LENGTH:
        raise DomainError(
            f"The {what} is too long ({len(text)} characters; at most {COMMENT_MAX_LENGTH})."
        )
    return text


def _check_move(task: EngagementTask, to: str, actor) -> workflow.Move:
    move = workflow.TRANSITIONS.get((task.status, to))
    label = dict(TaskStatus.choices).get(to, to)
    if move is None or (move.optional_only and not task.is_optional):
        raise DomainError(
            f"{task.label} cannot go from {task.get_status_display().lower()} to {str(label).lower()}."
        )
    party_id = member_party_id(task.engagement_id, actor)
    if move.role not in workflow.roles_of(task, party_id):
        who = (
            "its Responsible party"
            if move.role == workflow.Role.RESPONSIBLE
            else "its Accountable party"
        )
        raise NotAllowed(
            f"Only a member of {who} can {move.label.rstrip('…').lower()} {task.label}."
        )
    return move


def _save_status(
    task: EngagementTask, to: str, *, blocked_reason: str = "", fields: tuple = ()
) -> str:
    before = task.status
    task.status = to
    task.blocked_reason = blocked_reason
    task.revision += 1
    task.save(update_fields=["status", "blocked_reason", "revision", "updated_at", *fields])
    return before


@transaction.atomic
def transition_task(
    task: EngagementTask, *, to: str, actor, reason: str = "", revision: int | None = None
) -> Event:
    """Moves a task along the transitions table (sign-off and reopening have their own services)."""
    if to in workflow.SPECIAL_TARGETS:
        raise DomainError("Use sign-off or reopen for that move.")
    task = _locked_task(task, revision)
    move = _check_move(task, to, actor)
    reason = _clean_text(reason, "reason", required=move.needs_reason)
    before = _save_status(task, to, blocked_reason=reason if to == TaskStatus.BLOCKED else "")
    return record_event(
        task.engagement,
        "task.status_changed",
        actor=actor,
        task=task,
        from_state=before,
        to_state=to,
        data={"reason": reason} if reason else {},
    )


@transaction.atomic
def sign_off_task(
    task: EngagementTask, *, actor, comment: str = "", revision: int | None = None
) -> SignOff:
    """Records the signing party's acceptance of a done task: an immutable SignOff and an event."""
    task = _locked_task(task, revision)
    if task.status == TaskStatus.SIGNED_OFF:
        raise Conflict(f"{task.label} is already signed off.")
    _check_move(task, TaskStatus.SIGNED_OFF, actor)
    comment = _clean_text(comment, "comment", required=False)
    party_id = member_party_id(task.engagement_id, actor)
    try:
        with transaction.atomic():
            signoff = SignOff.objects.create(
                task=task,
                round=task.reopen_count,
                environment=task.environment,
                party_id=party_id,
                signed_by=actor,
                comment=comment,
            )
    except IntegrityError:
        raise Conflict(f"{task.label} is already signed off.") from None
    before = _save_status(task, TaskStatus.SIGNED_OFF)
    if task.key == "deployment" and task.environment == Environment.PRODUCTION:
        from .operations import start_duty_clocks

        start_duty_clocks(task.engagement)  # the appliance is live: backups and monitoring
    record_event(
        task.engagement,
        "task.signed_off",
        actor=actor,
        task=task,
        from_state=before,
        to_state=TaskStatus.SIGNED_OFF,
        data={"signoff": signoff.pk, "environment": task.environment, "comment": comment},
    )
    return signoff


@transaction.atomic
def reopen_task(task: EngagementTask, *, actor, reason: str, revision: int | None = None) -> Event:
    """Reopens a signed-off task: the signing party only, with a reason; the sign-off stays on record."""
    task = _locked_task(task, revision)
    _check_move(task, TaskStatus.REOPENED, actor)
    reason = _clean_text(reason, "reason", required=True)
    task.reopen_count += 1
    before = _save_status(task, TaskStatus.REOPENED, fields=("reopen_count",))
    return record_event(
        task.engagement,
        "task.reopened",
        actor=actor,
        task=task,
        from_state=before,
        to_state=TaskStatus.REOPENED,
        data={"reason": reason},
    )


@transaction.atomic
def add_comment(
    task: EngagementTask, *, actor, body: str, addressed_to: Party | None = None
) -> Comment:
    """A comment by any member; a question to a Consulted party only from the Responsible party."""
    task = (
        EngagementTask.objects.select_related("engagement")
        .prefetch_related("parties__party")
        .get(pk=task.pk)
    )
    party_id = member_party_id(task.engagement_id, actor)
    if party_id is None:
        raise NotAllowed("Only members of the engagement can comment on its tasks.")
    body = _clean_text(body, "comment", required=True)
    if addressed_to is not None:
        if workflow.Role.RESPONSIBLE not in workflow.roles_of(task, party_id):
            raise NotAllowed("Only the Responsible party can ask a Consulted party a question.")
        consulted = {tp.party_id for tp in task.parties.all() if tp.consulted}
        if addressed_to.pk not in consulted:
            raise DomainError(f"{addressed_to.name} is not Consulted on {task.label}.")
    comment = Comment.objects.create(task=task, author=actor, body=body, addressed_to=addressed_to)
    record_event(
        task.engagement,
        "task.question_asked" if addressed_to else "task.commented",
        actor=actor,
        task=task,
        data={
            "comment": comment.pk,
            **(
                {"to_party": addressed_to.name, "to_party_id": addressed_to.pk}
                if addressed_to
                else {}
            ),
        },
    )
    return comment


# --- The Infrastructure Checklist -------------------------------------------------

CHECKLIST_TASK_KEY = "infrastructure"


def checklist_task(checklist: InfrastructureChecklist) -> EngagementTask | None:
    return (
        EngagementTask.objects.live()
        .filter(
            engagement_id=checklist.engagement_id,
            key=CHECKLIST_TASK_KEY,
            environment=checklist.environment,
        )
        .prefetch_related("parties__party")
        .first()
    )


def _create_checklists(engagement: Engagement, tasks: list[EngagementTask]) -> None:
    environments = [t.environment for t in tasks if t.key == CHECKLIST_TASK_KEY and t.environment]
    for environment in environments:
        checklist = InfrastructureChecklist.objects.create(
            engagement=engagement, environment=environment
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(checklist=checklist, key=key) for key in ChecklistItemKey.values
        )


def _locked_checklist(
    checklist: InfrastructureChecklist, revision: int | None
) -> InfrastructureChecklist:
    locked = (
        InfrastructureChecklist.objects.select_for_update(of=("self",))
        .select_related("engagement")
        .get(pk=checklist.pk)
    )
    if revision is not None and revision != locked.revision:
        raise Conflict(
            "The checklist was changed by someone else since you opened it "
            f"(it is now {locked.get_status_display().lower()}). Nothing was saved; review it and try again."
        )
    return locked


def _checklist_role(checklist: InfrastructureChecklist, actor, letter: str) -> EngagementTask:
    task = checklist_task(checklist)
    if task is None:
        raise DomainError(
            "This engagement has no Preparing VM Infrastructure task for that environment."
        )
    party_id = member_party_id(checklist.engagement_id, actor)
    holders = {tp.party_id for tp in task.parties.all() if getattr(tp, letter)}
    if party_id not in holders:
        what = {
            "responsible": "the Responsible party (the subscriber)",
            "consulted": "the Consulted party (the vendor)",
        }[letter]
        verb = "edit or submit" if letter == "responsible" else "review"
        raise NotAllowed(f"Only a member of {what} can {verb} this checklist.")
    return task


def _bump(checklist: InfrastructureChecklist, **fields) -> None:
    for name, value in fields.items():
        setattr(checklist, name, value)
    checklist.revision += 1
    checklist.save(update_fields=[*fields, "revision", "updated_at"])


def _system_move(
    task: EngagementTask, to: str, *, actor, via: str, only_from: tuple[str, ...]
) -> None:
    """A status change that follows from another action (checklist saved or accepted).

    The status is checked again on the locked row: a move someone made meanwhile wins.
    """
    task = _lock(task)
    if task.status not in only_from:
        return
    before = _save_status(task, to)
    record_event(
        task.engagement,
        "task.status_changed",
        actor=actor,
        task=task,
        from_state=before,
        to_state=to,
        data={"via": via},
    )


@transaction.atomic
def save_checklist(
    checklist: InfrastructureChecklist,
    *,
    actor,
    items: dict[str, dict],
    revision: int | None = None,
    submit: bool = False,
) -> InfrastructureChecklist:
    """Saves the subscriber's draft (values, confirmations, notes per item), and submits it if asked.

    Saving and submitting are one transaction: a refused submission saves nothing.
    """
    checklist = _locked_checklist(checklist, revision)
    task = _checklist_role(checklist, actor, "responsible")
    if not checklist.is_editable:
        raise DomainError(
            f"The checklist is {checklist.get_status_display().lower()}; it can no longer be edited."
        )
    unknown = set(items) - set(ChecklistItemKey.values)
    if unknown:
        raise DomainError(f"Unknown checklist items: {', '.join(sorted(unknown))}.")
    changed = []
    for item in checklist.items.all():
        if item.key not in items:
            continue
        data = items[item.key]
        value = _clean_text(
            data.get("value", ""), f"{item.get_key_display()} value", required=False
        )[:500]
        note = _clean_text(data.get("note", ""), f"{item.get_key_display()} note", required=False)
        confirmed = bool(data.get("confirmed"))
        if (item.value, item.note, item.confirmed) != (value, note, confirmed):
            item.value, item.note, item.confirmed = value, note, confirmed
            item.save(update_fields=["value", "note", "confirmed"])
            changed.append(item.key)
    _bump(checklist)
    _system_move(
        task,
        TaskStatus.IN_PROGRESS,
        actor=actor,
        via="checklist",
        only_from=(TaskStatus.NOT_STARTED,),
    )
    record_event(
        checklist.engagement,
        "checklist.saved",
        actor=actor,
        task=task,
        data={"environment": checklist.environment, "items": changed},
    )
    if submit:
        _submit(checklist, task, actor)
    return checklist


@transaction.atomic
def submit_checklist(
    checklist: InfrastructureChecklist, *, actor, revision: int | None = None
) -> InfrastructureChecklist:
    checklist = _locked_checklist(checklist, revision)
    task = _checklist_role(checklist, actor, "responsible")
    if not checklist.is_editable:
        raise DomainError(f"The checklist is already {checklist.get_status_display().lower()}.")
    _submit(checklist, task, actor)
    return checklist


def _submit(checklist: InfrastructureChecklist, task: EngagementTask, actor) -> None:
    missing = [i.get_key_display() for i in checklist.items.all() if not i.is_complete]
    if missing:
        raise DomainError(
            f"Fill in or confirm every item before submitting; missing: {', '.join(missing)}."
        )
    before = checklist.status
    _bump(
        checklist, status=ChecklistStatus.SUBMITTED, submitted_at=timezone.now(), submitted_by=actor
    )
    record_event(
        checklist.engagement,
        "checklist.submitted",
        actor=actor,
        task=task,
        from_state=before,
        to_state=ChecklistStatus.SUBMITTED,
        data={"environment": checklist.environment},
    )


@transaction.atomic
def review_checklist(
    checklist: InfrastructureChecklist,
    *,
    actor,
    accept: bool,
    comment: str = "",
    item_comments: dict[str, str] | None = None,
    revision: int | None = None,
) -> InfrastructureChecklist:
    """The vendor accepts the submitted checklist (completing the task) or returns it with comments."""
    checklist = _locked_checklist(checklist, revision)
    task = _checklist_role(checklist, actor, "consulted")
    if checklist.status != ChecklistStatus.SUBMITTED:
        raise DomainError(
            f"Only a submitted checklist can be reviewed; this one is {checklist.get_status_display().lower()}."
        )
    comment = _clean_text(comment, "comment", required=False)
    item_comments = {
        k: _clean_text(v, "item comment", required=False) for k, v in (item_comments or {}).items()
    }
    if not accept and not (comment or any(item_comments.values())):
        raise DomainError("Say what needs changing: a comment on at least one item, or overall.")
    for item in checklist.items.all():
        new = item_comments.get(item.key, "")
        if item.review_comment != new:
            item.review_comment = new
            item.save(update_fields=["review_comment"])
    to = ChecklistStatus.ACCEPTED if accept else ChecklistStatus.RETURNED
    _bump(
        checklist, status=to, reviewed_at=timezone.now(), reviewed_by=actor, review_comment=comment
    )
    record_event(
        checklist.engagement,
        f"checklist.{to}",
        actor=actor,
        task=task,
        from_state=ChecklistStatus.SUBMITTED,
        to_state=to,
        data={
            "environment": checklist.environment,
            "comment": comment,
            "items": {k: v for k, v in item_comments.items() if v},
        },
    )
    if accept:
        _system_move(task, TaskStatus.DONE, actor=actor, via="checklist", only_from=OPEN_STATUSES)
    return checklist


# --- Applying a newer template version -----------------------------------------------


def template_diff(engagement: Engagement, version: TemplateVersion):
    """What applying the version would change in this engagement (its copy vs the version)."""
    from raci.matrix import compare
    from raci.services import version_matrix

    from .selectors import engagement_matrix

    return compare(engagement_matrix(engagement), version_matrix(version))


def _has_history(task: EngagementTask) -> bool:
    return task.events.exists() or task.comments.exists() or task.signoffs.exists()


@transaction.atomic
def apply_template_version(engagement: Engagement, version: TemplateVersion, *, actor) -> Event:
    """Moves an engagement to a newer published version of its template, in one audited event.

    Unchanged and changed tasks keep their status (their names, notes and
    letters follow the version); new tasks start not started; dropped tasks
    are deleted when they have no history, else retired (kept for the audit
    trail, hidden from the work lists).
    """
    engagement = (
        Engagement.objects.select_for_update()
        .select_related("template_version")
        .get(pk=engagement.pk)
    )
    current = engagement.template_version
    if version.is_draft:
        raise DomainError("Only a published version can be applied.")
    if version.template_id != current.template_id:
        raise DomainError("That version belongs to another template.")
    if version.number <= current.number:
        raise DomainError(
            f"The engagement already follows v{current.number}; apply a newer version."
        )
    diff = template_diff(engagement, version)
    template_tasks = list(version.tasks.order_by("position").prefetch_related("cells"))
    existing: dict[str, list[EngagementTask]] = {}
    for task in engagement.tasks.filter(retired_at__isnull=True):
        ident = f"key:{task.key}" if task.key else f"name:{task.name.lower()}"
        existing.setdefault(ident, []).append(task)
    # Park every live task's position out of the way, so renumbering never collides.
    EngagementTask.objects.filter(engagement=engagement, retired_at__isnull=True).update(
        position=F("position") + 1000
    )
    new_template_tasks: list[TemplateTask] = []
    kept: list[EngagementTask] = []
    letters: list[TaskParty] = []
    made_applicable: list[EngagementTask] = []
    for tt in template_tasks:
        ident = f"key:{tt.key}" if tt.key else f"name:{tt.name.lower()}"
        tasks = existing.pop(ident, [])
        if tasks and tasks[0].tracking == tt.tracking:
            for task in tasks:
                task.template_task, task.position, task.key, task.name = (
                    tt,
                    tt.position,
                    tt.key,
                    tt.name,
                )
                task.description, task.notes, task.is_optional = (
                    tt.description,
                    tt.notes,
                    tt.is_optional,
                )
                if task.status == TaskStatus.NOT_APPLICABLE and not tt.is_optional:
                    # No longer optional: it applies again, from the start.
                    task.status, task.revision = TaskStatus.NOT_STARTED, task.revision + 1
                    made_applicable.append(task)
                task.save(
                    update_fields=[
                        "template_task",
                        "position",
                        "key",
                        "name",
                        "description",
                        "notes",
                        "is_optional",
                        "status",
                        "revision",
                        "updated_at",
                    ]
                )
            kept.extend(tasks)
            letters.extend(
                TaskParty(task=task, party_id=c.party_id, **c.letter_values())
                for task in tasks
                for c in tt.cells.all()
            )
        else:
            if tasks:  # tracking changed: the old rows go, new ones come
                existing[ident + ":old"] = tasks
            new_template_tasks.append(tt)
    # The letters of the tasks that stay follow the version: replaced in two statements.
    TaskParty.objects.filter(task__in=kept).delete()
    TaskParty.objects.bulk_create(letters)
    created = _copy_tasks(engagement, new_template_tasks)
    have_checklists = set(engagement.checklists.values_list("environment", flat=True))
    _create_checklists(engagement, [t for t in created if t.environment not in have_checklists])
    retired, deleted = [], []
    now = timezone.now()
    for tasks in existing.values():
        for task in tasks:
            if _has_history(task):
                task.retired_at = now
                task.save(update_fields=["retired_at", "updated_at"])
                retired.append(task.label)
            else:
                deleted.append(task.label)
                task.delete()
    engagement.template_version = version
    engagement.save(update_fields=["template_version"])
    for task in made_applicable:
        task.engagement = engagement
        record_event(
            engagement,
            "task.status_changed",
            actor=actor,
            task=task,
            from_state=TaskStatus.NOT_APPLICABLE,
            to_state=TaskStatus.NOT_STARTED,
            data={"via": "template", "version": version.number},
        )
    return record_event(
        engagement,
        "engagement.template_applied",
        actor=actor,
        from_state=f"v{current.number}",
        to_state=f"v{version.number}",
        data={
            "template": version.template.name,
            "added": [r.display_name for r in diff.added],
            "removed": [r.display_name for r in diff.removed],
            "changed": {c.new.display_name: c.changes for c in diff.changed},
            "retired_tasks": retired,
            "deleted_tasks": deleted,
        },
    )


# --- Notifications in the portal ------------------------------------------------------


def mark_read(user, notification_id: int) -> bool:
    """Marks one of the user's own portal notifications read; False if it is not theirs."""
    found = Notification.objects.filter(pk=notification_id, recipient=user, channel=Channel.PORTAL)
    if not found.exists():
        return False
    found.filter(read_at__isnull=True).update(read_at=timezone.now())
    return True


def mark_all_read(user) -> int:
    return Notification.objects.filter(
        recipient=user, channel=Channel.PORTAL, read_at__isnull=True
    ).update(read_at=timezone.now())


@transaction.atomic
def set_delivery_preferences(user, *, email: str, portal: str) -> Profile:
    if email not in Delivery.values or portal not in (Delivery.IMMEDIATE, Delivery.OFF):
        raise DomainError(
            "Choose immediately, daily digest or off for email, and immediately or off in the portal."
        )
    profile = Profile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        raise DomainError("Your account belongs to no organisation; ask an admin.")
    profile.email_delivery, profile.portal_delivery = email, portal
    profile.save(update_fields=["email_delivery", "portal_delivery"])
    return profile
