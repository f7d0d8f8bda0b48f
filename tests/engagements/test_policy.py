"""The policy is the one source of who may do what: for every rule in the table, for each
persona (the vendor's CSE, the subscriber's engineer, a vendor person who is no member) and
each state of the object, the service refuses exactly when `policy.offered` does not list
the rule. Inputs are otherwise valid, so a refusal can only come from the rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from engagements import policy
from engagements.actions import (
    checklists,
    cycle_overrides,
    cycles,
    duties,
    engagements,
    handover,
    invitations,
    issues,
    membership,
    templates,
    tokens,
)
from engagements.actions import tasks as task_actions
from engagements.actions.chat import set_engagement_chat
from engagements.choices import (
    AttestationResult,
    ChecklistStatus,
    CycleState,
    DutyKind,
    EngagementState,
    Environment,
    HandoverState,
    IssueState,
    SeedTask,
    Severity,
    TaskStatus,
)
from engagements.errors import DomainError
from engagements.models import (
    AttestationToken,
    EngagementTask,
    Handover,
    InfrastructureChecklist,
    Issue,
    Membership,
    StandingDuty,
    UpdateStage,
)
from engagements.rules import RULES
from engagements.states import CYCLE, ENGAGEMENT, HANDOVER, ISSUE, TASK, person_may_reach
from tests.factories import checklist_items, checklist_vms, store_attachments_in, update_windows
from webhooks.actions import create_endpoint

pytestmark = pytest.mark.django_db
DEV = Environment.DEVELOPMENT


class _Rollback(Exception):
    pass


def refused(call: Callable[[], Any]) -> bool:
    """Runs the service in a savepoint that is always rolled back: True if it refused."""
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        return False
    except DomainError:
        return True


def fresh(obj: Any) -> Any:
    return type(obj).objects.get(pk=obj.pk)


@pytest.fixture
def personas(engagement_a, cse, engineer_a, vendor_outsider):
    return [cse, engineer_a, vendor_outsider]


def check_rule(name: str, obj_in_state: Callable[[], Any], call: Callable[[Any, Any], Any], people):
    """For each person: set the object up, ask the policy, call the service; all undone after."""
    for person in people:
        with transaction.atomic():
            obj = obj_in_state()
            offered = name in policy.offered(person, obj)
            was_refused = refused(partial(call, obj, person))
            assert was_refused != offered, (name, person.username, policy.state_of(obj))
            transaction.set_rollback(True)


def in_state(obj: Any, field: str, state: str | None, **extra: Any) -> Callable[[], Any]:
    def make() -> Any:
        values = {field: state, **extra} if state is not None else extra
        if values:
            type(obj).objects.filter(pk=obj.pk).update(**values)
        return fresh(obj)

    return make


def test_every_rule_is_covered_below():
    covered = (
        set(TASK_SERVICES)
        | set(CHECKLIST_SERVICES)
        | set(CYCLE_SERVICES)
        | set(HANDOVER_SERVICES)
        | set(DUTY_SERVICES)
        | set(ISSUE_SERVICES)
        | set(ENGAGEMENT_SERVICES)
        | set(MEMBER_SERVICES)
        | set(ATTACHMENT_SERVICES)
        | set(OUTBOUND_SERVICES)
        | {"task.move", "task.override_order", "task.answer"}
        | {"issue.investigate", "issue.ask", "issue.resolve", "issue.answer"}
        | {"issue.close", "issue.reopen", "token.revoke", "handover.schedule"}
    )
    assert covered == set(RULES)


# --- Tasks -----------------------------------------------------------------------------------
TASK_SERVICES: dict[str, Callable[[Any, Any], Any]] = {
    "task.sign_off": lambda t, u: task_actions.sign_off_task(t, actor=u),
    "task.reopen": lambda t, u: task_actions.reopen_task(t, actor=u, reason="found a problem"),
    "task.comment": lambda t, u: task_actions.add_comment(t, actor=u, body="A note"),
    "task.ask": lambda t, u: task_actions.add_comment(
        t,
        actor=u,
        body="A question",
        addressed_to=next(p.party for p in t.parties.all() if p.consulted),
    ),
    "task.consult": lambda t, u: task_actions.add_comment(
        t,
        actor=u,
        body="A question for the Responsible party",
        addressed_to=next(p.party for p in t.parties.all() if p.responsible),
    ),
}


@pytest.mark.parametrize(
    "key", ["infrastructure", "deployment", "configuration", "handover", "user_migration"]
)
def test_task_rules(engagement_a, personas, key):
    task = EngagementTask.objects.filter(engagement=engagement_a, key=key).order_by("environment")[
        0
    ]
    has_consulted = task.parties.filter(consulted=True).exists()
    for state in TaskStatus.values:
        if state == TaskStatus.NOT_APPLICABLE and not task.is_optional:
            continue  # a database constraint: only optional tasks are not applicable
        if state == TaskStatus.BLOCKED:
            extra = {"blocked_reason": "waiting"}
        else:
            extra = {"blocked_reason": ""}
        make = in_state(task, "status", state, **extra)
        for name, call in TASK_SERVICES.items():
            if name in ("task.ask", "task.consult") and not has_consulted:
                continue
            check_rule(name, make, call, personas)
        # task.move: each target of the machine, refused exactly when no offered rule moves there.
        for to in TaskStatus.values:
            if to in (TaskStatus.SIGNED_OFF, TaskStatus.REOPENED):
                continue
            for person in personas:
                with transaction.atomic():
                    obj = make()
                    move = TASK.move(state, to)
                    allowed = (
                        move is not None
                        and move.rule == "task.move"
                        and "task.move" in policy.offered(person, obj)
                        and (obj.is_optional or not move.optional_only)
                        and person_may_reach(obj, to)
                    )
                    offered_moves = policy.moves_offered(
                        obj, policy.member_seat(obj.engagement_id, person), person
                    )
                    assert allowed == any(t == to for t, _ in offered_moves), (state, to)
                    was_refused = refused(
                        lambda: task_actions.transition_task(
                            obj,  # noqa: B023
                            to=to,  # noqa: B023
                            actor=person,  # noqa: B023
                            reason="because",
                        )
                    )
                    assert was_refused != allowed, (key, state, to, person.username)
                    transaction.set_rollback(True)


@pytest.mark.parametrize("key", ["deployment", "configuration", "handover", "code_integration"])
def test_the_order_override_rule(engagement_a, personas, key):
    """Every task here waits on an unfinished one (the test engagement's go-ahead cleared):
    only its Accountable party may let it go ahead, and only while it is open."""
    from engagements.actions.prerequisites import override_order

    task = EngagementTask.objects.filter(engagement=engagement_a, key=key).order_by("environment")[
        0
    ]
    for state in TaskStatus.values:
        if state == TaskStatus.NOT_APPLICABLE and not task.is_optional:
            continue
        make = in_state(
            task,
            "status",
            state,
            blocked_reason="waiting" if state == TaskStatus.BLOCKED else "",
            prerequisites_overridden_at=None,
        )
        check_rule(
            "task.override_order",
            make,
            lambda t, u: override_order(t, actor=u, reason="the customer's go-live date"),
            personas,
        )


# --- The checklist ------------------------------------------------------------------------------
CHECKLIST_SERVICES: dict[str, Callable[[Any, Any], Any]] = {
    "checklist.edit": lambda c, u: checklists.save_checklist(
        c, actor=u, items={"memory": {"value": "16 GB", "confirmed": True}}
    ),
    "checklist.submit": lambda c, u: checklists.save_checklist(
        c, actor=u, items=checklist_items(), vms=checklist_vms(), submit=True
    ),
    "checklist.review": lambda c, u: checklists.review_checklist(c, actor=u, accept=True),
}


def test_checklist_rules(engagement_a, personas):
    checklist = InfrastructureChecklist.objects.get(engagement=engagement_a, environment=DEV)
    for state in ChecklistStatus.values:
        for name, call in CHECKLIST_SERVICES.items():
            check_rule(name, in_state(checklist, "status", state), call, personas)


# --- Update cycles --------------------------------------------------------------------------------
def _snap():
    return [cycles.SnapshotIn("app-1", "snap-1", timezone.now() - dt.timedelta(minutes=5))]


CYCLE_SERVICES: dict[str, Callable[[Any, Any], Any]] = {
    "cycle.windows": lambda c, u: cycles.propose_windows(c, actor=u, windows=update_windows()),
    "cycle.accept": lambda c, u: cycles.accept_windows(c, actor=u),
    "cycle.prepare_dev": lambda c, u: cycles.record_preparation(
        c, actor=u, environment=DEV, snapshots=_snap(), access_provided=True, present="Jane"
    ),
    "cycle.prepare_prod": lambda c, u: cycles.record_preparation(
        c,
        actor=u,
        environment=Environment.PRODUCTION,
        snapshots=_snap(),
        access_provided=True,
        present="Jane",
    ),
    "cycle.start_dev": lambda c, u: cycles.start_update(c, actor=u, environment=DEV),
    "cycle.start_prod": lambda c, u: cycles.start_update(
        c, actor=u, environment=Environment.PRODUCTION
    ),
    "cycle.status": lambda c, u: cycles.post_status(c, actor=u, message="Halfway"),
    "cycle.finish": lambda c, u: cycles.finish_update(c, actor=u, scripts="none required"),
    "cycle.test": lambda c, u: cycles.record_test(c, actor=u, result="passed"),
    "cycle.override": lambda c, u: cycle_overrides.override_gate(c, actor=u, reason="Security fix"),
    "cycle.override_window": lambda c, u: _override_window(c, u),
    "cycle.cancel": lambda c, u: cycles.cancel_cycle(c, actor=u, reason="Postponed"),
}


def _override_window(cycle, user):
    # The set-up lets both environments start outside their windows; take that back first.
    UpdateStage.objects.filter(cycle=cycle, environment=Environment.PRODUCTION).update(
        window_override_at=None, window_override_reason="", window_override_by=None
    )
    return cycle_overrides.override_window(
        cycle, actor=user, environment=Environment.PRODUCTION, reason="The window was missed"
    )


def test_cycle_rules(engagement_a, personas, cse, engineer_a):
    cycle = cycles.propose_cycle(
        engagement_a, actor=cse, release="2027.1", windows=update_windows()
    )
    # Both environments prepared and free of their windows, so that a start is refused
    # only by the rules (the window itself is tested in test_update_windows).
    UpdateStage.objects.filter(cycle=cycle).update(
        prepared_at=timezone.now(),
        prepared_by=engineer_a,
        access_provided=True,
        present="Jane",
        window_override_at=timezone.now(),
        window_override_by=engineer_a,
        window_override_reason="x",
    )
    for state in CycleState.values:
        for name, call in CYCLE_SERVICES.items():
            extra: dict[str, Any] = {}
            if name == "cycle.start_prod" and state in (
                CycleState.DEV_TESTING,
                CycleState.DEV_FAILED,
            ):
                # the gate is open by an override (the gate itself is tested elsewhere)
                extra = {
                    "override_at": timezone.now(),
                    "override_by": engineer_a,
                    "override_reason": "x",
                }
            check_rule(name, in_state(cycle, "state", state, **extra), call, personas)
    # The same side cannot agree its own windows; a second override is refused.
    made = in_state(
        cycle, "state", CycleState.PROPOSED, windows_proposed_by=engineer_a.memberships.get().party
    )
    check_rule("cycle.accept", made, CYCLE_SERVICES["cycle.accept"], personas)
    overridden = in_state(
        cycle,
        "state",
        CycleState.DEV_FAILED,
        override_at=timezone.now(),
        override_by=engineer_a,
        override_reason="x",
    )
    check_rule("cycle.override", overridden, CYCLE_SERVICES["cycle.override"], personas)


# --- The handover ----------------------------------------------------------------------------------
def _start():
    return timezone.now() + dt.timedelta(days=2)


HANDOVER_SERVICES: dict[str, Callable[[Any, Any], Any]] = {
    "handover.reschedule": lambda h, u: handover.reschedule_handover(
        h,
        actor=u,
        starts_at=_start(),
        duration_minutes=90,
        location="Room 1",
        attendee_ids=list(h.attendees.values_list("pk", flat=True)),
    ),
    "handover.record": lambda h, u: handover.record_handover_held(h, actor=u, notes="Went well"),
    "handover.cancel": lambda h, u: handover.cancel_handover(h, actor=u, reason="Moved"),
}


def test_handover_rules(engagement_a, personas, cse, engineer_a):
    meeting = handover.schedule_handover(
        engagement_a, actor=cse, starts_at=_start(), attendee_ids=[cse.pk, engineer_a.pk]
    )
    past = timezone.now() - dt.timedelta(hours=2)  # recorded after the meeting
    for state in HandoverState.values:
        for name, call in HANDOVER_SERVICES.items():
            check_rule(name, in_state(meeting, "state", state, starts_at=past), call, personas)
    for state in HandoverState.values:
        # schedule: on the engagement; refused only by the rule when no other is scheduled
        def engagement_without_scheduled(state=state):
            Handover.objects.filter(pk=meeting.pk).update(state=HandoverState.CANCELLED)
            return fresh(engagement_a)

        check_rule(
            "handover.schedule",
            engagement_without_scheduled,
            lambda e, u: handover.schedule_handover(
                e, actor=u, starts_at=_start(), attendee_ids=[cse.pk, engineer_a.pk]
            ),
            personas,
        )


# --- Duties and tokens ----------------------------------------------------------------------------
def _attest(duty, user):
    return duties.record_attestation(
        duty,
        actor=user,
        attestation=duties.AttestationIn(
            timezone.now() - dt.timedelta(minutes=5),
            AttestationResult.SUCCEEDED,
            tool="Command-Line Tools",
            monitored="CPU, disk",
            alerts_to="ops@example.com",
        ),
    )


DUTY_SERVICES: dict[str, Callable[[Any, Any], Any]] = {
    "duty.cadence": lambda d, u: duties.set_cadence(d, actor=u, cadence_days=2, grace_days=1),
    "attestation.record": _attest,
    "token.create": lambda e, u: tokens.create_attestation_token(e, actor=u, name="backup job"),
}


def test_duty_and_token_rules(engagement_a, personas, engineer_a):
    for kind in DutyKind.values:
        duty = StandingDuty.objects.get(engagement=engagement_a, kind=kind)
        for name in ("duty.cadence", "attestation.record"):
            check_rule(name, in_state(duty, "kind", None), DUTY_SERVICES[name], personas)
    check_rule("token.create", lambda: fresh(engagement_a), DUTY_SERVICES["token.create"], personas)
    token, _ = tokens.create_attestation_token(engagement_a, actor=engineer_a, name="job")
    check_rule(
        "token.revoke",
        in_state(token, "revoked_at", None),
        lambda t, u: tokens.revoke_attestation_token(t, actor=u),
        personas,
    )
    assert AttestationToken.objects.filter(revoked_at__isnull=True).count() == 1


# --- Issues -----------------------------------------------------------------------------------------
ISSUE_SERVICES: dict[str, Callable[[Any, Any], Any]] = {
    "issue.raise": lambda e, u: issues.raise_issue(
        e,
        actor=u,
        title="Login fails",
        environment=DEV,
        severity=Severity.HIGH,
        description="After the update",
    ),
    "issue.ticket": lambda i, u: issues.set_ticket_reference(i, actor=u, reference="SC-1234"),
    "issue.scope": lambda i, u: issues.set_issue_scope(
        i, actor=u, scope="integration", reason="Our login app's callback"
    ),
}


def test_issue_rules(engagement_a, personas, engineer_a):
    check_rule("issue.raise", lambda: fresh(engagement_a), ISSUE_SERVICES["issue.raise"], personas)
    issue = ISSUE_SERVICES["issue.raise"](engagement_a, engineer_a)
    for state in IssueState.values:
        make = in_state(issue, "state", state)
        check_rule("issue.ticket", make, ISSUE_SERVICES["issue.ticket"], personas)
        check_rule("issue.scope", make, ISSUE_SERVICES["issue.scope"], personas)
        for to in IssueState.values:
            for person in personas:
                with transaction.atomic():
                    obj = make()
                    move = ISSUE.move(state, to)
                    allowed = move is not None and move.rule in policy.offered(person, obj)
                    was_refused = refused(
                        lambda: issues.move_issue(obj, actor=person, to=to, note="details")  # noqa: B023
                    )
                    assert was_refused != allowed, (state, to, person.username)
                    transaction.set_rollback(True)
    assert Issue.objects.get(pk=issue.pk).state == IssueState.OPEN  # every attempt was undone


# --- The engagement --------------------------------------------------------------------------------
ENGAGEMENT_SERVICES: dict[str, Callable[[Any, Any], Any]] = {
    "engagement.go_live": lambda e, u: engagements.move_engagement(
        e, to=EngagementState.LIVE, actor=u
    ),
    "engagement.close": lambda e, u: engagements.move_engagement(
        e, to=EngagementState.CLOSED, actor=u, reason="Contract ended"
    ),
    "engagement.reopen": lambda e, u: engagements.move_engagement(
        e, to=EngagementState.LIVE, actor=u, reason="Renewed"
    ),
    "engagement.administer": lambda e, u: templates.apply_template_version(
        e, e.template_version, actor=u
    ),
    "cycle.propose": lambda e, u: cycles.propose_cycle(
        e, actor=u, release="2027.2", windows=update_windows()
    ),
}


def test_engagement_rules(engagement_a, personas):
    for state in EngagementState.values:
        make = in_state(engagement_a, "state", state)
        for name in (
            "engagement.go_live",
            "engagement.close",
            "engagement.reopen",
            "cycle.propose",
        ):
            call = ENGAGEMENT_SERVICES[name]
            if name == "engagement.reopen" and state != EngagementState.CLOSED:
                continue  # reopening and going live share the target state: one move per state
            if name == "engagement.go_live" and state == EngagementState.CLOSED:
                continue
            check_rule(name, make, call, personas)
    # engagement.administer: applying a version is refused for non-managers before anything
    # else; for a manager it is refused by the version (already followed), so only the rule's
    # refusal is compared here.
    for person in personas:
        allowed = "engagement.administer" in policy.offered(person, fresh(engagement_a))
        with pytest.raises(DomainError) as refusal:
            ENGAGEMENT_SERVICES["engagement.administer"](fresh(engagement_a), person)
        assert ("already follows" in str(refusal.value)) == allowed, person.username
    assert ENGAGEMENT.can(EngagementState.ONBOARDING, EngagementState.LIVE)
    assert CYCLE.can(CycleState.PROPOSED, CycleState.AGREED)
    assert HANDOVER.can(HandoverState.SCHEDULED, HandoverState.HELD)
    assert SeedTask.UPDATES == "updates"


# --- Members ------------------------------------------------------------------------------
def _engineer_membership(e: Any) -> Any:
    return Membership.objects.get(engagement=e, party__is_vendor=False)


MEMBER_SERVICES: dict[str, Callable[[Any, Any], Any]] = {
    "member.invite": lambda e, u: invitations.invite_member(
        e,
        email="newcomer@subscriber-a.example",
        party=_engineer_membership(e).party,
        actor=u,
    ),
    "member.change": lambda e, u: membership.change_member(
        _engineer_membership(e), actor=u, roles=[], is_manager=True
    ),
    "member.remove": lambda e, u: membership.remove_member(
        e, _engineer_membership(e).user, actor=u
    ),
}


def test_member_rules(engagement_a, personas):
    for name, call in MEMBER_SERVICES.items():
        check_rule(name, in_state(engagement_a, "state", None), call, personas)


# --- Attachments (the attachments app) ---------------------------------------------------------
def _attach(owner, user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.actions import add_attachment

    return add_attachment(
        owner,
        actor=user,
        upload=SimpleUploadedFile("note.txt", b"a note", content_type="text/plain"),
    )


def _remove(engagement, user):
    """Removes a file the CSE attached: the manager rule, unless the person is the CSE."""
    from attachments.actions import remove_attachment
    from attachments.models import Attachment

    remove_attachment(Attachment.objects.get(engagement=engagement, name="by-cse.txt"), actor=user)


ATTACHMENT_SERVICES: dict[str, Callable[[Any, Any], Any]] = {
    "task.attach": _attach,
    "checklist.attach": lambda c, u: _attach(c.items.first(), u),
    "issue.attach": _attach,
    "handover.attach": _attach,
    "attachment.remove_any": _remove,
}


def test_attachment_rules(engagement_a, personas, cse, engineer_a, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.actions import add_attachment

    store_attachments_in(settings, tmp_path)
    task = EngagementTask.objects.get(engagement=engagement_a, key=SeedTask.MONITORING)
    checklist = InfrastructureChecklist.objects.filter(engagement=engagement_a).first()
    issue = ISSUE_SERVICES["issue.raise"](engagement_a, engineer_a)
    meeting = handover.schedule_handover(
        engagement_a, actor=cse, starts_at=_start(), attendee_ids=[cse.pk, engineer_a.pk]
    )
    for name, obj in (
        ("task.attach", task),
        ("checklist.attach", checklist),
        ("issue.attach", issue),
        ("handover.attach", meeting),
    ):
        check_rule(name, lambda obj=obj: fresh(obj), ATTACHMENT_SERVICES[name], personas)
    add_attachment(
        task, actor=cse, upload=SimpleUploadedFile("by-cse.txt", b"x", content_type="text/plain")
    )
    check_rule(
        "attachment.remove_any",
        lambda: fresh(engagement_a),
        ATTACHMENT_SERVICES["attachment.remove_any"],
        personas,
    )


# --- Webhooks and chat channels (the engagement's managers) ------------------------------------
def _set_chat(e: Any, u: Any) -> Any:
    with override_settings(WEBHOOKS_ALLOW_PRIVATE=True):  # any host: no DNS in tests
        return set_engagement_chat(
            e,
            actor=u,
            party_id=_engineer_membership(e).party_id,
            kind="slack",
            url="https://93.184.216.34/services/x",
            delivery="off",
        )


def _register_webhook(e: Any, u: Any) -> Any:
    return create_endpoint(e, actor=u, url="https://93.184.216.34/h", kinds=["task.commented"])


OUTBOUND_SERVICES: dict[str, Callable[[Any, Any], Any]] = {
    "engagement.manage_webhooks": _register_webhook,
    "engagement.manage_chat": _set_chat,
}


def test_webhook_and_chat_rules(engagement_a, personas):
    for name, call in OUTBOUND_SERVICES.items():
        check_rule(name, in_state(engagement_a, "state", None), call, personas)
