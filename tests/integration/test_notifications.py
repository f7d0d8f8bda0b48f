"""Notifications through a real Redis, real worker processes and a real SMTP server:
each change reaches the right people once, whatever fails for a while."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.utils import timezone

from engagements import reminders as reminder_sweeps
from engagements import tasks
from engagements.actions.membership import add_member
from engagements.actions.tasks import transition_task
from engagements.choices import Channel, Delivery, Environment, TaskStatus
from engagements.models import EngagementTask, Notification, Profile
from tests.conftest import task_of
from tests.factories import UserFactory, vendor_party
from tests.integration.conftest import SmtpServer, free_port, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def sent_count() -> int:
    return Notification.objects.filter(channel=Channel.EMAIL, sent_at__isnull=False).count()


def toggle_many(engagement, actor, n: int) -> None:
    """n committed status changes on Monitoring (Auth0 is Informed): start, back, start, …"""
    task = task_of(engagement, "monitoring")
    for i in range(n):
        task.refresh_from_db()
        to = TaskStatus.IN_PROGRESS if i % 2 == 0 else TaskStatus.NOT_STARTED
        transition_task(task, to=to, actor=actor)


def test_a_change_is_emailed_to_exactly_the_informed_people(
    start_worker, smtp_server, engagement_a, engineer_a, cse
):
    start_worker(smtp=smtp_server)
    deploy = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)  # the subscriber is Informed
    wait_until(lambda: len(smtp_server.recorder.messages) >= 1, 30, "the email")
    message = smtp_server.recorder.messages[0]
    assert message["To"] == engineer_a.email
    assert "not started → in progress" in message["Subject"]
    assert f"/tasks/{deploy.pk}/" in message.get_body(preferencelist=("plain",)).get_content()
    assert f"/tasks/{deploy.pk}/" in message.get_body(preferencelist=("html",)).get_content()
    wait_until(lambda: sent_count() == 1, 10, "the row marked sent")
    assert Notification.objects.get(channel=Channel.PORTAL).recipient == engineer_a


def test_redis_down_while_200_changes_commit_loses_nothing_and_sends_once(
    start_worker, redis_server, smtp_server, engagement_a, engineer_a, cse
):
    redis_server.stop()
    toggle_many(engagement_a, engineer_a, 200)  # every commit's publish fails: nothing is lost
    assert engagement_a.events.filter(verb="task.status_changed").count() == 200
    assert Notification.objects.filter(channel=Channel.EMAIL, sent_at__isnull=True).count() == 200
    redis_server.start()
    start_worker(smtp=smtp_server)
    tasks.deliver_pending.delay()  # what beat does every minute
    wait_until(lambda: len(smtp_server.recorder.messages) >= 200, 90, "200 emails")
    ids = smtp_server.recorder.message_ids()
    assert len(ids) == len(set(ids)) == 200
    assert set(smtp_server.recorder.to()) == {cse.email}
    wait_until(lambda: sent_count() == 200, 10, "200 rows marked sent")


def test_a_worker_killed_mid_delivery_resends_at_most_one_group_with_its_message_id(
    start_worker, redis_server, smtp_server, engagement_a, engineer_a, cse
):
    """Accepted messages are recorded a group at a time (NOTIFY_RECORD_EVERY, 10 here): a
    worker killed mid-batch leaves at most the last group unrecorded; those are sent again
    after the lease with the same Message-ID, every other message exactly once."""
    redis_server.stop()
    toggle_many(engagement_a, engineer_a, 100)
    redis_server.start()
    env = {"NOTIFY_CLAIM_LEASE": "3", "NOTIFY_BATCH_SIZE": "100", "NOTIFY_RECORD_EVERY": "10"}
    first = start_worker("first", smtp=smtp_server, extra_env=env)

    def kill_in_the_middle(accepted: int) -> None:
        # SIGKILL while the worker is inside the SMTP exchange of the 36th message.
        if accepted == 35 and first.proc.poll() is None:
            first.proc.kill()

    smtp_server.recorder.on_recipient = kill_in_the_middle
    tasks.deliver_pending.delay()
    wait_until(lambda: first.proc.poll() is not None, 60, "the first worker to be killed")
    assert len(smtp_server.recorder.messages) == 35
    recorded = sent_count()
    # Three whole groups at least (30); a group may also be recorded early by time.
    assert 30 <= recorded <= 35
    smtp_server.recorder.on_recipient = None
    start_worker("second", smtp=smtp_server, extra_env=env)
    sweep_until_sent(100, 60)
    threading.Event().wait(1)
    ids = Counter(smtp_server.recorder.message_ids())
    assert len(ids) == 100  # every row delivered
    twice = [i for i, n in ids.items() if n > 1]
    assert all(n <= 2 for n in ids.values())
    assert len(twice) == 35 - recorded <= 10  # only the unrecorded group, same Message-ID


def sweep_until_sent(total: int, timeout: float) -> None:
    """Beat's sweep, repeated until the dead worker's claims expire and are taken over."""

    def done() -> bool:
        if sent_count() >= total:
            return True
        tasks.deliver_pending.delay()
        return False

    wait_until(done, timeout, f"{total} rows sent", interval=1.5)


def test_smtp_refusing_then_accepting_is_retried_with_backoff_and_delivered_once(
    start_worker, engagement_a, engineer_a, cse
):
    port = free_port()  # nothing listens there yet: connections are refused
    worker = start_worker(smtp_port=port)
    transition_task(
        task_of(engagement_a, "monitoring"), to=TaskStatus.IN_PROGRESS, actor=engineer_a
    )
    worker.wait_for("Retry in", timeout=30)
    row = Notification.objects.get(channel=Channel.EMAIL)
    assert row.sent_at is None and row.last_error
    server = SmtpServer(port)
    server.start()
    try:
        wait_until(lambda: len(server.recorder.messages) >= 1, 60, "the retried email")
        wait_until(lambda: sent_count() == 1, 10, "the row marked sent")
        threading.Event().wait(2)
        assert len(server.recorder.messages) == 1
        assert server.recorder.to() == [cse.email]
    finally:
        server.stop()


def test_two_reminder_sweeps_at_once_send_each_reminder_once(
    start_worker, smtp_server, engagement_a, engineer_a, cse
):
    today = timezone.localdate()
    EngagementTask.objects.filter(engagement=engagement_a).update(due_date=None)
    overdue = EngagementTask.objects.filter(
        engagement=engagement_a, key__in=["monitoring", "backup", "code_integration"]
    )
    overdue.update(due_date=today - dt.timedelta(days=1))
    start_worker("one", smtp=smtp_server)
    start_worker("two", smtp=smtp_server)
    for _ in range(2):
        reminder_sweeps.send_reminders.delay()
    wait_until(lambda: len(smtp_server.recorder.messages) >= 3, 60, "3 reminders")
    threading.Event().wait(3)
    assert Counter(smtp_server.recorder.to()) == {engineer_a.email: 3}
    subjects = sorted(m["Subject"] for m in smtp_server.recorder.messages)
    assert all("Overdue" in s for s in subjects)


def test_a_rolled_back_change_sends_nothing(start_worker, smtp_server, engagement_a, engineer_a):
    from django.db import transaction

    start_worker(smtp=smtp_server)
    with pytest.raises(RuntimeError), transaction.atomic():
        transition_task(
            task_of(engagement_a, "monitoring"), to=TaskStatus.IN_PROGRESS, actor=engineer_a
        )
        raise RuntimeError("the request failed after the change")
    tasks.deliver_pending.delay()
    threading.Event().wait(3)
    assert smtp_server.recorder.messages == []
    assert not Notification.objects.exists()


def test_preferences_off_sends_nothing_and_digest_sends_one_email_with_every_item(
    start_worker, smtp_server, engagement_a, engineer_a, cse, vendor_org
):
    digest_reader = UserFactory(username="digest-reader", organization=vendor_org)
    add_member(engagement_a, digest_reader, party=vendor_party())
    Profile.objects.filter(user=cse).update(email_delivery=Delivery.OFF)
    Profile.objects.filter(user=digest_reader).update(email_delivery=Delivery.DIGEST)
    start_worker(smtp=smtp_server)
    toggle_many(engagement_a, engineer_a, 3)
    tasks.deliver_pending.delay()
    threading.Event().wait(3)
    assert smtp_server.recorder.messages == []  # off: none; digest: not yet
    tasks.send_digests.delay()
    wait_until(lambda: len(smtp_server.recorder.messages) >= 1, 30, "the digest")
    tasks.send_digests.delay()  # a second run the same day sends nothing more
    threading.Event().wait(3)
    assert smtp_server.recorder.to() == [digest_reader.email]
    digest = smtp_server.recorder.messages[0]
    assert "3 items" in digest["Subject"]
    text = digest.get_body(preferencelist=("plain",)).get_content()
    assert text.count("Monitoring") == 3
    assert Notification.objects.filter(recipient=cse, channel=Channel.EMAIL).count() == 0
    assert Notification.objects.filter(recipient=cse, channel=Channel.PORTAL).count() == 3


def test_your_turn_arrives_once_by_email_for_a_checklist_and_a_passed_test(
    start_worker, smtp_server, engagement_a, engineer_a, cse
):
    """A real worker, Redis and SMTP sink: the checklist submission and the passed
    Development test each deliver exactly one "Your turn" email, to the vendor's CSE."""
    from engagements.actions.checklists import save_checklist
    from engagements.actions.cycles import (
        accept_windows,
        finish_update,
        propose_cycle,
        record_test,
        start_update,
    )
    from engagements.models import InfrastructureChecklist
    from tests.engagements.test_operations import prepare
    from tests.factories import checklist_items, checklist_vms, update_windows

    start_worker(smtp=smtp_server)
    checklist = InfrastructureChecklist.objects.get(
        engagement=engagement_a, environment=Environment.DEVELOPMENT
    )
    save_checklist(
        checklist, actor=engineer_a, items=checklist_items(), vms=checklist_vms(), submit=True
    )
    cycle = propose_cycle(engagement_a, actor=cse, release="2026.12.1", windows=update_windows())
    accept_windows(cycle, actor=engineer_a)
    prepare(cycle, engineer_a)
    start_update(cycle, actor=cse, environment=Environment.DEVELOPMENT)
    finish_update(cycle, actor=cse, scripts="none")
    record_test(cycle, actor=engineer_a, result="passed")

    def turns():
        return [m for m in smtp_server.recorder.messages if "Your turn:" in m["Subject"]]

    wait_until(lambda: len(turns()) >= 3, 30, "the your-turn emails")
    wait_until(
        lambda: (
            not Notification.objects.filter(channel=Channel.EMAIL, sent_at__isnull=True)
            .exclude(recipient__profile__email_delivery=Delivery.OFF)
            .exists()
        ),
        30,
        "every email sent",
    )
    by_subject = Counter((m["To"], m["Subject"]) for m in turns())
    submitted = [k for k in by_subject if "Infrastructure Checklist submitted" in k[1]]
    passed = [k for k in by_subject if "tested Development on 2026.12.1: passed" in k[1]]
    proposed = [k for k in by_subject if k not in submitted + passed]
    # Exactly one email each, to the vendor's CSE; the windows were the subscriber's turn.
    assert [to for to, _ in submitted] == [cse.email] and by_subject[submitted[0]] == 1
    assert [to for to, _ in passed] == [cse.email] and by_subject[passed[0]] == 1
    assert [to for to, _ in proposed] == [engineer_a.email]
    message = next(m for m in turns() if m["To"] == cse.email)
    assert "It is your turn" in message.get_body(preferencelist=("plain",)).get_content()
