from __future__ import annotations

import datetime as dt

from django.utils import timezone

from engagements.actions.duties import DUTY_TASK
from engagements.models import (
    Attestation,
    AttestationToken,
    Engagement,
)
from engagements.policy import member_party_id, side_on
from engagements.selectors.engagements import duties_of, seed_tasks_of


def duties_page(engagement: Engagement, *, user, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    party = member_party_id(engagement.pk, user)
    tasks = seed_tasks_of(engagement.pk, list(DUTY_TASK.values()))
    duties = duties_of(engagement, now)
    recent = list(
        Attestation.objects.filter(duty__engagement=engagement)
        .select_related("duty", "recorded_by", "via_token")
        .order_by("-performed_at", "-id")[:40]
    )
    for duty in duties:
        duty.me = side_on(tasks.get(DUTY_TASK[duty.kind]), party)
        duty.recent = [a for a in recent if a.duty_id == duty.pk][:10]
    backup_side = side_on(tasks.get(DUTY_TASK["backup"]), party)
    return {
        "engagement": engagement,
        "duties": duties,
        "tokens": list(
            AttestationToken.objects.filter(engagement=engagement).select_related(
                "created_by", "revoked_by"
            )
        )
        if backup_side.responsible
        else [],
        "can_manage_tokens": backup_side.responsible,
        "now": now,
    }
