"""Operations after go-live: the update cycle's gates, who is told, the handover's iCalendar,
standing duties and their cadence, attestation tokens, issues."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from engagements import policy
from engagements import reminders as reminder_sweeps
from engagements import tasks as celery_tasks
from engagements.actions.cycle_overrides import override_gate
from engagements.actions.cycles import (
    SnapshotIn,
    accept_windows,
    cancel_cycle,
    finish_update,
    post_status,
    propose_cycle,
    propose_windows,
    record_preparation,
    record_test,
    start_update,
)
from engagements.actions.duties import AttestationIn, record_attestation, set_cadence
from engagements.actions.handover import (
    cancel_handover,
    record_handover_held,
    reschedule_handover,
    schedule_handover,
)
from engagements.actions.issues import move_issue, raise_issue, set_ticket_reference
from engagements.actions.membership import add_member
from engagements.actions.tasks import sign_off_task, transition_task
from engagements.actions.tokens import create_attestation_token, revoke_attestation_token, token_for
from engagements.choices import (
    AttestationResult,
    CycleState,
    DutyKind,
    Environment,
    HandoverState,
    IssueState,
    ReminderKind,
    Severity,
    TaskStatus,
)
from engagements.errors import Conflict, DomainError, NotAllowed
from engagements.models import (
    Attestation,
    Event,
    Issue,
    Notification,
    Snapshot,
    StandingDuty,
    UpdateCycle,
)
from tests.conftest import task_of
from tests.factories import UserFactory, in_window, subscriber_party, vendor_party
from tests.factories import update_windows as windows

pytestmark = pytest.mark.django_db

DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION


def snapshots(*vms: str) -> list[SnapshotIn]:
    taken = timezone.now() - dt.timedelta(minutes=30)
    return [SnapshotIn(vm, f"snap-{vm}-001", taken) for vm in vms or ("app-1",)]


def prepare(cycle, engineer, env=DEV):
    return record_preparation(
        cycle,
        actor=engineer,
        environment=env,
        snapshots=snapshots("app-1", "app-2"),
        access_provided=True,
        present="Jane (infra), Bob (DBA)",
    )


@pytest.fixture
def team(engagement_a, cse, engineer_a, vendor_org, org_a):
    cse2 = UserFactory(username="cse-2", organization=vendor_org)
    eng2 = UserFactory(username="engineer-a2", organization=org_a)

    add_member(engagement_a, cse2, party=vendor_party())
    add_member(engagement_a, eng2, party=subscriber_party())
    return {"V": [cse, cse2], "S": [engineer_a, eng2]}


@pytest.fixture
def agreed(engagement_a, cse, engineer_a):
    cycle = propose_cycle(
        engagement_a,
        actor=cse,
        release="2026.12.1",
        windows=windows(),
        release_notes_url="https://example.com/notes",
    )
    accept_windows(cycle, actor=engineer_a)
    cycle.refresh_from_db()
    return cycle


def state_of(cycle) -> str:
    return UpdateCycle.objects.get(pk=cycle.pk).state


# --- The gates ------------------------------------------------------------------------


def test_a_full_cycle(engagement_a, cse, engineer_a, agreed):
    prepare(agreed, engineer_a, DEV)
    start_update(agreed, actor=cse, environment=DEV)
    post_status(agreed, actor=cse, message="Scripts running, 40% done")
    finish_update(agreed, actor=cse, scripts="migrate-2026-12.sh")
    assert state_of(agreed) == CycleState.DEV_TESTING
    record_test(agreed, actor=engineer_a, result="passed", notes="Logins, MFA, SSO ok")
    prepare(agreed, engineer_a, PROD)
    with in_window(agreed, PROD):
        start_update(agreed, actor=cse, environment=PROD)
        finish_update(agreed, actor=cse, scripts="none required")
    assert state_of(agreed) == CycleState.COMPLETED
    verbs = list(
        Event.objects.filter(data__cycle=agreed.pk).order_by("id").values_list("verb", flat=True)
    )
    assert verbs == [
        "update.proposed",
        "update.windows_agreed",
        "update.prepared",
        "update.started",
        "update.status_posted",
        "update.node_updated",
        "update.test_passed",
        "update.prepared",
        "update.started",
        "update.completed",
    ]
    assert task_of(engagement_a, "updates").status == TaskStatus.IN_PROGRESS


def test_development_update_refused_without_snapshot_evidence(agreed, cse):
    with pytest.raises(DomainError, match="has not recorded its preparation"):
        start_update(agreed, actor=cse, environment=DEV)
    assert state_of(agreed) == CycleState.AGREED
    assert not Event.objects.filter(verb="update.started").exists()


def test_preparation_needs_every_part_and_saves_nothing_otherwise(agreed, engineer_a):
    with pytest.raises(DomainError) as refused:
        record_preparation(
            agreed,
            actor=engineer_a,
            environment=DEV,
            snapshots=[],
            access_provided=False,
            present="",
        )
    message = str(refused.value)
    assert "snapshot" in message and "access" in message and "present" in message
    assert not Snapshot.objects.exists()
    with pytest.raises(DomainError, match="future"):
        record_preparation(
            agreed,
            actor=engineer_a,
            environment=DEV,
            access_provided=True,
            present="me",
            snapshots=[SnapshotIn("vm", "s1", timezone.now() + dt.timedelta(days=1))],
        )
    with pytest.raises(DomainError, match="twice"):
        record_preparation(
            agreed,
            actor=engineer_a,
            environment=DEV,
            access_provided=True,
            present="me",
            snapshots=snapshots("vm", "VM"),
        )
    assert not Snapshot.objects.exists()


def test_the_vendor_cannot_record_the_subscribers_preparation(agreed, cse):
    with pytest.raises(NotAllowed, match="subscriber"):
        prepare(agreed, cse)


def test_production_refused_before_development_testing_passed(agreed, cse, engineer_a):
    prepare(agreed, engineer_a, DEV)
    prepare(agreed, engineer_a, PROD)
    with pytest.raises(DomainError):
        start_update(agreed, actor=cse, environment=PROD)  # Development not even updated
    start_update(agreed, actor=cse, environment=DEV)
    finish_update(agreed, actor=cse, scripts="none required")
    with pytest.raises(DomainError, match="waits until Development testing has passed"):
        start_update(agreed, actor=cse, environment=PROD)
    assert state_of(agreed) == CycleState.DEV_TESTING


def test_override_by_the_accountable_party_is_recorded_with_actor_and_reason(
    agreed, cse, engineer_a
):
    prepare(agreed, engineer_a, DEV)
    prepare(agreed, engineer_a, PROD)
    start_update(agreed, actor=cse, environment=DEV)
    finish_update(agreed, actor=cse, scripts="none required")
    with pytest.raises(NotAllowed, match="Accountable"):
        override_gate(agreed, actor=cse, reason="we are in a hurry")  # the vendor is R only
    with pytest.raises(DomainError, match="reason"):
        override_gate(agreed, actor=engineer_a, reason="  ")
    override_gate(agreed, actor=engineer_a, reason="Security fix; tests run after")
    cycle = UpdateCycle.objects.get(pk=agreed.pk)
    assert cycle.override_by == engineer_a and cycle.override_reason.startswith("Security")
    event = Event.objects.get(verb="update.gate_overridden")
    assert event.actor == engineer_a and event.data["reason"] == "Security fix; tests run after"
    with in_window(agreed, PROD):
        start_update(agreed, actor=cse, environment=PROD)
    assert state_of(agreed) == CycleState.PROD_UPDATING


def test_a_failed_test_raises_an_issue_linked_to_the_cycle(agreed, cse, engineer_a):
    prepare(agreed, engineer_a, DEV)
    start_update(agreed, actor=cse, environment=DEV)
    finish_update(agreed, actor=cse, scripts="none required")
    with pytest.raises(DomainError, match="what failed"):
        record_test(agreed, actor=engineer_a, result="failed", notes="")
    record_test(agreed, actor=engineer_a, result="failed", notes="SSO login loops")
    issue = Issue.objects.get()
    assert issue.cycle_id == agreed.pk and issue.environment == DEV
    assert issue.severity == Severity.HIGH and issue.state == IssueState.OPEN
    assert state_of(agreed) == CycleState.DEV_FAILED
    # The vendor can run the Development update again, and the tests come round again.
    start_update(agreed, actor=cse, environment=DEV)
    finish_update(agreed, actor=cse, scripts="hotfix-1.sh")
    record_test(agreed, actor=engineer_a, result="passed")
    assert state_of(agreed) == CycleState.DEV_PASSED


def test_windows_are_agreed_by_the_other_side(engagement_a, cse, engineer_a, team):
    cycle = propose_cycle(engagement_a, actor=cse, release="r1", windows=windows())
    with pytest.raises(NotAllowed, match="your side"):
        accept_windows(cycle, actor=team["V"][1])
    propose_windows(cycle, actor=engineer_a, windows=windows(days=5))
    with pytest.raises(NotAllowed):
        accept_windows(cycle, actor=team["S"][1])
    accept_windows(cycle, actor=cse)
    assert state_of(cycle) == CycleState.AGREED


def test_bad_windows_and_a_second_open_cycle_are_refused(engagement_a, cse, agreed):
    w = windows()
    with pytest.raises(DomainError, match="after the Development window ends"):
        propose_cycle(engagement_a, actor=cse, release="r2", windows={DEV: w[PROD], PROD: w[DEV]})
    with pytest.raises(DomainError, match="end after it starts"):
        propose_cycle(
            engagement_a, actor=cse, release="r2", windows={DEV: w[DEV][::-1], PROD: w[PROD]}
        )
    with pytest.raises(DomainError, match="still open"):
        propose_cycle(engagement_a, actor=cse, release="r2", windows=w)
    assert UpdateCycle.objects.count() == 1


def test_a_stale_revision_is_a_conflict(agreed, cse):
    with pytest.raises(Conflict):
        cancel_cycle(agreed, actor=cse, reason="x", revision=agreed.revision - 1)
    assert state_of(agreed) == CycleState.AGREED


# --- Who is told -----------------------------------------------------------------------


def told(verb: str) -> set[int]:
    event = Event.objects.filter(verb=verb).latest("id")
    return set(
        Notification.objects.filter(event=event, channel="portal").values_list(
            "recipient_id", flat=True
        )
    )


def ids(*users) -> set[int]:
    return {u.pk for u in users}


def test_update_events_follow_the_letters(team, agreed):
    cse, cse2 = team["V"]
    eng, eng2 = team["S"]
    assert told("update.windows_agreed") == ids(cse, cse2, eng2)  # Updates: V=R, S=RA
    prepare(agreed, eng)
    start_update(agreed, actor=cse, environment=DEV)
    post_status(agreed, actor=cse, message="halfway")
    assert told("update.status_posted") == ids(cse2, eng, eng2)
    finish_update(agreed, actor=cse, scripts="none required")
    record_test(agreed, actor=eng, result="passed")
    # Testing Updates: the vendor is "C, I (in the event that there are questions/issues)",
    # but Production is its next step: the vendor's Responsible people on Updates are told
    # it is their turn.
    assert told("update.test_passed") == ids(cse, cse2, eng2)
    event = Event.objects.filter(verb="update.test_passed").latest("id")
    reasons = dict(
        Notification.objects.filter(event=event, channel="portal").values_list(
            "recipient", "reason"
        )
    )
    assert reasons == {cse.pk: "your_turn", cse2.pk: "your_turn", eng2.pk: "involved"}


def test_a_failed_test_informs_the_vendor(team, agreed):
    cse, cse2 = team["V"]
    eng, eng2 = team["S"]
    prepare(agreed, eng)
    start_update(agreed, actor=cse, environment=DEV)
    finish_update(agreed, actor=cse, scripts="none required")
    record_test(agreed, actor=eng, result="failed", notes="broken")
    assert told("update.test_failed") == ids(cse, cse2, eng2)
    assert told("issue.raised") == ids(cse, cse2, eng2)  # Issue Identification: V=C


def test_issue_moves_tell_the_other_side(engagement_a, team):
    cse, cse2 = team["V"]
    eng, eng2 = team["S"]
    issue = raise_issue(
        engagement_a,
        actor=eng,
        title="Login slow",
        environment=PROD,
        severity=Severity.MEDIUM,
        description="p95 8 s",
        ticket_reference="SC-20417",
    )
    move_issue(issue, actor=cse, to=IssueState.INVESTIGATING)
    assert told("issue.state_changed") == ids(cse2, eng, eng2)  # Issue Resolution: V=R, S=C


def test_backup_attestations_inform_the_vendor_only_on_issues(engagement_a, team):
    cse, cse2 = team["V"]
    eng = team["S"][0]
    backup = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.BACKUP)
    monitoring = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.MONITORING)
    now = timezone.now()
    record_attestation(
        backup,
        actor=eng,
        attestation=AttestationIn(now, AttestationResult.SUCCEEDED, tool="CLI"),
    )
    assert told("duty.attested") == set()  # Backing Up: V = I (in the event of issues)
    record_attestation(
        backup,
        actor=eng,
        attestation=AttestationIn(now, AttestationResult.FAILED, tool="CLI", notes="disk full"),
    )
    assert told("duty.failed") == ids(cse, cse2)
    record_attestation(
        monitoring,
        actor=eng,
        attestation=AttestationIn(
            now, AttestationResult.SUCCEEDED, monitored="CPU, disk, /health", alerts_to="PagerDuty"
        ),
    )
    assert told("duty.attested") == ids(cse, cse2)  # Monitoring: V = I, unconditional


# --- The handover and its invitation ------------------------------------------------------


def parse(ics: bytes):
    cal = icalendar.Calendar.from_ical(ics)
    (event,) = [c for c in cal.walk("VEVENT")]
    return cal, event


def test_handover_invitations_reschedules_and_cancellation(
    engagement_a, team, mailoutbox, settings
):
    cse, cse2 = team["V"]
    eng, eng2 = team["S"]
    start = (timezone.now() + dt.timedelta(days=7)).replace(microsecond=0, second=0)
    handover = schedule_handover(
        engagement_a,
        actor=cse,
        starts_at=start,
        attendee_ids=[cse.pk, eng.pk, eng2.pk],
        location="https://meet.example.com/psaas",
    )
    assert handover.duration_minutes == 90 and "Monitoring" in handover.agenda
    assert task_of(engagement_a, "handover").status == TaskStatus.IN_PROGRESS
    rows = Notification.objects.filter(event__verb="handover.scheduled", channel="email")
    assert set(rows.values_list("recipient_id", flat=True)) == ids(eng, eng2, cse2)
    sent = celery_tasks.deliver(list(rows.values_list("id", flat=True)))
    assert sent == 3
    invites = {}
    for message in mail.outbox:
        ics = [a for a in message.attachments if a[0] == "operations-handover.ics"]
        if ics:
            invites[message.to[0]] = ics[0][1]
    assert set(invites) == {eng.email, eng2.email}  # cse-2 is told (Responsible) but not invited
    cal, event = parse(
        invites[eng.email].encode() if isinstance(invites[eng.email], str) else invites[eng.email]
    )
    assert str(cal["method"]) == "REQUEST"
    assert event.decoded("dtstart") == start.astimezone(dt.UTC)
    assert event.decoded("dtstart").utcoffset() == dt.timedelta(0)
    assert event.decoded("duration") == dt.timedelta(minutes=90)
    assert str(event["uid"]) == str(handover.uid) and int(event["sequence"]) == 0
    attendees = {str(a).removeprefix("mailto:") for a in event.get("attendee")}
    assert attendees == {cse.email, eng.email, eng2.email}
    assert str(event["organizer"]).removeprefix("mailto:") == cse.email

    later = start + dt.timedelta(days=1, hours=2)
    reschedule_handover(
        handover,
        actor=cse,
        starts_at=later,
        duration_minutes=60,
        location="Room 4",
        attendee_ids=[cse.pk, eng.pk],
    )
    data = Event.objects.get(verb="handover.rescheduled").data["invitation"]
    from engagements import ical

    _, moved = parse(ical.invitation(data))
    assert str(moved["uid"]) == str(handover.uid) and int(moved["sequence"]) == 1
    assert moved.decoded("dtstart") == later and moved.decoded("duration") == dt.timedelta(hours=1)

    cancel_handover(handover, actor=cse, reason="CSE unavailable")
    data = Event.objects.get(verb="handover.cancelled").data["invitation"]
    cal, cancelled = parse(ical.invitation(data))
    assert str(cal["method"]) == "CANCEL" and str(cancelled["status"]) == "CANCELLED"
    assert str(cancelled["uid"]) == str(handover.uid) and int(cancelled["sequence"]) == 2


def test_handover_rules(engagement_a, team):
    cse = team["V"][0]
    eng = team["S"][0]
    start = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(NotAllowed):
        schedule_handover(engagement_a, actor=eng, starts_at=start, attendee_ids=[cse.pk, eng.pk])
    with pytest.raises(DomainError, match="both parties"):
        schedule_handover(engagement_a, actor=cse, starts_at=start, attendee_ids=[cse.pk])
    outsider = UserFactory(username="stranger")
    with pytest.raises(DomainError, match="member"):
        schedule_handover(
            engagement_a, actor=cse, starts_at=start, attendee_ids=[cse.pk, eng.pk, outsider.pk]
        )
    with pytest.raises(DomainError, match="future"):
        schedule_handover(
            engagement_a,
            actor=cse,
            starts_at=start - dt.timedelta(days=3),
            attendee_ids=[cse.pk, eng.pk],
        )
    handover = schedule_handover(
        engagement_a, actor=cse, starts_at=start, attendee_ids=[cse.pk, eng.pk]
    )
    with pytest.raises(DomainError, match="already scheduled"):
        schedule_handover(engagement_a, actor=cse, starts_at=start, attendee_ids=[cse.pk, eng.pk])
    with pytest.raises(DomainError, match="not started yet"):
        record_handover_held(handover, actor=cse, notes="done")


def test_recording_the_handover_held_completes_the_task(engagement_a, team):
    cse, eng = team["V"][0], team["S"][0]
    handover = schedule_handover(
        engagement_a,
        actor=cse,
        starts_at=timezone.now() + dt.timedelta(minutes=5),
        attendee_ids=[cse.pk, eng.pk],
    )
    record_handover_held(
        handover, actor=cse, notes="Reviewed monitoring and backups", questions_answered="Q1: yes"
    )
    handover.refresh_from_db()
    assert handover.state == HandoverState.HELD and handover.held_at
    assert task_of(engagement_a, "handover").status == TaskStatus.DONE


# --- Standing duties and their cadence -------------------------------------------------------


def test_duties_are_created_with_the_engagement(engagement_a):
    duties = {d.kind: d for d in StandingDuty.objects.filter(engagement=engagement_a)}
    assert (duties["backup"].cadence_days, duties["monitoring"].cadence_days) == (1, 30)


def test_attestations_move_the_due_time_and_are_flagged_late(engagement_a, engineer_a):
    backup = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.BACKUP)
    StandingDuty.objects.filter(pk=backup.pk).update(due_at=timezone.now() - dt.timedelta(hours=3))
    late = record_attestation(
        backup,
        actor=engineer_a,
        attestation=AttestationIn(timezone.now(), AttestationResult.SUCCEEDED, tool="CLI"),
    )
    assert not late.on_time
    backup.refresh_from_db()
    assert backup.due_at > timezone.now() + dt.timedelta(hours=23)
    on_time = record_attestation(
        backup,
        actor=engineer_a,
        attestation=AttestationIn(timezone.now(), AttestationResult.SUCCEEDED, tool="CLI"),
    )
    assert on_time.on_time
    with pytest.raises(DomainError, match="tool"):
        record_attestation(
            backup,
            actor=engineer_a,
            attestation=AttestationIn(timezone.now(), AttestationResult.SUCCEEDED),
        )
    with pytest.raises(NotAllowed):
        record_attestation(
            backup,
            actor=engagement_a.memberships.get(party__is_vendor=True).user,
            attestation=AttestationIn(timezone.now(), AttestationResult.SUCCEEDED, tool="x"),
        )


def test_missed_backups_remind_once_a_day_and_inform_the_vendor_only_past_grace(engagement_a, team):
    cse, cse2 = team["V"]
    eng, eng2 = team["S"]
    backup = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.BACKUP)
    # Noon, so that "30 minutes later" is the same day whenever the suite runs.
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    due = now - dt.timedelta(hours=5)
    StandingDuty.objects.filter(pk=backup.pk).update(due_at=due)
    first = reminder_sweeps.sweep_duties(now=now)
    reminder_sweeps.sweep_duties(now=now + dt.timedelta(minutes=30))  # same day: nothing new
    reminders = Notification.objects.filter(kind=ReminderKind.DUTY_DUE, channel="email")
    assert set(reminders.values_list("recipient_id", flat=True)) == ids(eng, eng2)
    assert reminders.count() == 2 and first["missed"] == 0  # within the 1-day grace
    assert not Event.objects.filter(verb="duty.missed").exists()

    later = due + dt.timedelta(days=1, hours=1)  # past grace
    assert reminder_sweeps.sweep_duties(now=later)["missed"] == 1
    assert reminder_sweeps.sweep_duties(now=later + dt.timedelta(hours=1))["missed"] == 0
    assert told("duty.missed") == ids(cse, cse2, eng, eng2)
    assert Event.objects.filter(verb="duty.missed").count() == 1
    assert Notification.objects.filter(kind=ReminderKind.DUTY_DUE, channel="email").count() == 4


def test_the_reminder_email_for_a_duty(engagement_a, team, mailoutbox):
    backup = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.BACKUP)
    StandingDuty.objects.filter(pk=backup.pk).update(due_at=timezone.now() - dt.timedelta(hours=3))
    reminder_sweeps.sweep_duties()
    celery_tasks.deliver_pending_batches()
    assert len(mail.outbox) == 2
    assert "Due: Backing Up" in mail.outbox[0].subject
    assert f"/engagements/{engagement_a.pk}/duties/" in mail.outbox[0].body


def test_cadence_is_set_by_the_accountable_party(engagement_a, team):
    backup = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.BACKUP)
    with pytest.raises(NotAllowed):
        set_cadence(backup, actor=team["V"][0], cadence_days=7, grace_days=2)
    with pytest.raises(DomainError):
        set_cadence(backup, actor=team["S"][0], cadence_days=0, grace_days=2)
    set_cadence(backup, actor=team["S"][0], cadence_days=7, grace_days=2)
    backup.refresh_from_db()
    assert (backup.cadence_days, backup.grace_days) == (7, 2)


# --- Issues ------------------------------------------------------------------------------------


def test_issue_lifecycle_and_roles(engagement_a, team):
    cse, eng = team["V"][0], team["S"][0]
    with pytest.raises(NotAllowed):
        raise_issue(
            engagement_a, actor=cse, title="x", environment=PROD, severity="low", description="d"
        )
    issue = raise_issue(
        engagement_a,
        actor=eng,
        title="Emails not sent",
        environment=PROD,
        severity=Severity.CRITICAL,
        description="SMTP relay refuses",
    )
    set_ticket_reference(issue, actor=eng, reference="SC-12345")
    with pytest.raises(NotAllowed):
        move_issue(issue, actor=eng, to=IssueState.RESOLVED, note="fixed myself")
    move_issue(issue, actor=cse, to=IssueState.WAITING, note="Send the relay logs")
    move_issue(issue, actor=eng, to=IssueState.INVESTIGATING, note="Attached to SC-12345")
    with pytest.raises(DomainError, match="note"):
        move_issue(issue, actor=cse, to=IssueState.RESOLVED)
    move_issue(issue, actor=cse, to=IssueState.RESOLVED, note="Relay allow-list fixed")
    with pytest.raises(DomainError, match="cannot go"):
        move_issue(issue, actor=cse, to=IssueState.WAITING, note="x")
    move_issue(issue, actor=eng, to=IssueState.CLOSED)
    issue.refresh_from_db()
    assert issue.state == IssueState.CLOSED and issue.ticket_reference == "SC-12345"
    assert issue.resolution == "Relay allow-list fixed"
    assert Event.objects.filter(data__issue=issue.pk).count() == 6


# --- Tokens -------------------------------------------------------------------------------


def test_tokens_are_hashed_at_rest_and_revocable(engagement_a, engineer_a, cse):
    token, raw = create_attestation_token(engagement_a, actor=engineer_a, name="nightly")
    assert raw.startswith("psat_") and len(raw) > 40
    assert raw not in str(token.__dict__)
    assert token_for(raw) == token
    assert token_for(raw + "x") is None
    with pytest.raises(NotAllowed):
        create_attestation_token(engagement_a, actor=cse, name="vendor's")
    revoke_attestation_token(token, actor=engineer_a)
    assert token_for(raw) is None
    for event in Event.objects.filter(verb__startswith="token."):
        assert raw not in str(event.data)
    assert Attestation.objects.count() == 0


# --- Review findings: each a refusal with a message, or a rule -----------------------------


def test_duty_clocks_start_at_go_live(engagement_a, team):

    cse, eng = team["V"][0], team["S"][0]
    duties = StandingDuty.objects.filter(engagement=engagement_a)
    assert set(duties.values_list("due_at", flat=True)) == {None}
    assert reminder_sweeps.sweep_duties(now=timezone.now() + dt.timedelta(days=90)) == {
        "reminders": 0,
        "missed": 0,
    }
    deploy = task_of(engagement_a, "deployment", PROD)
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)
    deploy.refresh_from_db()
    transition_task(deploy, to=TaskStatus.DONE, actor=cse)
    deploy.refresh_from_db()
    sign_off_task(deploy, actor=cse)
    backup = duties.get(kind=DutyKind.BACKUP)
    assert backup.due_at > timezone.now() + dt.timedelta(hours=23)
    assert duties.get(kind=DutyKind.MONITORING).due_at > timezone.now() + dt.timedelta(days=29)
    # the two subscriber members, by email and in the portal
    assert reminder_sweeps.sweep_duties(now=timezone.now() + dt.timedelta(days=2))["reminders"] == 4
    assert eng.pk in set(
        Notification.objects.filter(kind=ReminderKind.DUTY_DUE).values_list(
            "recipient_id", flat=True
        )
    )


def test_a_gate_override_lapses_when_development_is_updated_again(agreed, cse, engineer_a):
    prepare(agreed, engineer_a, DEV)
    prepare(agreed, engineer_a, PROD)
    start_update(agreed, actor=cse, environment=DEV)
    finish_update(agreed, actor=cse, scripts="none")
    record_test(agreed, actor=engineer_a, result="failed", notes="broken")
    override_gate(agreed, actor=engineer_a, reason="urgent security fix")
    start_update(agreed, actor=cse, environment=DEV)  # the vendor fixes and re-runs
    finish_update(agreed, actor=cse, scripts="hotfix")
    with pytest.raises(DomainError, match="waits until Development testing has passed"):
        start_update(agreed, actor=cse, environment=PROD)
    assert Event.objects.filter(verb="update.started").latest("id").data["override_cleared"]


def test_out_of_range_and_oversized_input_is_refused(engagement_a, agreed, cse, engineer_a):
    far = timezone.now() + dt.timedelta(days=365 * 50)
    with pytest.raises(DomainError, match="two years ahead"):
        schedule_handover(
            engagement_a, actor=cse, starts_at=far, attendee_ids=[cse.pk, engineer_a.pk]
        )
    with pytest.raises(DomainError, match="two years ahead"):
        propose_windows(
            agreed,
            actor=cse,
            windows={DEV: (far, far + dt.timedelta(hours=1)), PROD: (far, far)},
        )
    taken = timezone.now() - dt.timedelta(hours=1)
    with pytest.raises(DomainError, match="at most 120"):
        record_preparation(
            agreed,
            actor=engineer_a,
            environment=DEV,
            snapshots=[
                SnapshotIn("v" * 121, "s", taken),
                SnapshotIn("v" * 122, "s", taken),
            ],
            access_provided=True,
            present="me",
        )
    with pytest.raises(DomainError, match="NUL"):
        cancel_cycle(agreed, actor=cse, reason="a\x00b")
    backup = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.BACKUP)
    with pytest.raises(DomainError, match="2\\^63"):
        record_attestation(
            backup,
            actor=engineer_a,
            attestation=AttestationIn(
                timezone.now(), AttestationResult.SUCCEEDED, tool="CLI", size_bytes=2**70
            ),
        )
    assert not Snapshot.objects.exists() and not Attestation.objects.exists()


def test_times_are_stored_and_told_in_utc(engagement_a, engineer_a):
    backup = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.BACKUP)
    plus5 = dt.timezone(dt.timedelta(hours=5))
    local = (timezone.now() - dt.timedelta(hours=1)).astimezone(plus5)
    record = record_attestation(
        backup,
        actor=engineer_a,
        attestation=AttestationIn(local, AttestationResult.SUCCEEDED, tool="CLI"),
    )
    utc = local.astimezone(dt.UTC)
    assert record.performed_at == utc
    assert f"{utc:%Y-%m-%d %H:%M} UTC" in Event.objects.get(verb="duty.attested").data["summary"]


def test_changing_the_cadence_does_not_report_the_same_miss_twice(engagement_a, team):
    eng = team["S"][0]
    backup = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.BACKUP)
    record_attestation(
        backup,
        actor=eng,
        attestation=AttestationIn(
            timezone.now() - dt.timedelta(days=5), AttestationResult.SUCCEEDED, tool="CLI"
        ),
    )
    assert reminder_sweeps.sweep_duties()["missed"] == 1
    set_cadence(backup, actor=eng, cadence_days=2, grace_days=1)
    assert reminder_sweeps.sweep_duties()["missed"] == 0
    assert Event.objects.filter(verb="duty.missed").count() == 1


def test_stages_are_development_then_production(agreed):
    assert [s.environment for s in agreed.stages.all()] == [DEV, PROD]


def test_dropped_attendees_get_a_cancellation_and_digest_readers_the_invitation_now(
    engagement_a, team, mailoutbox
):
    from engagements.choices import Delivery
    from engagements.models import Profile

    cse = team["V"][0]
    eng, eng2 = team["S"]
    Profile.objects.filter(user=eng2).update(email_delivery=Delivery.DIGEST)
    start = timezone.now() + dt.timedelta(days=4)
    handover = schedule_handover(
        engagement_a, actor=cse, starts_at=start, attendee_ids=[cse.pk, eng.pk, eng2.pk]
    )
    invite = Notification.objects.get(
        event__verb="handover.scheduled", recipient=eng2, channel="email"
    )
    assert not invite.digest
    reschedule_handover(
        handover,
        actor=cse,
        starts_at=start + dt.timedelta(hours=1),
        duration_minutes=90,
        location="",
        attendee_ids=[cse.pk, eng.pk],
    )
    rows = Notification.objects.filter(event__verb="handover.rescheduled", channel="email")
    assert eng2.pk in set(rows.values_list("recipient_id", flat=True))
    celery_tasks.deliver(list(rows.values_list("id", flat=True)))
    to_eng2 = next(m for m in mail.outbox if m.to == [eng2.email])
    (_name, content, mimetype) = next(a for a in to_eng2.attachments if a[0].endswith(".ics"))
    cal, event = parse(content if isinstance(content, bytes) else content.encode())
    assert str(cal["method"]) == "CANCEL" and int(event["sequence"]) == 1
    assert "method=CANCEL" in mimetype


def test_the_audit_trail_is_append_only_in_the_database(engagement_a, engineer_a):
    from django.db import DatabaseError, connection, transaction

    backup = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.BACKUP)
    record_attestation(
        backup,
        actor=engineer_a,
        attestation=AttestationIn(timezone.now(), AttestationResult.SUCCEEDED, tool="CLI"),
    )
    statements = [
        "UPDATE engagements_event SET verb = 'forged'",
        "UPDATE engagements_attestation SET result = 'failed'",
    ]
    if connection.vendor == "postgresql":  # SQLite's flush is a DELETE: refused on PostgreSQL only
        statements += ["DELETE FROM engagements_event", "DELETE FROM engagements_attestation"]
    for sql in statements:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert not Event.objects.filter(verb="forged").exists()
    assert Attestation.objects.get().result == AttestationResult.SUCCEEDED


def test_settled_notifications_are_pruned_after_the_retention(engagement_a, team, settings):
    from engagements.actions.tasks import transition_task

    settings.NOTIFY_RETENTION_DAYS = 30
    transition_task(
        task_of(engagement_a, "monitoring"), to=TaskStatus.IN_PROGRESS, actor=team["S"][0]
    )
    rows = Notification.objects.all()
    assert rows.count() == 4  # the vendor's two members, email and portal
    old = timezone.now() - dt.timedelta(days=31)
    rows.update(created_at=old)
    email = rows.filter(channel="email")
    email.filter(recipient=team["V"][0]).update(sent_at=old)  # sent: settled
    # the other email is unsent and still being tried: kept
    assert celery_tasks.prune_notification_batches(batch_size=1) == 3
    assert list(Notification.objects.values_list("channel", "sent_at")) == [("email", None)]
    assert Event.objects.filter(verb="task.status_changed").exists()  # the audit trail stays


def test_the_forms_each_side_is_offered_follow_the_state(agreed, cse, engineer_a):
    def offered(user):
        cycle = UpdateCycle.objects.get(pk=agreed.pk)
        return {name.removeprefix("cycle.") for name in policy.offered(user, cycle)}

    # The subscriber is Accountable on Updates: it may let an update start outside its window.
    assert offered(cse) == {"windows", "start_dev", "cancel"}
    assert offered(engineer_a) == {
        "windows",
        "prepare_dev",
        "prepare_prod",
        "override_window",
        "cancel",
    }
    prepare(agreed, engineer_a)
    start_update(agreed, actor=cse, environment=DEV)
    assert offered(cse) == {"status", "finish"}
    assert offered(engineer_a) == {"prepare_prod", "override_window"}
    finish_update(agreed, actor=cse, scripts="none")
    assert offered(cse) == {"start_prod", "cancel"}  # offered, refused with the gate's reason
    assert offered(engineer_a) == {
        "test",
        "override",
        "prepare_prod",
        "override_window",
        "cancel",
    }


def test_whoever_heard_of_a_problem_hears_that_it_ended(engagement_a, team):
    """Conditional letters ("C, I in the event that there are issues") fire on the problem
    and on its end: a task blocked then unblocked; a missed backup then one done."""
    cse, cse2 = team["V"]
    eng, _eng2 = team["S"]
    integration = task_of(engagement_a, "code_integration")  # Auth0: C, I on issues
    transition_task(integration, to=TaskStatus.IN_PROGRESS, actor=eng)
    assert told("task.status_changed") == set()  # no issue: the vendor is not told
    integration.refresh_from_db()
    transition_task(integration, to=TaskStatus.BLOCKED, actor=eng, reason="SDK question")
    assert ids(cse, cse2) <= told("task.status_changed")
    integration.refresh_from_db()
    transition_task(integration, to=TaskStatus.IN_PROGRESS, actor=eng)
    assert ids(cse, cse2) <= told("task.status_changed")  # unblocked: told it ended
    integration.refresh_from_db()
    transition_task(integration, to=TaskStatus.DONE, actor=eng)
    assert not ids(cse, cse2) & told("task.status_changed")

    backup = StandingDuty.objects.get(engagement=engagement_a, kind=DutyKind.BACKUP)
    now = timezone.now().replace(microsecond=0)
    StandingDuty.objects.filter(pk=backup.pk).update(due_at=now - dt.timedelta(days=2))
    assert reminder_sweeps.sweep_duties(now=now)["missed"] == 1
    backup.refresh_from_db()
    record_attestation(
        backup,
        actor=eng,
        attestation=AttestationIn(performed_at=now, result="succeeded", tool="CLI"),
    )
    assert ids(cse, cse2) <= told("duty.attested")  # after the miss: the vendor hears
    backup.refresh_from_db()
    record_attestation(
        backup,
        actor=eng,
        attestation=AttestationIn(
            performed_at=now + dt.timedelta(minutes=5), result="succeeded", tool="CLI"
        ),
    )
    assert not ids(cse, cse2) & told("duty.attested")  # routine: nobody on the vendor side


def test_update_evidence_covers_the_inventory_and_is_recent(engagement_a, team, agreed):
    """Snapshots cover every VM of the environment's inventory (from the accepted
    checklist) and are at most SNAPSHOT_MAX_AGE_HOURS old when the update starts."""
    from engagements.models import VirtualMachine

    cse, _ = team["V"]
    eng, _ = team["S"]
    for name in ("app-1", "app-2", "app-3"):
        VirtualMachine.objects.create(
            engagement=engagement_a,
            environment=DEV,
            name=name,
            address="10.0.0.1",
            processors=8,
            memory_gb=32,
            storage_gb=200,
            recorded_at=timezone.now(),
        )
    with pytest.raises(DomainError, match="missing app-3"):
        prepare(agreed, eng)
    assert not Snapshot.objects.exists()
    old = timezone.now() - dt.timedelta(hours=30)
    record_preparation(
        agreed,
        actor=eng,
        environment=DEV,
        snapshots=[SnapshotIn(vm, f"snap-{vm}", old) for vm in ("app-1", "app-2", "app-3")],
        access_provided=True,
        present="Jane",
    )
    with pytest.raises(DomainError, match="older than 24 hours"):
        start_update(agreed, actor=cse, environment=DEV)
    agreed.refresh_from_db()
    assert agreed.state == CycleState.AGREED
