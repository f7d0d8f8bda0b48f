"""Tasks and sign-off: moving a task along its state machine, signing it off, reopening
it, commenting and asking the Consulted party; and the moves the portal makes itself."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from engagements import events, policy
from engagements.actions.golive import production_signed_off
from engagements.actions.prerequisites import check_order, tell_ready
from engagements.audit import record_event
from engagements.choices import Environment, SeedTask, TaskStatus
from engagements.cleaning import clean_text
from engagements.errors import Conflict, DomainError, NotAllowed
from engagements.models import Comment, EngagementTask, Event, SignOff
from engagements.selectors.locked import lock_task
from engagements.statemachine import Move
from engagements.states import DONE_ONLY_BY, TASK, person_may_reach
from raci.models import Party


def locked_task(task: EngagementTask | int, revision: int | None, actor: Any) -> EngagementTask:
    """Locks the task row for this transaction (one query: the task, its letters, the
    actor's seat and whether they may see it; engagements.selectors.locked) and checks the
    form saw its current state."""
    locked = lock_task(task, actor=actor)
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


def _seat(task: EngagementTask) -> policy.SeatArg:
    """The actor's seat read with the locked task (False: not read, policy looks it up)."""
    seat = task.__dict__.get("seat", False)
    return seat if seat is None or isinstance(seat, policy.Seat) else False


def _check_move(task: EngagementTask, to: str, actor: Any) -> Move:
    """The move must exist in the task's state machine, then the policy rule it names must
    allow this person (its letter on the task)."""
    move = TASK.check(task, to, what=task.label)
    if not person_may_reach(task, to):
        raise DomainError(DONE_ONLY_BY[task.key][1].format(task=task.label))
    policy.check(actor, move.rule, task, task=task, seat=_seat(task))  # type: ignore[arg-type]
    check_order(task, to)
    return move


def _save_status(
    task: EngagementTask, to: str, *, actor: Any, blocked_reason: str = "", fields: tuple = ()
) -> str:
    before = task.status
    task.status = to
    task.blocked_reason = blocked_reason
    task.revision += 1
    if to == TaskStatus.DONE:
        task.completed_by = actor if getattr(actor, "pk", None) else None
        fields = (*fields, "completed_by")
    task.save(update_fields=["status", "blocked_reason", "revision", "updated_at", *fields])
    return before


@transaction.atomic
def transition_task(
    task: EngagementTask | int,
    *,
    to: str,
    actor: Any,
    reason: str = "",
    revision: int | None = None,
) -> Event:
    """Moves a task along its state machine (sign-off and reopening have their own services)."""
    if to in TASK.targets("task.sign_off") | TASK.targets("task.reopen"):
        raise DomainError("Use sign-off or reopen for that move.")
    task = locked_task(task, revision, actor)
    move = _check_move(task, to, actor)
    reason = clean_text(reason, "reason", required=move.needs_reason)
    before = _save_status(
        task, to, actor=actor, blocked_reason=reason if to == TaskStatus.BLOCKED else ""
    )
    event = record_event(
        task.engagement,
        events.TASK_STATUS_CHANGED,
        actor=actor,
        task=task,
        from_state=before,
        to_state=to,
        data={"reason": reason} if reason else {},
    )
    tell_ready(task, actor=actor)
    return event


@transaction.atomic
def sign_off_task(
    task: EngagementTask | int, *, actor: Any, comment: str = "", revision: int | None = None
) -> SignOff:
    """Records the signing party's acceptance of a done task: an immutable SignOff and an event."""
    task = locked_task(task, revision, actor)
    if task.status == TaskStatus.SIGNED_OFF:
        raise Conflict(f"{task.label} is already signed off.")
    TASK.check(task, TaskStatus.SIGNED_OFF, what=task.label)
    side = policy.check(actor, "task.sign_off", task, task=task, seat=_seat(task))
    assert side.party_id is not None  # the rule needs a letter, so a party
    comment = clean_text(comment, "comment", required=False)
    try:
        with transaction.atomic():
            signoff = SignOff.objects.create(
                task=task,
                round=task.reopen_count,
                environment=task.environment,
                party_id=side.party_id,
                signed_by=actor,
                comment=comment,
            )
    except IntegrityError:
        raise Conflict(f"{task.label} is already signed off.") from None
    before = _save_status(task, TaskStatus.SIGNED_OFF, actor=actor)
    record_event(
        task.engagement,
        events.TASK_SIGNED_OFF,
        actor=actor,
        task=task,
        from_state=before,
        to_state=TaskStatus.SIGNED_OFF,
        data={"signoff": signoff.pk, "environment": task.environment, "comment": comment},
    )
    tell_ready(task, actor=actor)
    if task.key == SeedTask.DEPLOYMENT and task.environment == Environment.PRODUCTION:
        production_signed_off(task, actor=actor)  # duty clocks start; onboarding goes live
    return signoff


@transaction.atomic
def reopen_task(
    task: EngagementTask | int, *, actor: Any, reason: str, revision: int | None = None
) -> Event:
    """Reopens a signed-off task: the signing party only, with a reason; the sign-off stays on record."""
    task = locked_task(task, revision, actor)
    _check_move(task, TaskStatus.REOPENED, actor)
    reason = clean_text(reason, "reason", required=True)
    task.reopen_count += 1
    before = _save_status(task, TaskStatus.REOPENED, actor=actor, fields=("reopen_count",))
    return record_event(
        task.engagement,
        events.TASK_REOPENED,
        actor=actor,
        task=task,
        from_state=before,
        to_state=TaskStatus.REOPENED,
        data={"reason": reason},
    )


@transaction.atomic
def add_comment(
    task: EngagementTask, *, actor: Any, body: str, addressed_to: Party | None = None
) -> Comment:
    """A comment by any member; a question to a Consulted party from the Responsible party,
    or to the Responsible party from a Consulted one (consultation both ways)."""
    task = (
        EngagementTask.objects.select_related("engagement")
        .prefetch_related("parties__party")
        .get(pk=task.pk)
    )
    seat = policy.member_seat(task.engagement_id, actor)
    policy.check(actor, "task.comment", task, task=task, seat=seat)
    body = clean_text(body, "comment", required=True)
    if addressed_to is not None:
        consulted = {tp.party_id for tp in task.parties.all() if tp.consulted}
        responsible = set(policy.responsible_party_ids(task))
        if addressed_to.pk in consulted:
            policy.check(actor, "task.ask", task, task=task, seat=seat)
        elif addressed_to.pk in responsible:
            policy.check(actor, "task.consult", task, task=task, seat=seat)
        else:
            raise DomainError(
                f"{addressed_to.name} is neither Consulted nor Responsible on {task.label}."
            )
        if seat is not None and addressed_to.pk == seat.party_id:
            raise DomainError("Ask the other party: this question is addressed to your own.")
    comment = Comment.objects.create(task=task, author=actor, body=body, addressed_to=addressed_to)
    record_event(
        task.engagement,
        events.TASK_QUESTION_ASKED if addressed_to else events.TASK_COMMENTED,
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


def system_move(task: EngagementTask, to: str, *, actor: Any, via: str) -> None:
    """A status change that follows from another action (`via`: a checklist saved or
    accepted, a handover scheduled or held, an update started), as the task's state machine
    declares for that cause (engagements.states).

    The status is read again on the locked row: where the cause has no such move from the
    current state (someone moved the task meanwhile, or it is already there), nothing happens.
    """
    task = lock_task(task)
    if not TASK.system_moves(via, task.status, to):
        return
    before = _save_status(task, to, actor=actor)
    record_event(
        task.engagement,
        events.TASK_STATUS_CHANGED,
        actor=actor,
        task=task,
        from_state=before,
        to_state=to,
        data={"via": via},
    )
    tell_ready(task, actor=actor)
