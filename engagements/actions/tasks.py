from __future__ import annotations

from django.db import IntegrityError, transaction

from engagements import workflow
from engagements.actions.duties import start_duty_clocks
from engagements.choices import (
    Environment,
    TaskStatus,
)
from engagements.cleaning import clean_text
from engagements.errors import Conflict, DomainError, NotAllowed
from engagements.events import record_event
from engagements.models import (
    Comment,
    EngagementTask,
    Event,
    SignOff,
)
from engagements.policy import member_party_id
from raci.models import Party


def lock_task(task: EngagementTask) -> EngagementTask:
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


def locked_task(task: EngagementTask, revision: int | None) -> EngagementTask:
    """Locks the task row for this transaction and checks the form saw its current state."""
    locked = lock_task(task)
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
    task = locked_task(task, revision)
    move = _check_move(task, to, actor)
    reason = clean_text(reason, "reason", required=move.needs_reason)
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
    task = locked_task(task, revision)
    if task.status == TaskStatus.SIGNED_OFF:
        raise Conflict(f"{task.label} is already signed off.")
    _check_move(task, TaskStatus.SIGNED_OFF, actor)
    comment = clean_text(comment, "comment", required=False)
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
    task = locked_task(task, revision)
    _check_move(task, TaskStatus.REOPENED, actor)
    reason = clean_text(reason, "reason", required=True)
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
    body = clean_text(body, "comment", required=True)
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


def system_move(
    task: EngagementTask, to: str, *, actor, via: str, only_from: tuple[str, ...]
) -> None:
    """A status change that follows from another action (checklist saved or accepted).

    The status is checked again on the locked row: a move someone made meanwhile wins.
    """
    task = lock_task(task)
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
