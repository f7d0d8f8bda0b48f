"""What the chat channel pages show: a person's own channel, and an engagement's channels
per party (a constant number of queries)."""

from __future__ import annotations

from typing import Any

from engagements import policy
from engagements.choices import ChatKind, Delivery
from engagements.models import ChatChannel, Engagement
from raci.models import VersionParty


def may_manage_chat(user: Any, engagement: Engagement) -> bool:
    return bool(policy.offered(user, engagement, names=["engagement.manage_chat"], seat=None))


def personal_chat(user: Any) -> dict:
    return {
        "chat_channel": ChatChannel.objects.filter(user=user).first(),
        "chat_kinds": ChatKind.choices,
        "chat_deliveries": Delivery.choices,
    }


def engagement_chat_page(engagement: Engagement) -> dict:
    """The parties of the engagement's template version (1) and their channels (1)."""
    parties = [
        c.party
        for c in VersionParty.objects.filter(version_id=engagement.template_version_id)
        .select_related("party")
        .order_by("position")
    ]
    channels = {
        c.party_id: c
        for c in ChatChannel.objects.filter(engagement=engagement).select_related("party")
    }
    return {
        "engagement": engagement,
        "rows": [(p, channels.get(p.pk)) for p in parties],
        "chat_kinds": ChatKind.choices,
        "chat_deliveries": Delivery.choices,
    }


def engagement_channel_for_view(user: Any, channel_id: int) -> ChatChannel | None:
    return (
        ChatChannel.objects.filter(engagement__in=Engagement.objects.visible_to(user))
        .select_related("engagement__organization", "party")
        .filter(pk=channel_id)
        .first()
    )
