"""Two people at once: the row lock and the revision keep every change or refuse it clearly."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from engagements.actions.membership import add_member
from engagements.actions.tasks import sign_off_task, transition_task
from engagements.choices import Environment, TaskStatus
from engagements.errors import Conflict
from engagements.models import SignOff
from tests.conftest import task_of

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls):
    """Runs the calls in threads released together; returns what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # the outcome is what we assert on
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_sign_offs_at_once_leave_one_record(engagement_a, cse, vendor_org):
    from tests.factories import UserFactory, vendor_party

    second_cse = UserFactory(username="cse-2", organization=vendor_org)
    add_member(
        engagement_a, second_cse, party=vendor_party(), roles=["Auth0 Customer Success Engineer"]
    )
    deploy = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)
    transition_task(deploy, to=TaskStatus.DONE, actor=cse)
    results = race(
        lambda: sign_off_task(deploy, actor=cse),
        lambda: sign_off_task(deploy, actor=second_cse),
    )
    assert SignOff.objects.filter(task=deploy).count() == 1
    assert sum(isinstance(r, SignOff) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1


def test_two_moves_from_the_same_form_state_keep_one_and_refuse_the_other(engagement_a, engineer_a):
    task = task_of(engagement_a, "monitoring")
    seen = task.revision
    results = race(
        lambda: transition_task(task, to=TaskStatus.IN_PROGRESS, actor=engineer_a, revision=seen),
        lambda: transition_task(
            task, to=TaskStatus.BLOCKED, actor=engineer_a, reason="Waiting", revision=seen
        ),
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1, results
    assert "changed by someone else" in str(conflicts[0])
    task.refresh_from_db()
    assert task.revision == seen + 1
    assert task.events.count() == 1


def test_two_managers_removing_each_other_at_once_leave_one(engagement_a, cse, vendor_org):
    from engagements.actions.membership import remove_member
    from engagements.errors import DomainError
    from engagements.models import Membership
    from tests.factories import UserFactory, vendor_party

    second = UserFactory(username="cse-2", organization=vendor_org)
    add_member(engagement_a, second, party=vendor_party(), is_manager=True, actor=cse)
    for _ in range(3):  # a deadlock, or two removals, would show within a few rounds
        results = race(
            lambda: remove_member(engagement_a, second, actor=cse),
            lambda: remove_member(engagement_a, cse, actor=second),
        )
        managers = Membership.objects.filter(
            engagement=engagement_a, party=vendor_party(), is_manager=True
        )
        assert managers.count() == 1, results
        assert sum(r is None for r in results) == 1, results
        assert sum(isinstance(r, DomainError) for r in results) == 1, results
        left = managers.get().user
        gone = second if left == cse else cse
        add_member(engagement_a, gone, party=vendor_party(), is_manager=True, actor=left)
