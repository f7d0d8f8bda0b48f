"""How a refused email is retried: temporary refusals (SMTP 4xx) wait, longer each time, with
jitter; permanent ones (5xx) are given up at once. Rows given up are counted for operators
(`portal_status`, `/readyz`) and can be put back in the queue (`manage.py requeue_notifications`).

An SMTP outage (the relay unreachable) is logged once at WARNING when it starts and once when
it ends, whichever worker sees it: the marker is a row in the database (a Heartbeat row named
`smtp-outage`), created by the first failure and deleted by the first success.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import smtplib
import time

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, F, Q
from django.utils import timezone

from psaas_portal.models import Heartbeat

from .choices import SENT_CHANNELS, Channel
from .models import Notification

log = logging.getLogger("engagements.delivery")

OUTAGE_MARKER = "smtp-outage"
# This process saw the outage (then its first success ends it), or when it last looked for a
# marker left by another process: at most one query a minute on the sending path.
_outage = {"seen": False, "checked": 0.0}


def smtp_code(exc: BaseException) -> int | None:
    """The SMTP reply code of a refusal, or None when there is none (a dropped connection)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return max(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


def is_permanent(exc: BaseException) -> bool:
    """A 5xx refusal: trying again will not help."""
    code = smtp_code(exc)
    return code is not None and 500 <= code < 600


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """The wait after the `attempts`-th temporary refusal: base * 2**(attempts-1), capped, with
    "full jitter" over its upper half (so a burst of refused rows does not come back at once).
    With the defaults (60 s base, 6 h cap, 10 attempts) the nine waits between the ten tries
    add up to 4 to 8.5 hours (the cap is not reached)."""
    rng = rng or random
    step = settings.NOTIFY_BACKOFF_BASE * 2 ** max(0, attempts - 1)
    step = min(step, settings.NOTIFY_BACKOFF_MAX)
    return step / 2 + rng.uniform(0, step / 2)


def refused(notification_id: int, exc: BaseException) -> None:
    """The server refused this one message: a 5xx gives it up, a 4xx delays it (the attempt,
    counted at the claim, stays counted); either way the claim is released."""

    now = timezone.now()
    row = Notification.objects.filter(pk=notification_id, sent_at__isnull=True)
    attempts = row.values_list("attempts", flat=True).first()
    if attempts is None:
        return
    error = str(exc)[:300]
    if is_permanent(exc) or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        row.update(
            claimed_at=None,
            retry_at=None,
            attempts=max(attempts, settings.NOTIFY_MAX_ATTEMPTS),
            last_error=error,
        )
        log.error(
            "notification %s given up after %s attempt(s): %s "
            "(manage.py requeue_notifications puts it back)",
            notification_id,
            attempts,
            error,
        )
        return
    wait = backoff_seconds(attempts)
    row.update(claimed_at=None, retry_at=now + dt.timedelta(seconds=wait), last_error=error)
    log.warning(
        "notification %s refused for now by the mail server (%s); retried in %.0f s",
        notification_id,
        error,
        wait,
    )


def given_up():
    """Emails and chat messages that will not be tried again: attempts used up, never sent,
    and not in flight (a last attempt a worker still holds is not given up yet, nor
    re-queued under it)."""
    in_flight = timezone.now() - dt.timedelta(seconds=settings.NOTIFY_CLAIM_LEASE)
    return Notification.objects.filter(
        channel__in=SENT_CHANNELS,
        sent_at__isnull=True,
        attempts__gte=settings.NOTIFY_MAX_ATTEMPTS,
    ).filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=in_flight))


def waiting():
    """Emails and chat messages waiting for their next try after a temporary refusal."""

    return Notification.objects.filter(
        channel__in=SENT_CHANNELS,
        sent_at__isnull=True,
        attempts__lt=settings.NOTIFY_MAX_ATTEMPTS,
        retry_at__gt=timezone.now(),
    )


def requeue(ids: list[int] | None = None) -> int:
    """Puts given-up emails and chat messages (all, or those ids) back in the queue with
    fresh attempts; the sweeps send them."""
    rows = given_up()
    if ids:
        rows = rows.filter(pk__in=ids)
    count = rows.update(attempts=0, claimed_at=None, retry_at=None)
    if count:
        log.warning("%s given-up notification(s) re-queued", count)
    return count


def outbox_status() -> str:
    """One line for the health checks; RuntimeError (a failing check) never, as a given-up
    message must not take the web servers out of the load balancer."""
    lost = _by_channel(given_up())
    later = _by_channel(waiting())
    parts = []
    for channel, noun in ((Channel.EMAIL, "email(s)"), (Channel.CHAT, "chat message(s)")):
        if later.get(channel):
            parts.append(f"{later[channel]} {noun} waiting to retry")
    for channel, noun in ((Channel.EMAIL, "email(s)"), (Channel.CHAT, "chat message(s)")):
        if lost.get(channel):
            parts.append(f"{lost[channel]} {noun} given up")
    if lost:
        parts[-1] += " (manage.py requeue_notifications)"
    return "; ".join(parts)


def _by_channel(rows) -> dict[str, int]:
    return dict(rows.order_by().values_list("channel").annotate(n=Count("pk")))


def release(ids: list[int], *, uncount: bool) -> None:
    """Releases claimed, unsent rows after a failure (best effort: the database may be what
    failed; then the short lease frees them). `uncount` takes the attempt back (nothing was
    really tried)."""

    try:
        update = {"claimed_at": None}
        if uncount:
            update["attempts"] = F("attempts") - 1
        Notification.objects.filter(
            Q(attempts__gt=0) if uncount else Q(),
            id__in=ids,
            sent_at__isnull=True,
            claimed_at__isnull=False,
        ).update(**update)
    except DatabaseError as exc:
        log.warning("could not release %s claimed notification(s): %s", len(ids), exc)


def outage_started(exc: BaseException) -> None:
    """An SMTP connection failed: the first worker to see it logs the start of the outage."""

    _outage["seen"] = True
    try:
        _, created = Heartbeat.objects.get_or_create(
            name=OUTAGE_MARKER, defaults={"seen_at": timezone.now()}
        )
    except DatabaseError:
        return
    if created:
        log.warning("SMTP outage: the mail server is unreachable (%s); emails wait", exc)


def outage_over() -> None:
    """An SMTP connection worked: if an outage was recorded, it ends here (logged once)."""

    if not _outage["seen"] and time.monotonic() - _outage["checked"] < 60:
        return
    _outage["seen"], _outage["checked"] = False, time.monotonic()
    try:
        deleted, _ = Heartbeat.objects.filter(name=OUTAGE_MARKER).delete()
    except DatabaseError:
        return
    if deleted:
        log.warning("SMTP outage over: the mail server accepts connections again")
