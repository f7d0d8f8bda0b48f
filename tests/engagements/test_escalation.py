"""Escalation that fires (issue 12, item 2): overdue work past its grace period escalates
once, to people beyond the Responsible ones; done work reminds its signers daily; issues past
their response target escalate to the CSE once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from engagements.actions.issues import raise_issue
from engagements.actions.membership import add_member
from engagements.actions.tasks import transition_task
from engagements.choices import Environment, ReminderKind, Severity, TaskStatus
from engagements.escalations import (
    sweep_issue_escalations,
    sweep_task_escalations,
    working_deadline,
)
from engagements.models import EngagementTask, Event, Issue, Notification, TaskParty
from engagements.reminders import sweep_reminders
from tests.conftest import task_of
from tests.factories import UserFactory, subscriber_party, vendor_party

pytestmark = pytest.mark.django_db
CSE, ENGINEER = "Auth0 Customer Success Engineer", "subscriber's infrastructure engineer"


@pytest.fixture
def people(engagement_a, cse, engineer_a, vendor_org, org_a):
    sales = UserFactory(username="vendor-sales", organization=vendor_org)
    lead = UserFactory(username="acme-lead", organization=org_a)
    add_member(engagement_a, sales, party=vendor_party())
    add_member(engagement_a, lead, party=subscriber_party(), is_manager=True)
    return {"cse": cse, "sales": sales, "eng": engineer_a, "lead": lead}


def told(verb: str) -> dict[str, set[str]]:
    event = Event.objects.filter(verb=verb).latest("id")
    out: dict[str, set[str]] = {}
    for n in Notification.objects.filter(event=event):
        out.setdefault(n.channel, set()).add(n.recipient.username)
    return out


def overdue(task, days: int) -> None:
    EngagementTask.objects.filter(pk=task.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=days)
    )


def test_late_infrastructure_escalates_once_to_the_managers_and_the_cse(engagement_a, people):
    infra = task_of(engagement_a, "infrastructure", Environment.DEVELOPMENT)
    overdue(infra, 10)  # past the 3-day grace; the subscriber is R and A: the same people
    EngagementTask.objects.filter(engagement=engagement_a).exclude(pk=infra.pk).update(
        due_date=None
    )
    for _ in range(3):
        sweep_task_escalations()
    assert Event.objects.filter(verb="task.escalated").count() == 1
    assert told("task.escalated") == {
        "email": {"acme-lead", "cse"},
        "portal": {"acme-lead", "cse"},
    }
    event = Event.objects.get(verb="task.escalated")
    assert event.task == infra and event.data["due"]
    # The Responsible people are reminded daily, not escalated to.
    sweep_reminders()
    overdue_rows = Notification.objects.filter(kind=ReminderKind.OVERDUE, task=infra)
    assert {n.recipient.username for n in overdue_rows} == {"engineer-a"}  # the role holder


def test_late_work_escalates_to_accountable_people_when_they_are_others(engagement_a, people):
    integration = task_of(engagement_a, "code_integration")
    TaskParty.objects.filter(task=integration, party=subscriber_party()).update(accountable=False)
    TaskParty.objects.filter(task=integration, party=vendor_party()).update(accountable=True)
    overdue(integration, 5)
    EngagementTask.objects.filter(engagement=engagement_a).exclude(pk=integration.pk).update(
        due_date=None
    )
    sweep_task_escalations()
    sweep_task_escalations()
    assert told("task.escalated")["email"] == {"cse", "vendor-sales"}
    # A new due date escalates again, once.
    EngagementTask.objects.filter(pk=integration.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=4)
    )
    sweep_task_escalations()
    sweep_task_escalations()
    assert Event.objects.filter(verb="task.escalated").count() == 2


def test_work_within_grace_or_finished_does_not_escalate(engagement_a, people):
    infra = task_of(engagement_a, "infrastructure", Environment.DEVELOPMENT)
    EngagementTask.objects.filter(engagement=engagement_a).update(due_date=None)
    overdue(infra, 2)
    assert sweep_task_escalations() == 0
    overdue(infra, 10)
    EngagementTask.objects.filter(pk=infra.pk).update(status=TaskStatus.SIGNED_OFF)
    assert sweep_task_escalations() == 0


def test_done_work_reminds_its_signers_daily(engagement_a, people, vendor_org):
    cse2 = UserFactory(username="cse-2", organization=vendor_org)
    add_member(engagement_a, cse2, party=vendor_party(), roles=[CSE])
    deploy = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=people["cse"])
    deploy.refresh_from_db()
    transition_task(deploy, to=TaskStatus.DONE, actor=people["cse"])
    sweep_reminders()
    assert not Notification.objects.filter(kind=ReminderKind.SIGN_OFF_DUE).exists()  # today
    EngagementTask.objects.filter(pk=deploy.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=1)
    )
    sweep_reminders()
    sweep_reminders()
    rows = Notification.objects.filter(kind=ReminderKind.SIGN_OFF_DUE)
    assert {(n.recipient.username, n.channel) for n in rows} == {
        ("cse", "email"),
        ("cse", "portal"),
        ("cse-2", "email"),
        ("cse-2", "portal"),
    }


def test_an_unanswered_issue_escalates_to_the_cse_once(engagement_a, people, settings):
    settings.ISSUE_RESPONSE_TARGETS = {
        "critical": "4h",
        "high": "1d",
        "medium": "3d",
        "low": "5d",
    }
    critical = raise_issue(
        engagement_a,
        actor=people["eng"],
        title="Logins fail",
        environment=Environment.PRODUCTION,
        severity=Severity.CRITICAL,
        description="All logins fail with 500.",
        ticket_reference="SC-9",
    )
    low = raise_issue(
        engagement_a,
        actor=people["eng"],
        title="Typo",
        environment=Environment.PRODUCTION,
        severity=Severity.LOW,
        description="A typo on the login page.",
        ticket_reference="SC-10",
    )
    now = timezone.now()
    assert sweep_issue_escalations(now) == 0
    later = now + dt.timedelta(hours=5)
    assert sweep_issue_escalations(later) == 1
    assert sweep_issue_escalations(later) == 0
    critical.refresh_from_db()
    low.refresh_from_db()
    assert critical.escalated_at is not None and low.escalated_at is None
    assert told("issue.escalated") == {"email": {"cse"}, "portal": {"cse"}}
    assert Issue.objects.filter(escalated_at__isnull=False).count() == 1


def test_working_days_skip_the_weekend():
    friday = dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
    assert working_deadline(friday, "1d") == dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)
    assert working_deadline(friday, "3d") == dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)
    assert working_deadline(friday, "4h") == dt.datetime(2026, 11, 27, 14, tzinfo=dt.UTC)


def test_the_portfolio_counts_open_escalations(client_for, engagement_a, people):
    from django.urls import reverse

    infra = task_of(engagement_a, "infrastructure", Environment.DEVELOPMENT)
    EngagementTask.objects.filter(engagement=engagement_a).exclude(pk=infra.pk).update(
        due_date=None
    )
    overdue(infra, 10)
    sweep_task_escalations()
    html = client_for(people["cse"]).get(reverse("engagements:portfolio")).content.decode()
    cell = html.split(f'data-testid="escalated-{engagement_a.pk}">')[1].split("</td>")[0]
    assert ">1<" in cell


def test_before_an_update_window(engagement_a, people, cse, engineer_a, mailoutbox):
    """24 hours before a window the subscriber's Responsible people are reminded; the hour
    before, the vendor's too if the preparation is still missing; each once."""
    from engagements.actions.cycles import accept_windows, propose_cycle
    from engagements.choices import ReminderKind as R
    from engagements.reminders import sweep_windows
    from tests.factories import update_windows

    cycle = propose_cycle(engagement_a, actor=cse, release="2026.12.1", windows=update_windows(2))
    accept_windows(cycle, actor=engineer_a)
    dev = cycle.stages.get(environment=Environment.DEVELOPMENT)
    assert sweep_windows(now=dev.window_start - dt.timedelta(hours=30)) == 0  # too early
    day_before = dev.window_start - dt.timedelta(hours=20)
    sweep_windows(now=day_before)
    sweep_windows(now=day_before + dt.timedelta(hours=1))
    soon = Notification.objects.filter(kind=R.WINDOW_SOON, channel="email")
    # Updates: the subscriber is R, A (no role): every subscriber member.
    assert {n.recipient.username for n in soon} == {"engineer-a", "acme-lead"}
    assert soon.count() == 2
    hour_before = dev.window_start - dt.timedelta(minutes=40)
    sweep_windows(now=hour_before)
    unprepared = Notification.objects.filter(kind=R.WINDOW_UNPREPARED, channel="email")
    assert {n.recipient.username for n in unprepared} == {"cse", "vendor-sales"}
    from engagements.tasks import deliver_pending_batches

    deliver_pending_batches()
    subjects = {m.subject for m in mailoutbox}
    assert any("An update window starts within a day" in s for s in subjects), subjects


def test_my_work_lists_the_cses_open_escalations_and_the_questions_put_to_a_party(
    client_for, engagement_a, people
):
    """My work of the people asked lists the open question; the CSE's lists the open
    escalations of their engagements; neither shows to anyone else, and both leave once
    answered or no longer owed."""
    from django.urls import reverse

    from engagements.actions.questions import answer_question
    from engagements.actions.tasks import add_comment

    infra = task_of(engagement_a, "infrastructure", Environment.DEVELOPMENT)
    EngagementTask.objects.filter(engagement=engagement_a).exclude(pk=infra.pk).update(
        due_date=None
    )
    overdue(infra, 10)
    sweep_task_escalations()
    integration = task_of(engagement_a, "code_integration")  # Auth0 C, I; Subscriber R, A
    question = add_comment(
        integration,
        actor=people["cse"],
        body="Which SDK does your app use?",
        addressed_to=subscriber_party(),
    )

    def my_work(who: str) -> str:
        page = client_for(people[who]).get(reverse("engagements:my-work")).content.decode()
        if 'data-testid="operations-waiting"' not in page:
            return ""
        return page.split('data-testid="operations-waiting"')[1].split("</section>")[0]

    cse = my_work("cse")
    assert "escalated</span>" in cse and "Infrastructure" in cse and "overdue since" in cse
    assert "Which SDK" not in cse  # asked of the subscriber, not of the vendor
    for who in ("eng", "lead"):  # the subscriber's members are asked
        listed = my_work(who)
        assert "question on Code Integration" in listed and "Which SDK" in listed
        assert f"#comment-{question.pk}" in listed
        assert "escalated</span>" not in listed  # only the CSE's My work lists escalations
    assert "Which SDK" not in my_work("sales") and "escalated" not in my_work("sales")

    # The engagement page marks the escalated task and counts the open question.
    url = reverse("engagements:engagement-detail", args=[engagement_a.pk])
    html = client_for(people["sales"]).get(url).content.decode()
    assert f'data-testid="escalated-{infra.pk}"' in html
    assert f'data-testid="questions-{integration.pk}">1 open question<' in html

    answer_question(question, actor=people["eng"], body="auth0-spa-js")
    # A new due date: the escalation for the old one is no longer open.
    EngagementTask.objects.filter(pk=infra.pk).update(
        due_date=timezone.localdate() + dt.timedelta(days=5)
    )
    assert my_work("lead") == "" or "Which SDK" not in my_work("lead")
    assert "escalated</span>" not in my_work("cse")
    html = client_for(people["sales"]).get(url).content.decode()
    assert "escalated-" not in html.split("<table")[1] and "open question" not in html
