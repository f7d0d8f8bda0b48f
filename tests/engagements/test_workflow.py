"""The status workflow through the services: who may move, sign off and reopen what."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from engagements import policy
from engagements.actions.tasks import add_comment, reopen_task, sign_off_task, transition_task
from engagements.choices import Environment, TaskStatus
from engagements.errors import Conflict, DomainError, NotAllowed
from engagements.models import Comment, EngagementTask, Event, SignOff
from tests.conftest import task_of
from tests.factories import subscriber_party, vendor_party

pytestmark = pytest.mark.django_db
DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION


def move(task, actor, *statuses, reason=""):
    for status in statuses:
        task.refresh_from_db()
        transition_task(task, to=status, actor=actor, reason=reason)
    task.refresh_from_db()
    return task


def test_the_responsible_party_moves_and_the_accountable_party_signs_off(
    engagement_a, cse, engineer_a
):
    deploy = task_of(engagement_a, "deployment", DEV)
    move(deploy, cse, TaskStatus.IN_PROGRESS, TaskStatus.DONE)
    signoff = sign_off_task(deploy, actor=cse, comment="Deployed and smoke-tested.")
    deploy.refresh_from_db()
    assert deploy.status == TaskStatus.SIGNED_OFF
    assert (signoff.signed_by, signoff.environment, signoff.party.name) == (cse, DEV, "Auth0")
    assert [e.verb for e in Event.objects.filter(task=deploy).order_by("id")] == [
        "task.status_changed",
        "task.status_changed",
        "task.signed_off",
    ]


def test_development_and_production_are_signed_off_separately(engagement_a, cse):
    dev, prod = task_of(engagement_a, "deployment", DEV), task_of(engagement_a, "deployment", PROD)
    move(dev, cse, TaskStatus.IN_PROGRESS, TaskStatus.DONE)
    sign_off_task(dev, actor=cse)
    prod.refresh_from_db()
    assert prod.status == TaskStatus.NOT_STARTED
    assert SignOff.objects.filter(task__engagement=engagement_a).count() == 1


def test_an_informed_party_cannot_move_the_task(engagement_a, engineer_a):
    deploy = task_of(engagement_a, "deployment", DEV)
    with pytest.raises(NotAllowed, match="Responsible party"):
        transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    deploy.refresh_from_db()
    assert deploy.status == TaskStatus.NOT_STARTED
    assert not Event.objects.filter(task=deploy).exists()


def test_only_the_accountable_party_signs_off(engagement_a, cse, engineer_a):
    vm = task_of(engagement_a, "infrastructure", DEV)  # Subscriber R, A; Auth0 C
    # Done as its accepted checklist makes it (a person cannot mark it done: the gate).
    EngagementTask.objects.filter(pk=vm.pk).update(status=TaskStatus.DONE)
    vm.refresh_from_db()
    with pytest.raises(NotAllowed, match="Accountable"):
        sign_off_task(vm, actor=cse)
    sign_off_task(vm, actor=engineer_a)


def test_without_an_accountable_party_the_responsible_party_closes(engagement_a, cse, engineer_a):
    handover = task_of(engagement_a, "handover")  # Auth0 R, Subscriber C; no A
    assert policy.signer_party_ids(handover) == {vendor_party().pk}
    move(handover, cse, TaskStatus.IN_PROGRESS, TaskStatus.DONE)
    with pytest.raises(NotAllowed):
        sign_off_task(handover, actor=engineer_a)
    sign_off_task(handover, actor=cse)


def test_two_responsible_parties_both_move_updates(engagement_a, cse, engineer_a):
    updates = task_of(engagement_a, "updates")
    move(updates, cse, TaskStatus.IN_PROGRESS)
    move(updates, engineer_a, TaskStatus.DONE)
    assert updates.status == TaskStatus.DONE


def test_invalid_transition_is_refused(engagement_a, engineer_a):
    monitoring = task_of(engagement_a, "monitoring")
    with pytest.raises(DomainError, match="cannot go from not started to done"):
        transition_task(monitoring, to=TaskStatus.DONE, actor=engineer_a)
    with pytest.raises(DomainError, match="sign-off or reopen"):
        transition_task(monitoring, to=TaskStatus.SIGNED_OFF, actor=engineer_a)


def test_blocked_needs_a_reason_and_keeps_it(engagement_a, engineer_a):
    monitoring = task_of(engagement_a, "monitoring")
    with pytest.raises(DomainError, match="reason is required"):
        transition_task(monitoring, to=TaskStatus.BLOCKED, actor=engineer_a, reason="   ")
    move(monitoring, engineer_a, TaskStatus.BLOCKED, reason="No monitoring agent licence yet")
    assert monitoring.blocked_reason == "No monitoring agent licence yet"
    move(monitoring, engineer_a, TaskStatus.IN_PROGRESS)
    assert monitoring.blocked_reason == ""


def test_only_an_optional_task_can_be_not_applicable(engagement_a, engineer_a):
    with pytest.raises(DomainError):
        transition_task(
            task_of(engagement_a, "code_integration"),
            to=TaskStatus.NOT_APPLICABLE,
            actor=engineer_a,
        )
    migration = move(task_of(engagement_a, "user_migration"), engineer_a, TaskStatus.NOT_APPLICABLE)
    assert migration.status == TaskStatus.NOT_APPLICABLE


def test_reopening_needs_the_signer_and_a_reason_and_allows_a_new_sign_off(
    engagement_a, cse, engineer_a
):
    deploy = task_of(engagement_a, "deployment", DEV)
    move(deploy, cse, TaskStatus.IN_PROGRESS, TaskStatus.DONE)
    sign_off_task(deploy, actor=cse)
    with pytest.raises(NotAllowed):
        reopen_task(deploy, actor=engineer_a, reason="Broken")
    with pytest.raises(DomainError, match="reason is required"):
        reopen_task(deploy, actor=cse, reason="")
    reopen_task(deploy, actor=cse, reason="The SMTP settings were lost on restart.")
    move(deploy, cse, TaskStatus.DONE)
    sign_off_task(deploy, actor=cse, comment="Second time")
    assert SignOff.objects.filter(task=deploy).count() == 2  # the first stays on record


def test_a_stale_revision_is_a_conflict_and_changes_nothing(engagement_a, engineer_a):
    monitoring = task_of(engagement_a, "monitoring")
    seen = monitoring.revision
    move(monitoring, engineer_a, TaskStatus.IN_PROGRESS)
    with pytest.raises(Conflict, match="changed by someone else"):
        transition_task(
            monitoring, to=TaskStatus.BLOCKED, actor=engineer_a, reason="x", revision=seen
        )
    monitoring.refresh_from_db()
    assert monitoring.status == TaskStatus.IN_PROGRESS


def test_one_sign_off_per_round_is_a_database_constraint(engagement_a, cse):
    deploy = task_of(engagement_a, "deployment", DEV)
    SignOff.objects.create(task=deploy, round=0, party=vendor_party(), signed_by=cse)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignOff.objects.create(task=deploy, round=0, party=vendor_party(), signed_by=cse)


def test_a_second_sign_off_is_a_conflict(engagement_a, cse):
    deploy = task_of(engagement_a, "deployment", DEV)
    move(deploy, cse, TaskStatus.IN_PROGRESS, TaskStatus.DONE)
    sign_off_task(deploy, actor=cse)
    with pytest.raises(Conflict, match="already signed off"):
        sign_off_task(deploy, actor=cse)
    assert SignOff.objects.filter(task=deploy).count() == 1


def test_sign_offs_are_immutable(engagement_a, cse):
    deploy = task_of(engagement_a, "deployment", DEV)
    move(deploy, cse, TaskStatus.IN_PROGRESS, TaskStatus.DONE)
    signoff = sign_off_task(deploy, actor=cse)
    signoff.comment = "edited"
    with pytest.raises(TypeError):
        signoff.save()


def test_the_responsible_party_asks_a_consulted_party(engagement_a, engineer_a, cse):
    integration = task_of(engagement_a, "code_integration")  # Auth0: C, I (conditional)
    comment = add_comment(
        integration, actor=engineer_a, body="Which SDK?", addressed_to=vendor_party()
    )
    assert comment.is_question
    assert Event.objects.get(task=integration).verb == "task.question_asked"
    # Both ways: the Consulted party opens a question to the Responsible one.
    back = add_comment(integration, actor=cse, body="Which SDK?", addressed_to=subscriber_party())
    assert back.is_open_question
    with pytest.raises(DomainError, match="neither Consulted nor Responsible"):
        add_comment(
            task_of(engagement_a, "monitoring"),
            actor=engineer_a,
            body="?",
            addressed_to=vendor_party(),
        )


@pytest.mark.parametrize(
    "body, message", [("   ", "comment is required"), ("x" * 5001, "too long")]
)
def test_bad_comments_are_refused(engagement_a, engineer_a, body, message):
    with pytest.raises(DomainError, match=message):
        add_comment(task_of(engagement_a, "monitoring"), actor=engineer_a, body=body)
    assert not Comment.objects.exists()


def test_non_members_cannot_comment(engagement_a, engineer_b):
    with pytest.raises(NotAllowed):
        add_comment(task_of(engagement_a, "monitoring"), actor=engineer_b, body="hello")
