"""What an outbox row's email says, and reading a claimed batch for it.

`read_batch` reads the rows and what their emails need (`with_related`, for rows already
read); `unsendable` says why a row will not be sent; `message` builds its email (an event's
email rendered once per batch for its recipients); `link` is where the email points.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.http import urlencode

from psaas_portal.emails import compose, render_email, render_parts

from . import ical
from .choices import InvitationState, ReminderKind
from .events import details, kind_of, person, title
from .models import Engagement, EngagementTask, Event, Invitation, Notification, sign_invitation

# What an email needs of each related row, read once per batch (a batch's rows share a few
# events, tasks and engagements): one small read per relation instead of one join that built
# seven objects per row, each event's JSON parsed again for each of its recipients. Read
# without the models' default orderings (in_bulk gives a dict): EngagementTask's orders by
# engagement, so its read joined the engagement and organization for nothing, and building
# an ORDER BY costs more Python than the rest of such a small query.
_RELATED = {
    "event": lambda: Event.objects.select_related("actor").order_by(),
    "task": lambda: EngagementTask.objects.order_by(),
    "engagement": lambda: Engagement.objects.select_related("organization").order_by(),
    "recipient": lambda: get_user_model().objects.order_by(),
    "invitation": lambda: Invitation.objects.select_related(
        "engagement__organization", "invited_by", "party"
    ).order_by(),
}


def read_batch(ids: list[int]) -> list[Notification]:
    """The claimed rows not yet sent, in id order, each with the related rows its email
    needs (with_related)."""
    return with_related(list(Notification.objects.filter(id__in=ids, sent_at__isnull=True)))


def with_related(rows: list[Notification]) -> list[Notification]:
    """The rows in id order, each given the related rows its email needs, one read per
    relation for the batch. A row whose related row was deleted since the rows were read is
    left out: the delete cascades to the row itself, so there is nothing to send."""
    rows = sorted(rows, key=lambda n: n.pk)
    gone: set[int] = set()
    for name, queryset in _RELATED.items():
        field = Notification._meta.get_field(name)
        wanted = {getattr(n, field.attname) for n in rows} - {None}
        if not wanted:
            continue
        found = queryset().in_bulk(wanted)
        for n in rows:
            key = getattr(n, field.attname)
            if key is None:
                continue
            if key in found:
                field.set_cached_value(n, found[key])
            else:
                gone.add(n.pk)
    return [n for n in rows if n.pk not in gone]


def link(notification: Notification) -> str:
    if notification.kind == ReminderKind.DUTY_DUE:
        return settings.SITE_URL + reverse("engagements:duties", args=[notification.engagement_id])
    if notification.kind in (ReminderKind.WINDOW_SOON, ReminderKind.WINDOW_UNPREPARED):
        return settings.SITE_URL + reverse("engagements:cycles", args=[notification.engagement_id])
    if notification.task_id:
        return settings.SITE_URL + reverse("engagements:task-detail", args=[notification.task_id])
    return settings.SITE_URL + reverse(
        "engagements:engagement-detail", args=[notification.engagement_id]
    )


def _invitation_message(notification: Notification):
    """The invitation email: the link is signed now, from the invitation's current nonce (a
    resent invitation's earlier email carries a link that no longer works)."""
    invitation = notification.invitation
    assert invitation is not None
    token = sign_invitation(invitation)
    return render_email(
        "invitation",
        {
            "invitation": invitation,
            "engagement": invitation.engagement,
            "inviter": invitation.invited_by,
            "link": f"{settings.SITE_URL}{reverse('accounts:invitation')}?{urlencode({'token': token})}",
            "valid_days": settings.INVITATION_VALID_DAYS,
        },
        invitation.email,
        message_id=f"<notification-{notification.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>",
    )


def unsendable(notification: Notification) -> str:
    """Why a claimed row will not be sent ("" if it will)."""
    if notification.invitation_id is not None:
        invitation = notification.invitation
        assert invitation is not None
        return "" if invitation.state == InvitationState.PENDING else "invitation closed"
    recipient = notification.recipient
    if recipient is None or not recipient.email or not recipient.is_active:
        return "no email address"
    return ""


# A notification email is the same for every recipient of an event but for their name:
# within a batch it is rendered once per event and reason, with this stand-in for the
# recipient, and each message gets the name put in (escaped in the HTML, as the template
# would). The token is no one's name and appears nowhere else.
_RECIPIENT = f"recipient-{secrets.token_hex(8)}"


class _StandIn:
    def get_full_name(self) -> str:
        return _RECIPIENT


def message(notification: Notification, shared: dict | None = None):
    """The email of a row. `shared` (one dict per batch) keeps the parts rendered for an
    event and reason, for its other recipients."""
    if notification.invitation_id is not None:
        return _invitation_message(notification)
    message_id = f"<notification-{notification.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
    template = "reminder" if notification.kind.startswith("reminder.") else "notification"
    if shared is not None and template == "notification" and notification.event_id:
        key = (notification.event_id, notification.task_id, notification.reason)
        if key not in shared:
            shared[key] = render_parts(template, email_context(notification, _StandIn()))
        subject, text, html = shared[key]
        name = person(notification.recipient)
        message = compose(
            subject,
            text.replace(_RECIPIENT, name),
            html.replace(_RECIPIENT, escape(name)),
            notification.address,
            message_id=message_id,
        )
    else:
        context = email_context(notification, notification.recipient)
        message = render_email(template, context, notification.address, message_id=message_id)
    invitation = _invitation(notification)
    if invitation:
        message.attach(*invitation)
    return message


# When an event happened, as its emails say it (the `date` filter's format, in the portal's
# time zone): formatted once for the text and the HTML parts. The filter costs a third of
# rendering a notification's three templates (it looks the format up and formats again in
# each), measured in a worker delivering a backlog (issue 16, P5).
WHEN_FORMAT = "j M Y H:i e"


def email_context(notification: Notification, recipient) -> dict:
    """What the notification and reminder templates are given."""
    event = notification.event
    return {
        "n": notification,
        "event": event,
        # An event's line, details, time and why this person is told, worked out once for
        # its subject, text and HTML.
        "headline": title(event, notification.task) if event else "",
        "details": details(event) if event else [],
        "when": dateformat.format(timezone.localtime(event.created_at), WHEN_FORMAT)
        if event
        else "",
        "why": notification.get_reason_display() or notification.reason,
        "task": notification.task,
        "engagement": notification.engagement,
        "link": link(notification),
        "recipient": recipient,
    }


def _invitation(notification: Notification) -> tuple[str, bytes, str] | None:
    """An attendee's handover email carries the invitation as it was at the event (an update
    or a cancellation has the same UID and a higher SEQUENCE)."""
    event = notification.event
    if event is None or not kind_of(event).invites:
        return None
    data = event.data.get("invitation")
    if not data:
        return None
    if notification.recipient_id in event.data.get("removed_ids", ()):
        data = {**data, "status": "cancelled"}  # taken off the list: the meeting is off for them
    elif notification.recipient_id not in event.data.get("attendee_ids", ()):
        return None
    method = "CANCEL" if data["status"] == "cancelled" else "REQUEST"
    return (
        "operations-handover.ics",
        ical.invitation(data, now=event.created_at),
        f"text/calendar; charset=utf-8; method={method}",
    )
