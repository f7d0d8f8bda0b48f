"""A task read for a change, in one query under its row lock: the task with its engagement,
its letters (with their parties), the acting person's seat on the engagement and whether
they may see it at all.

The services that change a task (engagements.actions.tasks) decide everything from this
one row: whether the person may see the task (else NotFound, a 404), whether it is still
live, whether the form saw its current revision, and what the policy allows their seat.
The letters are read after the lock is taken (in the same statement), so the rules see the
current state; they come back as one JSON array and fill the task's `parties` prefetch
cache, as `prefetch_related("parties__party")` would, without a second and third query.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib.postgres.aggregates import JSONBAgg
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    JSONField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import JSONObject

from engagements.errors import NotFound
from engagements.models import Engagement, EngagementTask, MemberRole, Membership, TaskParty
from engagements.policy import Seat
from engagements.querysets import (
    admin_known,
    visibility_of,
    visible_engagement_expression,
    visible_engagements_q,
)
from psaas_portal import prepared
from raci.models import Party, Prerequisite

_CELL = [f.attname for f in TaskParty._meta.concrete_fields]
_PARTY = [f.attname for f in Party._meta.concrete_fields]


def _letters() -> Subquery:
    fields = {name: name for name in _CELL}
    fields |= {f"party__{name}": f"party__{name}" for name in _PARTY}
    return Subquery(
        TaskParty.objects.filter(task=OuterRef("pk"))
        .order_by()
        .values("task")
        .annotate(cells=JSONBAgg(JSONObject(**fields), order_by=("party_id",)))
        .values("cells"),
        output_field=JSONField(),
    )


def _is_user(actor: Any) -> bool:
    return (
        bool(getattr(actor, "is_authenticated", False)) and getattr(actor, "pk", None) is not None
    )


def _locking(
    pk: int, user_id: int | None = None, *, known: bool | None = None, actor: Any = None
) -> QuerySet:
    """The locking read (compiled once per shape: psaas_portal.prepared): the task by `pk`,
    with the seat and visibility of the person `user_id` (or `actor`) when there is one."""
    rows = (
        EngagementTask.objects.select_for_update(of=("self",))
        .select_related("engagement")
        .annotate(
            letters=_letters(),
            # whether its template task has prerequisites at all: most have none, and then
            # the order check (selectors.prerequisites.waits_of) reads nothing more
            has_prerequisites=Exists(
                Prerequisite.objects.filter(task_id=OuterRef("template_task_id"))
            ),
        )
    )
    if user_id is not None or actor is not None:
        who = {"user_id": user_id} if actor is None else {"user": actor}
        if actor is not None:
            visible = visible_engagement_expression(actor)
        else:
            assert user_id is not None
            visible = visibility_of(user_id, known)
        memberships = Membership.objects.filter(engagement_id=OuterRef("engagement_id"), **who)
        rows = rows.annotate(
            visible=ExpressionWrapper(visible, output_field=BooleanField()),
            seat_party=Subquery(memberships.values("party_id")[:1]),
            seat_roles=ArraySubquery(
                MemberRole.objects.filter(
                    membership__engagement_id=OuterRef("engagement_id"),
                    **{f"membership__{k}": v for k, v in who.items()},
                )
                .order_by()
                .values("title")
            ),
        )
    return rows.filter(pk=pk).order_by()[:1]


def lock_task(task: EngagementTask | int, *, actor: Any = None) -> EngagementTask:
    """The task row locked for this transaction (select_for_update of the task only) with
    its engagement and letters; for a signed-in actor also their seat (`task.seat`) and
    whether they may see the task (NotFound when not, or when there is no such task)."""
    pk = task if isinstance(task, int) else task.pk
    if connection.vendor != "postgresql":
        return _lock_task_portably(pk, actor)
    person = _is_user(actor)
    if not person:
        found = prepared.rows(("lock_task", "system"), _locking, pk=pk)
    elif actor.is_active:
        known = admin_known(actor)
        build = partial(_locking, known=known)
        found = prepared.rows(("lock_task", known), build, pk=pk, user_id=actor.pk)
    else:  # an inactive person sees nothing (visible_engagement_expression)
        found = list(_locking(pk, actor=actor))
    locked = found[0] if found else None
    if locked is None or (person and not locked.visible):
        raise NotFound("No such task.")
    db = locked._state.db
    cells = []
    for row in locked.letters or ():
        cell = TaskParty.from_db(db, _CELL, [row[name] for name in _CELL])
        cell.party = Party.from_db(db, _PARTY, [row[f"party__{name}"] for name in _PARTY])
        cell.task = locked
        cells.append(cell)
    parties = locked.parties.all()
    parties._result_cache = cells
    parties._prefetch_done = True
    locked._prefetched_objects_cache = {"parties": parties}
    if person:
        locked.seat = (
            Seat(locked.seat_party, frozenset(locked.seat_roles or ()))
            if locked.seat_party is not None
            else None
        )
    return locked


def _lock_task_portably(pk: int, actor: Any) -> EngagementTask:
    """The same result without PostgreSQL's JSON and array aggregates (SQLite under `make
    run`): the locked task, then its letters, visibility and seat in a few more queries."""
    locked = (
        EngagementTask.objects.select_for_update()
        .select_related("engagement")
        .prefetch_related("parties__party")
        .filter(pk=pk)
        .first()
    )
    if locked is None:
        raise NotFound("No such task.")
    if _is_user(actor):
        visible = Engagement.objects.filter(pk=locked.engagement_id).filter(
            visible_engagements_q(actor)
        )
        if not visible.exists():
            raise NotFound("No such task.")
        membership = Membership.objects.filter(
            engagement_id=locked.engagement_id, user=actor
        ).first()
        locked.seat = (
            Seat(
                membership.party_id,
                frozenset(membership.roles.values_list("title", flat=True)),
            )
            if membership is not None
            else None
        )
    return locked
