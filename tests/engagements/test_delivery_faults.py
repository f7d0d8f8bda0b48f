"""Issue 17, items 1 and 2: a temporary SMTP refusal waits (exponential backoff with jitter),
a permanent one is given up at once and shown to operators; any failure after a claim
releases it; the lease is short and renewed while a worker sends; outages are logged once."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from engagements import delivery_backoff, tasks
from engagements.actions.tasks import transition_task
from engagements.choices import Channel, TaskStatus
from engagements.models import Notification
from psaas_portal.models import Heartbeat
from tests.conftest import task_of
from tests.integration.conftest import free_port

pytestmark = pytest.mark.django_db


class Refusing:
    """An aiosmtpd handler answering DATA with `code` (or accepting with 250)."""

    def __init__(self, reply: str = "250 OK"):
        self.reply = reply
        self.accepted: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        if self.reply.startswith("250"):
            self.accepted.append(envelope.content)
        return self.reply


@pytest.fixture
def relay(settings):
    from aiosmtpd.controller import Controller

    handler = Refusing()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    yield handler
    controller.stop()


def changes(engagement, actor, n: int = 1) -> list[int]:
    """n committed status changes on Monitoring (the vendor is Informed): their event ids."""
    task = task_of(engagement, "monitoring")
    ids = []
    for i in range(n):
        task.refresh_from_db()
        to = TaskStatus.IN_PROGRESS if i % 2 == 0 else TaskStatus.NOT_STARTED
        transition_task(task, to=to, actor=actor)
        ids.append(task.events.latest("id").pk)
    return ids


def emails():
    return Notification.objects.filter(channel=Channel.EMAIL)


def test_a_451_delays_the_row_instead_of_using_up_its_attempts(relay, engagement_a, engineer_a):
    relay.reply = "451 4.3.0 try again later"
    (event_id,) = changes(engagement_a, engineer_a)
    tasks.deliver_event(event_id)  # before the fix: 10 claims in a row, the row given up
    row = emails().get()
    assert row.sent_at is None and row.claimed_at is None
    assert row.attempts == 1
    assert "451" in row.last_error
    wait = (row.retry_at - timezone.now()).total_seconds()
    assert 25 < wait <= 60  # the first step: half to all of NOTIFY_BACKOFF_BASE
    assert not delivery_backoff.given_up().exists()
    # Not claimable before its time, even by the sweep; claimable and delivered after it.
    assert tasks.deliver_pending_batches() == 0
    relay.reply = "250 OK"
    emails().update(retry_at=timezone.now() - dt.timedelta(seconds=1))
    assert tasks.deliver_pending_batches() == 1
    assert emails().get().sent_at is not None and len(relay.accepted) == 1


def test_the_backoff_doubles_with_jitter_and_spans_hours(settings):
    rng = random.Random(17)
    waits = [delivery_backoff.backoff_seconds(n, rng) for n in range(1, 11)]
    for n, wait in enumerate(waits, start=1):
        step = min(60 * 2 ** (n - 1), 6 * 3600)
        assert step / 2 <= wait <= step
    assert sum(waits) > 4 * 3600  # ten temporary refusals take hours, not a quarter second
    assert len({round(delivery_backoff.backoff_seconds(3), 3) for _ in range(20)}) > 1


def test_a_5xx_is_given_up_at_once_logged_at_error_shown_and_requeued(
    relay, engagement_a, engineer_a, client, caplog, settings
):
    relay.reply = "550 5.1.1 mailbox unavailable"
    (event_id,) = changes(engagement_a, engineer_a)
    with caplog.at_level(logging.INFO, logger="engagements.delivery"):
        tasks.deliver_event(event_id)
    row = emails().get()
    assert row.sent_at is None and row.attempts == settings.NOTIFY_MAX_ATTEMPTS
    assert [r.levelname for r in caplog.records if "given up" in r.getMessage()] == ["ERROR"]
    # Operators see it: /readyz detail (still ready for it) and portal_status.
    Heartbeat.beat("beat")
    Heartbeat.beat("worker")
    body = json.loads(client.get("/readyz").content)
    assert body["checks"]["outbox"]["ok"] is True
    assert "1 email(s) given up" in body["checks"]["outbox"]["detail"]
    out = StringIO()
    call_command("portal_status", stdout=out)
    assert "1 email(s) given up (manage.py requeue_notifications)" in out.getvalue()
    # The command puts it back; the next sweep delivers it.
    relay.reply = "250 OK"
    out = StringIO()
    call_command("requeue_notifications", stdout=out)
    assert "1 given-up message(s) re-queued" in out.getvalue()
    assert tasks.deliver_pending_batches() == 1
    assert len(relay.accepted) == 1 and not delivery_backoff.given_up().exists()


def test_temporary_refusals_give_up_only_after_the_last_attempt(
    relay, engagement_a, engineer_a, settings
):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    relay.reply = "452 4.2.2 mailbox full"
    changes(engagement_a, engineer_a)
    for attempt in range(1, 4):
        emails().update(retry_at=None)
        tasks.deliver_pending_batches()
        assert emails().get().attempts == attempt
    assert delivery_backoff.given_up().count() == 1
    assert emails().get().retry_at is None


def test_a_database_error_after_the_claim_releases_it(engagement_a, engineer_a, monkeypatch):
    changes(engagement_a, engineer_a)
    rows = tasks.claim_rows(emails(), 10)  # as a worker claims: the rows come back
    ids = [n.pk for n in rows]
    assert emails().get().claimed_at is not None

    def blip(items):
        list(items)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(tasks, "send_each", blip)
    with pytest.raises(OperationalError):
        tasks.deliver_claimed(rows)
    row = emails().get()
    assert row.claimed_at is None and row.sent_at is None  # before the fix: claimed 6 minutes
    assert tasks.claim(emails(), 10) == ids  # the next try takes it at once


def test_the_claimed_rows_are_the_rows_as_stored(engagement_a, engineer_a):
    """The claim returns its rows from the UPDATE itself: each is what a fresh read gives
    (the claim time as stored, timezone-aware, the attempt counted), a saved row."""
    changes(engagement_a, engineer_a, 2)
    rows = tasks.claim_rows(emails(), 10)
    assert rows and [n.pk for n in rows] == sorted(n.pk for n in rows)
    fresh = {n.pk: n for n in emails().filter(pk__in=[n.pk for n in rows])}
    for n in rows:
        stored = fresh[n.pk]
        assert not n._state.adding and n._state.db == "default"
        assert n.claimed_at == stored.claimed_at and timezone.is_aware(n.claimed_at)
        assert n.attempts == stored.attempts == 1
        for field in Notification._meta.concrete_fields:
            assert getattr(n, field.attname) == getattr(stored, field.attname), field.name
    assert tasks.claim_rows(emails(), 10) == []  # claimed: not claimed again


def test_the_claim_lease_is_short_and_renewed_while_sending(
    engagement_a, engineer_a, monkeypatch, settings
):
    assert settings.NOTIFY_CLAIM_LEASE <= 60  # a dead worker's rows are free within a minute
    changes(engagement_a, engineer_a)
    ids = tasks.claim(emails(), 10)
    long_ago = timezone.now() - dt.timedelta(seconds=settings.NOTIFY_CLAIM_LEASE - 1)
    emails().update(claimed_at=long_ago)
    clock = iter(range(0, 1000, 30))
    monkeypatch.setattr(tasks.time, "monotonic", lambda: next(clock))
    seen = []

    def send(items):
        for _message, sent, _failed in items:
            seen.append(emails().filter(claimed_at__gt=long_ago).count())
            sent()
        return len(seen)

    monkeypatch.setattr(tasks, "send_each", send)
    tasks.deliver(ids)
    assert seen and seen[0] >= 1  # renewed before sending, so no other worker takes them


def test_an_smtp_outage_is_logged_once_at_warning_when_it_starts_and_ends(
    engagement_a, engineer_a, settings, caplog, relay
):
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens: refused
    changes(engagement_a, engineer_a, 3)
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            with pytest.raises(tasks.RETRYABLE):
                tasks.deliver_pending_batches()
        settings.EMAIL_PORT = good_port
        tasks.deliver_pending_batches()
        tasks.deliver_pending_batches()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if w.startswith("SMTP outage:")]) == 1
    assert len([w for w in warnings if w.startswith("SMTP outage over")]) == 1
    assert emails().filter(sent_at__isnull=True).count() == 0


def test_a_row_whose_claim_another_worker_took_is_skipped_not_sent_twice(
    engagement_a, engineer_a, monkeypatch, settings
):
    changes(engagement_a, engineer_a, 3)
    rows = tasks.claim_rows(emails(), 10)  # as a worker claims: the rows come back
    ids = [n.pk for n in rows]
    assert len(ids) >= 2
    taken = ids[-1]
    clock = iter(range(0, 1000, 5))  # every message finds a renewal due
    monkeypatch.setattr(tasks.time, "monotonic", lambda: next(clock))
    seen = []

    def send(items):
        for _message, sent, _failed in items:
            if not seen:  # meanwhile the lease ran out and another worker claimed one row
                Notification.objects.filter(pk=taken).update(
                    claimed_at=timezone.now() + dt.timedelta(seconds=1)
                )
            seen.append(1)
            sent()
        return len(seen)

    monkeypatch.setattr(tasks, "send_each", send)
    assert tasks.deliver_claimed(rows) == len(ids) - 1
    assert Notification.objects.get(pk=taken).sent_at is None  # the other worker sends it
    assert emails().filter(pk__in=ids, sent_at__isnull=False).count() == len(ids) - 1


def test_a_failing_batch_leaves_a_row_another_worker_took_over_to_that_worker(
    engagement_a, engineer_a, monkeypatch
):
    """The batch fails after a renewal found one row taken over by another worker (its claim
    had expired): releasing the batch's claim leaves that row's claim alone, or a third
    worker could send it while the second does."""
    changes(engagement_a, engineer_a, 3)
    rows = tasks.claim_rows(emails(), 10)
    taken = rows[-1].pk
    theirs = timezone.now() + dt.timedelta(seconds=1)
    Notification.objects.filter(pk=taken).update(claimed_at=theirs)  # the other worker's
    clock = iter(range(0, 1000, 5))  # the first message finds a renewal due
    monkeypatch.setattr(tasks.time, "monotonic", lambda: next(clock))

    def send(items):
        for _message, sent, _failed in items:
            sent()
            raise OperationalError("server closed the connection unexpectedly")
        return 0

    monkeypatch.setattr(tasks, "send_each", send)
    with pytest.raises(OperationalError):
        tasks.deliver_claimed(rows)
    assert Notification.objects.get(pk=taken).claimed_at == theirs  # still the other's
    released = emails().exclude(pk=taken).filter(sent_at__isnull=True)
    assert released.exists() and not released.filter(claimed_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_message_accepted_while_the_database_is_away_is_recorded_when_it_is_back(
    engagement_a, engineer_a, monkeypatch, settings
):
    from django.db.models.query import QuerySet

    changes(engagement_a, engineer_a)
    rows = tasks.claim_rows(emails(), 10)  # as a worker claims: the rows come back
    ids = [n.pk for n in rows]
    real_update = QuerySet.update
    failures = {"left": 4}  # the database is away for four tries (two seconds)

    def update(self, **values):
        if "sent_at" in values and failures["left"]:
            failures["left"] -= 1
            raise OperationalError("the database system is starting up")
        return real_update(self, **values)

    monkeypatch.setattr(QuerySet, "update", update)
    monkeypatch.setattr(tasks.time, "sleep", lambda seconds: None)

    def send(items):
        for _message, sent, _failed in items:
            sent()  # the relay accepted it
        return len(ids)

    monkeypatch.setattr(tasks, "send_each", send)
    tasks.deliver_claimed(rows)
    assert failures["left"] == 0
    assert emails().filter(pk__in=ids, sent_at__isnull=True).count() == 0  # recorded: no resend
