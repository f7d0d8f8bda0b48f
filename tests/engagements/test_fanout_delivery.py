"""Issue 16, P5: the outbox is drained across events in batches over one SMTP connection,
accepted messages are recorded a group at a time, a drain that finds nothing costs one
query, and an event's email is rendered once for all its recipients (the same bytes as
rendering each one)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engagements import outbox_mail, tasks
from engagements.actions.membership import add_member
from engagements.choices import Channel
from engagements.models import Notification
from tests.engagements.test_delivery_faults import changes
from tests.factories import UserFactory, vendor_party
from tests.integration.conftest import SmtpServer, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(settings):
    server = SmtpServer(free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
    yield server
    server.stop()


@pytest.fixture
def three_recipients(engagement_a, vendor_org):
    """Two more vendor members: each change on Monitoring emails three people."""
    for name in ("cse-two", "cse-three"):
        add_member(
            engagement_a, UserFactory(username=name, organization=vendor_org), party=vendor_party()
        )
    return engagement_a


def emails():
    return Notification.objects.filter(channel=Channel.EMAIL)


def sent_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if 'SET "sent_at"' in q["sql"]]


def test_one_drain_sends_the_rows_of_several_events_over_one_connection(
    sink, three_recipients, engineer_a
):
    events = changes(three_recipients, engineer_a, 4)
    assert emails().filter(sent_at__isnull=True).count() == 12
    assert len(set(emails().values_list("event_id", flat=True))) == len(events) == 4
    assert tasks.deliver_emails() == 12
    assert sink.connections == 1 and len(sink.recorder.messages) == 12
    assert not emails().filter(sent_at__isnull=True).exists()
    assert tasks.deliver_emails() == 0  # each row once
    assert len(sink.recorder.messages) == 12


def test_accepted_messages_are_recorded_a_group_at_a_time(
    sink, three_recipients, engineer_a, settings
):
    settings.NOTIFY_RECORD_EVERY = 4
    changes(three_recipients, engineer_a, 3)  # 9 emails
    with CaptureQueriesContext(connection) as ctx:
        assert tasks.deliver_emails() == 9
    updates = sent_updates(ctx.captured_queries)
    assert len(updates) == 3  # 4, 4 and the last 1: not one per message
    assert [len(re.search(r"IN \(([^)]*)\)", u).group(1).split(",")) for u in updates] == [4, 4, 1]
    assert not emails().filter(sent_at__isnull=True).exists()


def test_a_group_waiting_too_long_is_recorded_before_the_next_message(
    sink, three_recipients, engineer_a, settings, monkeypatch
):
    settings.NOTIFY_RECORD_EVERY = 100
    settings.NOTIFY_RECORD_MS = 1000
    changes(three_recipients, engineer_a, 1)  # 3 emails
    clock = iter(range(0, 10_000, 2))  # two seconds pass between any two looks at the clock
    monkeypatch.setattr(tasks.time, "monotonic", lambda: next(clock))
    with CaptureQueriesContext(connection) as ctx:
        assert tasks.deliver_emails() == 3
    assert len(sent_updates(ctx.captured_queries)) == 3  # each recorded before the next went


def test_a_batch_reads_each_related_row_once_whatever_its_size(
    sink, three_recipients, engineer_a, settings
):
    """The claim returns the rows; then their events (with actors), tasks, engagements (with
    subscribers) and recipients, one read each: the same statements for 6 emails of two
    events as for 24 of eight."""
    settings.NOTIFY_RECORD_EVERY = 100

    def batch() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            tasks.deliver_emails()
        statements = [q["sql"] for q in ctx.captured_queries if "portal_heartbeat" not in q["sql"]]
        return [  # what each statement is: its verb and table
            f"update {sql.split()[1]}"
            if sql.startswith("UPDATE")
            else f"select {sql.split(' FROM ')[1].split()[0]}"
            for sql in statements
        ]

    changes(three_recipients, engineer_a, 2)
    small = batch()
    changes(three_recipients, engineer_a, 8)
    large = batch()
    assert small == large, large
    table = '"engagements_notification"'
    assert large == [  # the claim, four reads (none of the rows again), one "sent"
        f"update {table}",
        'select "engagements_event"',
        'select "engagements_engagementtask"',
        'select "engagements_engagement"',
        'select "auth_user"',
        f"update {table}",
    ]
    assert len(sink.recorder.messages) == 30
    assert not emails().filter(sent_at__isnull=True).exists()


def test_a_row_whose_recipient_is_deleted_between_the_reads_is_left_out(
    three_recipients, engineer_a, monkeypatch
):
    """The rows and their related rows are separate reads: a person deleted in between
    (their rows go with them) is not read lazily later, which would fail the batch."""
    from django.contrib.auth import get_user_model

    changes(three_recipients, engineer_a, 1)
    ids = tasks.claim(tasks.immediate_emails(), 10)
    victim = emails().order_by("id").first().recipient_id
    monkeypatch.setitem(
        outbox_mail._RELATED, "recipient", lambda: get_user_model().objects.exclude(pk=victim)
    )
    rows = outbox_mail.read_batch(ids)
    assert len(rows) == 2 and victim not in {r.recipient_id for r in rows}
    with CaptureQueriesContext(connection) as ctx:
        assert [outbox_mail.unsendable(r) for r in rows] == ["", ""]
    assert not ctx.captured_queries  # everything the emails need was read with the batch


def test_a_drain_that_finds_nothing_costs_one_query(sink, engagement_a):
    with CaptureQueriesContext(connection) as ctx:
        assert tasks.deliver_emails() == 0
    (claim,) = [q["sql"] for q in ctx.captured_queries]  # one statement: claim or nothing
    assert claim.startswith("UPDATE") and "FOR UPDATE SKIP LOCKED" in claim
    assert sink.connections == 0


def test_a_full_batch_asks_for_the_next_before_sending(
    sink, three_recipients, engineer_a, settings, monkeypatch
):
    settings.NOTIFY_BATCH_SIZE = 4
    asked = []
    monkeypatch.setattr(tasks, "request_delivery", lambda: asked.append(1))
    changes(three_recipients, engineer_a, 2)  # 6 emails
    assert tasks.deliver_emails() == 4 and asked == [1]
    assert tasks.deliver_emails() == 2 and asked == [1]  # not full: the drain ends here
    assert not emails().filter(sent_at__isnull=True).exists()


def test_an_event_rendered_once_gives_each_recipient_the_same_email_as_rendering_it_alone(
    three_recipients, engineer_a, vendor_org
):
    odd = UserFactory(
        username="odd", first_name="Zoë <b>&", last_name="O'Neil", organization=vendor_org
    )
    add_member(three_recipients, odd, party=vendor_party())
    changes(three_recipients, engineer_a, 1)
    rows = list(emails().select_related("event__actor", "task", "engagement", "recipient"))
    assert len(rows) == 4
    shared: dict = {}
    for row in rows:
        alone, together = outbox_mail.message(row), outbox_mail.message(row, shared)
        assert together.subject == alone.subject and together.to == alone.to
        assert together.body == alone.body
        assert together.alternatives == alone.alternatives
        assert together.extra_headers == alone.extra_headers
    assert len(shared) == 1
    html = outbox_mail.message(next(r for r in rows if r.recipient == odd), shared).alternatives[0]
    assert "Zoë &lt;b&gt;&amp; O&#x27;Neil" in html[0]


@pytest.mark.parametrize(
    "column", ["event", "recipient", "task", "engagement", "invitation", "chat"]
)
def test_the_outbox_is_found_by_each_of_its_owners_through_an_index(column):
    """Deleting an event, a person, an invitation or a chat channel finds its rows through an
    index, with no index of the foreign key's own where another serves (event: the one email
    per event key; recipient: the inbox index; invitation, chat: partial indexes on the few
    rows that have one): each index is paid for on every write of the outbox."""
    plan = Notification.objects.filter(**{f"{column}_id": 1}).explain()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            forced = Notification.objects.filter(**{f"{column}_id": 1}).explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "Seq Scan" not in forced and "Index" in forced, (plan, forced)


def test_a_claim_reads_only_its_batch_however_many_rows_were_sent_or_wait(engagement_a, cse):
    """The claim walks the queue's index in its own order and stops at its batch: the rows
    sent before (the history, kept for months), the portal's rows (never "sent") and the rest
    of a backlog are not read. The planner's statistics are as autovacuum leaves them: taken
    while the queue was empty. Before, the queue's index held the portal's rows too and led
    with the channel; the planner then walked the primary key and filtered the whole history
    out on every claim (seen in bench/fanout.py: 18,700 buffers and 5 ms per claim at 20,000
    rows, growing with them)."""
    from django.utils import timezone

    from engagements import chat

    chat_queue = chat.immediate

    def rows(n: int, offset: int, channels=(Channel.EMAIL,)) -> list[Notification]:
        return Notification.objects.bulk_create(
            Notification(
                engagement=engagement_a,
                recipient=cse,
                channel=channel,
                kind="reminder.overdue",
                day=timezone.localdate() - timezone.timedelta(days=offset + i),
            )
            for i in range(n)
            for channel in channels
        )

    # The history: each change told people by email and in the portal (rows side by side);
    # the emails went through the queue (unsent, claimed, then sent).
    history = [n.pk for n in rows(3000, 0, (Channel.EMAIL, Channel.PORTAL))]
    emails_sent = Notification.objects.filter(pk__in=history, channel=Channel.EMAIL)
    emails_sent.update(claimed_at=timezone.now())
    emails_sent.update(sent_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE engagements_notification")  # while the queue is empty
    backlog = [n.pk for n in rows(2000, 3000)]
    pick = tasks.claimable(tasks.immediate_emails(), timezone.now()).values("id")[:100]
    plan = pick.explain(analyze=True)
    # A queue's index (the email queue's, or the unsent rows' when the planner costs it
    # lower: both hold unsent rows only), never the primary key, no sort, nothing filtered.
    assert "Index Scan using notification_" in plan and "Sort" not in plan, plan
    assert "_pkey" not in plan and "Seq Scan" not in plan, plan
    assert "Rows Removed by Filter" not in plan, plan
    assert [r["id"] for r in pick] == sorted(backlog)[:100]
    chat = tasks.claimable(chat_queue(), timezone.now()).values("id")[:100].explain()
    assert "Index Scan using notification_" in chat and "_pkey" not in chat, chat
    with connection.cursor() as cursor:  # the queue's index holds what waits, not the history
        cursor.execute("ANALYZE engagements_notification")
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE relname = 'notification_email_queue_idx'"
        )
        assert cursor.fetchone()[0] == len(backlog)
