"""Go-live by itself: the engagement moves from onboarding to live when its Production
deployment is signed off (the moment the duty clocks start), as one audited event that
tells the members of both parties. Closing it stays a manager's action with a reason."""

from __future__ import annotations

from typing import Any

from engagements import events
from engagements.actions.duties import start_duty_clocks
from engagements.audit import record_event
from engagements.choices import EngagementState
from engagements.models import Engagement, EngagementTask
from engagements.states import ENGAGEMENT

CAUSE = "production signed off"


def production_signed_off(task: EngagementTask, *, actor: Any) -> bool:
    """Inside the sign-off's transaction: the duty clocks start and, where the engagement is
    still onboarding, it goes live. Returns whether it went live now."""
    start_duty_clocks(task.engagement)  # the appliance is live: backups and monitoring
    engagement = Engagement.objects.select_for_update().get(pk=task.engagement_id)
    if not ENGAGEMENT.system_moves(CAUSE, engagement.state, EngagementState.LIVE):
        return False  # already live (a re-signed Production), or closed
    before = engagement.state
    engagement.state = EngagementState.LIVE
    engagement.save(update_fields=["state"])
    record_event(
        engagement,
        events.ENGAGEMENT_WENT_LIVE,
        actor=actor,
        task=task,
        from_state=before,
        to_state=EngagementState.LIVE,
    )
    return True
