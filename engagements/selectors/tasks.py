"""Reads for one task's page: its letters, the moves offered to the person, sign-offs,
comments, history, and for an infrastructure task its checklist."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from engagements import policy
from engagements.choices import SeedTask
from engagements.models import EngagementTask, InfrastructureChecklist
from engagements.selectors.attached import Removal, attached, attached_to
from engagements.selectors.engagements import members_with_roles, waiting_for
from engagements.selectors.prerequisites import STARTING, waits_of


def threaded(comments: list, *, answering_party: int | None = None) -> list:
    """Comments in order, each question with its answers (`thread`) under it, and whether
    the person may answer it (`can_answer`: open, and asked of their party)."""
    answers: dict[int, list] = {}
    for c in comments:
        if c.answer_to_id:
            answers.setdefault(c.answer_to_id, []).append(c)
    top = [c for c in comments if not c.answer_to_id]
    for c in top:
        c.thread = answers.get(c.pk, [])
        c.can_answer = bool(
            answering_party and c.is_open_question and c.addressed_to_id == answering_party
        )
    return top


def task_page(task: EngagementTask, *, user: Any) -> dict:
    """The task view. Queries: my seat (1), its prerequisites and the tasks they name (2),
    sign-offs (1), comments (1), history (1), and for the infrastructure task its checklist
    and items (2)."""
    seat = policy.member_seat(task.engagement_id, user)
    party_id = seat.party_id if seat else None
    side = policy.side_on(task, seat)
    offered = policy.offered(
        user,
        task,
        seat=seat,
        names=[
            "task.sign_off",
            "task.reopen",
            "task.ask",
            "task.consult",
            "task.answer",
            "task.override_order",
            "task.attach",
        ],
    )
    waits = waits_of(task)
    held_back = bool(waits) and task.prerequisites_overridden_at is None
    moves = [
        (to, m)
        for to, m in policy.moves_offered(task, seat, user)
        if m.rule == "task.move" and not (held_back and to in STARTING)
    ]
    cells = sorted(task.parties.all(), key=lambda tp: (not tp.party.is_vendor, tp.party.name))
    checklist = None
    if task.key == SeedTask.INFRASTRUCTURE and task.environment:
        checklist = (
            InfrastructureChecklist.objects.filter(
                engagement_id=task.engagement_id, environment=task.environment
            )
            .select_related("submitted_by", "reviewed_by")
            .prefetch_related("items")
            .first()
        )
    rows = (
        attached(task.attached_rows)
        if hasattr(task, "attached_rows")
        else attached_to(EngagementTask.objects.filter(pk=task.pk), "task")
    )
    can_attach = "task.attach" in offered and task.retired_at is None
    return {
        "attached": Removal(user, task.engagement, can_attach=can_attach).mark(rows),
        "can_attach": can_attach,
        "task": task,
        "engagement": task.engagement,
        "cells": cells,
        "my_party_id": party_id,
        "is_responsible": side.responsible,
        "is_signer": side.signer,
        "can_ask": "task.ask" in offered or "task.consult" in offered,
        "moves": moves,
        "can_sign_off": "task.sign_off" in offered,
        "can_reopen": "task.reopen" in offered,
        "waits": waits if held_back else [],
        "can_override": held_back and "task.override_order" in offered,
        "consulted": [
            tp.party
            for tp in cells
            if tp.party_id != party_id
            and (
                (tp.consulted and "task.ask" in offered)
                or (tp.responsible and "task.consult" in offered)
            )
        ],
        "signoffs": list(task.signoffs.select_related("signed_by", "party")),
        "comments": threaded(
            list(task.comments.select_related("author", "addressed_to")),
            answering_party=party_id if "task.answer" in offered else None,
        ),
        "history": list(
            task.events.select_related("actor", "task").order_by("-created_at", "-id")[:100]
        ),
        "overridden_by": (
            task.prerequisites_overridden_by if task.prerequisites_overridden_at else None
        ),
        "waiting_on": waiting_for(task, members_with_roles(task.engagement)),
        "checklist": checklist,
        "today": timezone.localdate(),
    }
