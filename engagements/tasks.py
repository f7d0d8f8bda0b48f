"""Celery tasks: deliver the outbox, sweep what was left, remind, and send digests.

Every task takes ids (or nothing), re-reads the database, claims rows before it
acts on them, and is safe to run twice or on two workers at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from functools import partial

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from psaas_portal.emails import MESSAGE_ERRORS, render_email, send_each

from . import delivery_backoff, outbox_mail, wakeup
from .choices import Channel
from .models import Notification, Profile
from .sent import SentGroups, record_before_release

log = logging.getLogger(__name__)

# SMTP trouble worth retrying: refused or dropped connections, temporary SMTP errors.
RETRYABLE = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)


def claimable(queryset, now: dt.datetime):
    """The rows a claim may take, in the order it takes them (by id: the order of the
    channel's queue index, notification_email_queue_idx or notification_chat_queue_idx,
    which hold its unsent rows only, so the claim reads its batch and stops, however many
    rows were sent before)."""
    stale = now - dt.timedelta(seconds=settings.NOTIFY_CLAIM_LEASE)
    return (
        queryset.filter(sent_at__isnull=True, attempts__lt=settings.NOTIFY_MAX_ATTEMPTS)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .order_by("id")
    )


def claim_rows(queryset, limit: int) -> list[Notification]:
    """Claims up to `limit` unsent rows for this worker and returns them, in id order, as
    claimed: a conditional update on rows that are unclaimed or whose claim expired (a worker
    that died), and not waiting out a temporary refusal (`retry_at`). Only claimed rows are
    sent.

    On PostgreSQL one statement (an UPDATE of the rows a `FOR UPDATE SKIP LOCKED` subquery
    picks, RETURNING the rows): two workers never claim the same row, and finding nothing
    costs that one query; the rows come back with the claim, not read again. The pick is
    `= ANY(ARRAY(subquery))`, an InitPlan run once: `IN (subquery ... LIMIT n)` may be
    planned as a join that runs the subquery again per row, each run locking and returning
    other rows, so more than `limit` were claimed (seen in the full suite: 6 claimed for a
    batch of 4)."""
    now = timezone.now()
    if connection.vendor == "postgresql":  # raw() maps the columns as the ORM's reads do
        return sorted(
            Notification.objects.raw(*_claim_sql(queryset, limit, now, "*")), key=lambda n: n.pk
        )
    with transaction.atomic():  # SQLite (make run): one writer at a time anyway
        return list(_claim_sqlite(queryset, limit, now))


def claim(queryset, limit: int) -> list[int]:
    """The ids of the rows claim_rows would claim, claimed the same way (what the chat
    delivery, which reads its rows itself, needs)."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(*_claim_sql(queryset, limit, now, '"id"'))
            return sorted(pk for (pk,) in cursor.fetchall())
    with transaction.atomic():
        return list(_claim_sqlite(queryset, limit, now).values_list("id", flat=True))


def _claim_sql(queryset, limit: int, now: dt.datetime, returning: str) -> tuple[str, list]:
    """PostgreSQL: the claim's one statement and its parameters, RETURNING `returning`."""
    pick, params = claimable(queryset, now).values("id")[:limit].query.sql_with_params()
    table = connection.ops.quote_name(Notification._meta.db_table)
    return (
        f'UPDATE {table} SET "claimed_at" = %s, "attempts" = "attempts" + 1 '
        f'WHERE "id" = ANY(ARRAY({pick} FOR UPDATE SKIP LOCKED)) RETURNING {returning}',
        [now, *params],
    )


def _claim_sqlite(queryset, limit: int, now: dt.datetime):
    """SQLite (make run), inside the caller's transaction: pick and claim; the rows this
    claim took, in id order."""
    ids = list(claimable(queryset, now).values_list("id", flat=True)[:limit])
    if ids:
        claimable(Notification.objects.filter(id__in=ids), now).update(
            claimed_at=now, attempts=F("attempts") + 1
        )
    return Notification.objects.filter(id__in=ids, claimed_at=now).order_by("id")


def _mark_failed(notification_id: int):
    """The server refused this message alone: a temporary refusal (4xx) waits with a growing
    delay, a permanent one (5xx) is given up at once (`delivery_backoff`)."""

    def failed(exc: Exception) -> None:
        delivery_backoff.refused(notification_id, exc)  # logs it (WARNING, or ERROR if given up)

    return failed


# Before a message, the claim is renewed when this long has passed since the last renewal:
# fast batches pay nothing, and a message starts with (almost) a whole lease before it.
RENEW_AFTER_SECONDS = 1.0


def _renewing(
    stamp: dt.datetime | None,
    rows: list[tuple[int, object]],
    groups: SentGroups,
    lost: set[int],
):
    """Yields the items of the rows this worker still holds (and, before each, records the
    accepted ones if their group waited long enough).

    Before a message, when more than RENEW_AFTER_SECONDS passed since the last renewal, the
    claim on the rows not yet sent is renewed by a conditional update on this worker's claim
    time; a row another worker took over meanwhile (its claim expired) is skipped, never
    sent twice, and put in `lost` (not this worker's to release). A message starts with a
    whole lease ahead of it, and the lease is longer than the slowest SMTP exchange
    (NOTIFY_CLAIM_LEASE: at least six EMAIL_TIMEOUTs)."""
    renewed = time.monotonic()
    for index, (pk, item) in enumerate(rows):
        groups.due()
        if stamp is not None and time.monotonic() - renewed >= RENEW_AFTER_SECONDS:
            now = timezone.now()
            remaining = [p for p, _ in rows[index:] if p not in lost]
            mine = Notification.objects.filter(
                id__in=remaining, sent_at__isnull=True, claimed_at=stamp
            )
            if mine.update(claimed_at=now) < len(remaining):
                held = set(
                    Notification.objects.filter(id__in=remaining, claimed_at=now).values_list(
                        "id", flat=True
                    )
                )
                lost |= set(remaining) - held
                log.warning("claim lost on %d email(s); another worker has them", len(lost))
            stamp, renewed = now, time.monotonic()
        if pk in lost:
            continue
        yield item


def deliver(ids: list[int]) -> int:
    """Sends claimed email rows (claim) over one SMTP connection (send_claimed)."""
    if not ids:
        return 0
    return send_claimed(outbox_mail.read_batch(ids), ids)


def deliver_claimed(rows: list[Notification]) -> int:
    """Sends the rows claim_rows returned (their related rows read here)."""
    if not rows:
        return 0
    return send_claimed(outbox_mail.with_related(rows), [n.pk for n in rows])


def send_claimed(rows: list[Notification], ids: list[int]) -> int:
    """Sends claimed email rows, read with what their emails need (`rows`; `ids`: every row
    claimed) over one SMTP connection; the accepted ones are marked sent a group at a time
    as it goes (SentGroups), the last group at the end.

    On an SMTP error the accepted messages are recorded, the rows not yet sent are released
    for the retry, and the error propagates.
    """
    why_not = {n.pk: outbox_mail.unsendable(n) for n in rows}
    groups, shared, lost = SentGroups(), {}, set[int]()
    sendable = [n for n in rows if not why_not[n.pk]]
    try:
        for reason in {r for r in why_not.values() if r}:  # settled, not retried
            Notification.objects.filter(
                id__in=[p for p, r in why_not.items() if r == reason]
            ).update(sent_at=timezone.now(), last_error=reason)
        stamp = sendable[0].claimed_at if sendable else None
        sent = send_each(
            _renewing(
                stamp,
                [
                    (
                        n.pk,
                        (
                            outbox_mail.message(n, shared),
                            partial(groups.accepted, n.pk),
                            _mark_failed(n.pk),
                        ),
                    )
                    for n in sendable
                ],
                groups,
                lost,
            )
        )
        groups.flush()
    except RETRYABLE as exc:
        # The mail server was unreachable: nothing left was really tried, so the claim
        # does not count as an attempt (an outage delays delivery, it never drops it). Rows
        # another worker took over meanwhile are left to it.
        delivery_backoff.outage_started(exc)
        left = [p for p in record_before_release(groups, ids) if p not in lost]
        Notification.objects.filter(
            id__in=left, sent_at__isnull=True, claimed_at__isnull=False
        ).update(
            claimed_at=None, last_error=str(exc)[:300], attempts=Greatest(F("attempts") - 1, 0)
        )
        raise
    except BaseException:
        # Anything else after the claim (the database gone, a template error, the task
        # killed by its time limit): the claim is released so the rows go out on the next
        # try; not on rows another worker took over meanwhile (their claim is theirs).
        left = [p for p in record_before_release(groups, ids) if p not in lost]
        delivery_backoff.release(left, uncount=False)
        raise
    if sendable:
        delivery_backoff.outage_over()
    return sent


def deliver_pending_batches(max_batches: int | None = None) -> int:
    """Delivers every unsent immediate email, batch by batch (the sweep)."""
    sent = 0
    pending = immediate_emails()
    for _ in range(max_batches or settings.NOTIFY_SWEEP_MAX_BATCHES):
        rows = claim_rows(pending, settings.NOTIFY_BATCH_SIZE)
        if not rows:
            break
        sent += deliver_claimed(rows)
    return sent


retrying = {
    "autoretry_for": RETRYABLE,
    "retry_backoff": settings.NOTIFY_RETRY_BACKOFF,
    "retry_backoff_max": settings.NOTIFY_RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": settings.NOTIFY_MAX_RETRIES,
}


@shared_task(**retrying)
def deliver_event(event_id: int) -> int:
    """Delivers the immediate emails of one event (what a commit enqueued before the drain
    across events, deliver_emails; kept for the messages still queued under this name)."""
    pending = Notification.objects.filter(event_id=event_id, channel=Channel.EMAIL, digest=False)
    sent = 0
    while rows := claim_rows(pending, settings.NOTIFY_BATCH_SIZE):
        sent += deliver_claimed(rows)
    return sent


def immediate_emails():
    return Notification.objects.filter(channel=Channel.EMAIL, digest=False)


def request_delivery() -> None:
    """After commit: ask a worker to drain the pending emails, whichever events they are of.
    Nothing is published while a drain is queued and has not started (engagements.wakeup).
    Raises what the publish raises (the broker unreachable): the caller logs it."""
    if not wakeup.ask():
        return
    try:
        deliver_emails.delay()
    except BaseException:
        wakeup.clear()
        raise


@shared_task(**retrying)
def deliver_emails() -> int:
    """One batch of pending immediate emails across events (NOTIFY_BATCH_SIZE, over one SMTP
    connection). A full batch asks for another drain before it is sent, so a free worker
    process takes the next batch meanwhile: a backlog is sent by every process, one task
    per batch, and none is a long drain racing the others for the same rows (skip locked
    keeps them apart anyway). Finding nothing costs one query."""
    wakeup.clear()
    rows = claim_rows(immediate_emails(), settings.NOTIFY_BATCH_SIZE)
    if len(rows) == settings.NOTIFY_BATCH_SIZE:
        try:
            request_delivery()
        except Exception:  # the broker went away: this batch still goes, the sweep does the rest
            log.warning("could not ask for the next batch; the sweep will send it", exc_info=True)
    return deliver_claimed(rows)


@shared_task(**retrying)
def deliver_pending() -> int:
    """Beat: delivers what was left unsent (the broker was down, a worker died)."""
    return deliver_pending_batches()


# --- Digests -------------------------------------------------------------------------


def send_digest_batches(now: dt.datetime | None = None) -> int:
    """One email per person per day listing every digest item since the last one.

    Per person: a short transaction claims their items and moves `last_digest_at`
    (the profile row lock makes two runs at once send one digest); the email is sent
    after commit; a person whose mail fails is released and does not block the others.
    """
    now = now or timezone.now()
    min_gap = dt.timedelta(hours=settings.DIGEST_MIN_HOURS)
    stale = now - dt.timedelta(seconds=settings.NOTIFY_CLAIM_LEASE)
    User = get_user_model()
    sent = 0
    user_ids = list(
        Notification.objects.filter(channel=Channel.EMAIL, digest=True, sent_at__isnull=True)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    for user in User.objects.filter(pk__in=user_ids, profile__isnull=False).select_related(
        "profile"
    ):
        with transaction.atomic():
            profile = Profile.objects.select_for_update().get(pk=user.profile.pk)
            previous = profile.last_digest_at
            if previous and now - previous < min_gap:
                continue
            unsent = Notification.objects.filter(
                recipient=user, channel=Channel.EMAIL, digest=True, sent_at__isnull=True
            )
            items = list(
                unsent.filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
                .select_related("event__actor", "task", "engagement__organization")
                .order_by("created_at", "id")
            )
            if not items:
                continue
            ids = [n.pk for n in items]
            if not (user.email and user.is_active):
                Notification.objects.filter(pk__in=ids).update(
                    sent_at=now, last_error="no email address"
                )
                continue
            Notification.objects.filter(pk__in=ids).update(claimed_at=now)
            profile.last_digest_at = now
            profile.save(update_fields=["last_digest_at"])
        message = render_email(
            "digest",
            {
                "items": [(n, outbox_mail.link(n)) for n in items],
                "recipient": user,
                "since": previous,
            },
            user.email,
            message_id=f"<digest-{user.pk}-{now:%Y%m%d%H%M%S}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>",
        )
        try:
            send_each([(message, lambda: None, _raise)])
        except (*RETRYABLE, *MESSAGE_ERRORS) as exc:
            log.warning("digest for user %s not sent: %s", user.pk, exc)
            Notification.objects.filter(pk__in=ids).update(
                claimed_at=None, last_error=str(exc)[:300]
            )
            Profile.objects.filter(pk=profile.pk, last_digest_at=now).update(
                last_digest_at=previous
            )
            continue
        Notification.objects.filter(pk__in=ids).update(sent_at=now, last_error="")
        sent += 1
    return sent


def _raise(exc: Exception) -> None:
    raise exc


@shared_task(**retrying)
def send_digests() -> int:
    """Beat (daily): the digests."""
    return send_digest_batches()


# --- Retention -----------------------------------------------------------------------


def prune_notification_batches(
    now: dt.datetime | None = None, batch_size: int = 5000, max_batches: int = 200
) -> int:
    """Deletes settled notification rows older than NOTIFY_RETENTION_DAYS: emails sent or
    given up on (attempts used up), and portal notifications. Unsent emails still being
    tried stay. Events, the audit trail, are never touched. Batches of ids, so a large
    backlog never holds one long lock."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.NOTIFY_RETENTION_DAYS)
    settled = Notification.objects.filter(created_at__lt=cutoff).filter(
        Q(channel=Channel.PORTAL)
        | Q(sent_at__isnull=False)
        | Q(attempts__gte=settings.NOTIFY_MAX_ATTEMPTS)
    )
    deleted = 0
    for _ in range(max_batches):
        ids = list(settled.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        deleted += Notification.objects.filter(pk__in=ids).delete()[0]
    return deleted


@shared_task(**retrying)
def prune_notifications() -> int:
    """Beat (daily): the retention of notification rows."""
    return prune_notification_batches()
