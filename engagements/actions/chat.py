"""Chat channels: a person's own Slack or Teams incoming webhook (beside email and the portal),
and an engagement's, one per party, set by its managers (rule `engagement.manage_chat`).
The URL passes the server-side request forgery check (psaas_portal.outbound) here and again
at each post."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from engagements import events, policy
from engagements.audit import record_event
from engagements.choices import ChatKind, Delivery
from engagements.errors import DomainError
from engagements.models import ChatChannel, Engagement
from psaas_portal.outbound import RefusedURL, check_url
from raci.models import Party, VersionParty

# The hosts each service's incoming webhooks live on (a URL elsewhere is refused, so a
# channel cannot be pointed at an arbitrary program: that is what webhooks are for).
HOSTS = {
    ChatKind.SLACK: ("hooks.slack.com",),
    ChatKind.TEAMS: (".webhook.office.com", ".logic.azure.com", ".powerplatform.com"),
}


def _clean(kind: str, url: str, delivery: str, *, allow_any_host: bool) -> tuple[str, str, str]:
    if kind not in ChatKind.values:
        raise DomainError("Service: choose Slack or Microsoft Teams.")
    if delivery not in Delivery.values:
        raise DomainError("Delivery: choose immediately, daily digest or off.")
    try:
        target = check_url(url)
    except RefusedURL as exc:
        raise DomainError(f"Chat URL: {exc}.") from None
    hosts = HOSTS[ChatKind(kind)]
    if not allow_any_host and not any(
        target.host == h or (h.startswith(".") and target.host.endswith(h)) for h in hosts
    ):
        label = ChatKind(kind).label
        raise DomainError(f"Chat URL: a {label} incoming webhook is on {' or '.join(hosts)}.")
    return kind, url.strip(), delivery


def _any_host() -> bool:
    """Development and tests post to a receiver on 127.0.0.1 (WEBHOOKS_ALLOW_PRIVATE)."""
    return bool(settings.WEBHOOKS_ALLOW_PRIVATE)


def set_personal_chat(user: Any, *, kind: str, url: str, delivery: str) -> ChatChannel:
    """A person's own chat channel (one per person; setting it again replaces it). The URL's
    host is looked up before the transaction opens: a slow DNS answer never holds one open."""
    kind, url, delivery = _clean(kind, url, delivery, allow_any_host=_any_host())
    with transaction.atomic():
        channel, _ = ChatChannel.objects.update_or_create(
            user=user,
            defaults={"kind": kind, "url": url, "delivery": delivery, "created_by": user},
        )
    return channel


@transaction.atomic
def remove_personal_chat(user: Any) -> bool:
    return ChatChannel.objects.filter(user=user).delete()[0] > 0


def set_engagement_chat(
    engagement: Engagement, *, actor: Any, party_id: int, kind: str, url: str, delivery: str
) -> ChatChannel:
    """The engagement's chat channel for one of its parties: told what that party's letters
    reach (setting it again replaces it). The URL's host is looked up before the transaction
    opens, and only for someone the rule allows; the rule is checked again in it."""
    policy.check(actor, "engagement.manage_chat", engagement)
    cleaned = _clean(kind, url, delivery, allow_any_host=_any_host())
    return _set_engagement_chat(engagement, actor=actor, party_id=party_id, cleaned=cleaned)


@transaction.atomic
def _set_engagement_chat(
    engagement: Engagement, *, actor: Any, party_id: int, cleaned: tuple[str, str, str]
) -> ChatChannel:
    policy.check(actor, "engagement.manage_chat", engagement)
    party = Party.objects.filter(
        pk__in=VersionParty.objects.filter(version_id=engagement.template_version_id).values(
            "party_id"
        ),
        pk=party_id,
    ).first()
    if party is None:
        raise DomainError("Party: choose a party of this engagement.")
    kind, url, delivery = cleaned
    channel, _ = ChatChannel.objects.update_or_create(
        engagement=engagement,
        party=party,
        defaults={"kind": kind, "url": url, "delivery": delivery, "created_by": actor},
    )
    record_event(
        engagement,
        events.CHAT_CHANNEL_SET,
        actor=actor,
        data={
            "summary": f"set {party.name}'s {ChatKind(kind).label} channel ({channel.host}, "
            f"{Delivery(delivery).label.lower()})"
        },
    )
    return channel


@transaction.atomic
def remove_engagement_chat(channel: ChatChannel, *, actor: Any) -> None:
    channel = (
        ChatChannel.objects.select_for_update(of=("self",))
        .select_related("engagement", "party")
        .get(pk=channel.pk)
    )
    assert channel.engagement is not None and channel.party is not None
    policy.check(actor, "engagement.manage_chat", channel.engagement)
    record_event(
        channel.engagement,
        events.CHAT_CHANNEL_REMOVED,
        actor=actor,
        data={"summary": f"removed {channel.party.name}'s chat channel ({channel.host})"},
    )
    channel.delete()
