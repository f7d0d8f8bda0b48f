"""The email drain across events with real workers on a real Redis: commits in a burst
publish a handful of drains, not one each, and two workers draining at once send every
email once."""

from __future__ import annotations

from collections import Counter

import pytest

from engagements import tasks, wakeup
from engagements.actions.membership import add_member
from engagements.choices import Channel
from engagements.models import Notification
from tests.factories import UserFactory, vendor_party
from tests.integration.conftest import wait_until
from tests.integration.test_notifications import sent_count, toggle_many

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def queued(redis_server) -> int:
    import redis

    return redis.Redis.from_url(redis_server.url).llen("celery")


def test_a_burst_of_commits_publishes_one_drain_while_it_is_queued(
    redis_server, engagement_a, engineer_a
):
    wakeup.clear()
    toggle_many(engagement_a, engineer_a, 20)  # no worker: the first drain stays queued
    assert queued(redis_server) == 1
    assert Notification.objects.filter(channel=Channel.EMAIL, sent_at__isnull=True).count() == 20
    wakeup.clear()  # as the drain does when it starts: the next commit publishes again
    toggle_many(engagement_a, engineer_a, 1)
    assert queued(redis_server) == 2


def test_two_workers_draining_at_once_send_each_email_once(
    start_worker, redis_server, smtp_server, engagement_a, engineer_a, vendor_org
):
    for name in ("cse-two", "cse-three"):
        add_member(
            engagement_a, UserFactory(username=name, organization=vendor_org), party=vendor_party()
        )
    redis_server.stop()
    toggle_many(engagement_a, engineer_a, 40)  # 120 emails of 40 events, waiting
    redis_server.start()
    env = {"NOTIFY_BATCH_SIZE": "10"}  # twelve batches, chained: both workers take some
    first = start_worker("one", smtp=smtp_server, extra_env=env)
    second = start_worker("two", smtp=smtp_server, extra_env=env)
    for _ in range(3):  # drains racing for the same rows
        tasks.deliver_emails.delay()
    wait_until(lambda: sent_count() >= 120, 60, "120 emails sent")
    # Every row recorded sent and none still claimed: no drain is left that could send one
    # again; then what the server holds is final.
    wait_until(
        lambda: (
            not Notification.objects.filter(channel=Channel.EMAIL, sent_at__isnull=True).exists()
        ),
        30,
        "every email recorded sent",
    )
    ids = Counter(smtp_server.recorder.message_ids())
    assert len(ids) == 120 and set(ids.values()) == {1}
    # Both workers were up and took tasks from the same queue (which took which batches
    # is the scheduler's: not asserted).
    assert all("ready" in w.output() for w in (first, second))
