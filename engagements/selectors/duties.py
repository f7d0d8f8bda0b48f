"""Reads for the standing duties page: each duty's state, recent attestations, tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from engagements import policy
from engagements.choices import DutyKind
from engagements.models import Attestation, AttestationToken, Engagement
from engagements.rules import DUTY_TASK
from engagements.selectors.engagements import seed_tasks_of
from engagements.selectors.summary import duties_of
from engagements.states import other_tool, template_tool


def duties_page(engagement: Engagement, *, user: Any, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    seat = policy.member_seat(engagement.pk, user)
    tasks = seed_tasks_of(engagement.pk, list(DUTY_TASK.values()))
    duties = duties_of(engagement, now)
    recent = list(
        Attestation.objects.filter(duty__engagement=engagement)
        .select_related("duty", "recorded_by", "via_token")
        .order_by("-performed_at", "-id")[:40]
    )
    for duty in duties:
        # What the page shows with each duty: the offered rules, its recent attestations,
        # and the tool its template names (offered first; another is flagged).
        tool = template_tool(tasks.get(DUTY_TASK[duty.kind]))
        setattr(duty, "offered", policy.offered(user, duty, tasks=tasks, seat=seat))  # noqa: B010
        setattr(duty, "tool", tool)  # noqa: B010
        setattr(duty, "recent", [a for a in recent if a.duty_id == duty.pk][:10])  # noqa: B010
        for a in duty.recent:  # type: ignore[attr-defined]
            a.other_tool = duty.kind == DutyKind.BACKUP and other_tool(tool, a.tool)
    can_manage_tokens = "token.create" in policy.offered(
        user, engagement, names=["token.create"], tasks=tasks, seat=seat
    )
    return {
        "engagement": engagement,
        "duties": duties,
        "tokens": list(
            AttestationToken.objects.filter(engagement=engagement).select_related(
                "created_by", "revoked_by"
            )
        )
        if can_manage_tokens
        else [],
        "can_manage_tokens": can_manage_tokens,
        "now": now,
    }
