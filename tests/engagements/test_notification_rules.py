"""Who is told: a table over every task of the seed template and every event type.

V = the vendor party (Auth0), S = the subscriber party. Each party has two members; the
actor is one of them and is never told; the other members of the parties reached are.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from engagements import notifications
from engagements.actions.membership import add_member
from engagements.actions.tasks import transition_task
from engagements.choices import Channel, Delivery, Environment, TaskStatus
from engagements.models import Event, Notification, Profile
from tests.conftest import task_of
from tests.factories import UserFactory, subscriber_party, vendor_party

pytestmark = pytest.mark.django_db

# event -> task key -> parties reached. Derived by hand from the seed's letters:
#   infrastructure V=C S=RA · deployment V=RA S=I · configuration V=C S=R · handover V=R S=C
#   monitoring V=I S=RA · backup V=I* S=RA · code_integration, user_migration V=CI* S=RA
#   updates V=R S=RA · update_testing V=CI* S=RA · issue_identification V=C S=RA
#   issue_resolution V=R S=C            (* = only "in the event that there are issues")
EXPECTED = {
    "started": {  # an ordinary status move tells the (unconditional) Informed parties
        "infrastructure": "",
        "deployment": "S",
        "configuration": "",
        "handover": "",
        "monitoring": "V",
        "backup": "",
        "code_integration": "",
        "user_migration": "",
        "updates": "",
        "update_testing": "",
        "issue_identification": "",
        "issue_resolution": "",
    },
    "blocked": {  # an issue: Informed and Consulted, conditional letters included
        "infrastructure": "V",
        "deployment": "S",
        "configuration": "V",
        "handover": "S",
        "monitoring": "V",
        "backup": "V",
        "code_integration": "V",
        "user_migration": "V",
        "updates": "",
        "update_testing": "V",
        "issue_identification": "V",
        "issue_resolution": "S",
    },
    "done": {  # Informed, and the signing party (Accountable, else Responsible)
        "infrastructure": "S",
        "deployment": "VS",
        "configuration": "S",
        "handover": "V",
        "monitoring": "VS",
        "backup": "S",
        "code_integration": "S",
        "user_migration": "S",
        "updates": "S",
        "update_testing": "S",
        "issue_identification": "S",
        "issue_resolution": "V",
    },
    "signed_off": {
        "infrastructure": "",
        "deployment": "S",
        "configuration": "",
        "handover": "",
        "monitoring": "V",
        "backup": "",
        "code_integration": "",
        "user_migration": "",
        "updates": "",
        "update_testing": "",
        "issue_identification": "",
        "issue_resolution": "",
    },
    "reopened": {  # Informed, and the Responsible parties
        "infrastructure": "S",
        "deployment": "VS",
        "configuration": "S",
        "handover": "V",
        "monitoring": "VS",
        "backup": "S",
        "code_integration": "S",
        "user_migration": "S",
        "updates": "VS",
        "update_testing": "S",
        "issue_identification": "S",
        "issue_resolution": "V",
    },
    "question": {  # the party addressed (the service addresses only its C or R parties)
        "infrastructure": "V",
        "deployment": "S",
        "configuration": "V",
        "handover": "S",
        "monitoring": "V",
        "backup": "V",
        "code_integration": "V",
        "user_migration": "V",
        "updates": "V",
        "update_testing": "V",
        "issue_identification": "V",
        "issue_resolution": "S",
    },
    "commented": {  # the parties that work it: R and A
        "infrastructure": "S",
        "deployment": "V",
        "configuration": "S",
        "handover": "V",
        "monitoring": "S",
        "backup": "S",
        "code_integration": "S",
        "user_migration": "S",
        "updates": "VS",
        "update_testing": "S",
        "issue_identification": "S",
        "issue_resolution": "V",
    },
}
EVENTS = {
    "started": ("task.status_changed", TaskStatus.IN_PROGRESS),
    "blocked": ("task.status_changed", TaskStatus.BLOCKED),
    "done": ("task.status_changed", TaskStatus.DONE),
    "signed_off": ("task.signed_off", TaskStatus.SIGNED_OFF),
    "reopened": ("task.reopened", TaskStatus.REOPENED),
    "question": ("task.question_asked", ""),
    "commented": ("task.commented", ""),
}


@pytest.fixture
def team(engagement_a, cse, engineer_a, vendor_org, org_a):
    cse2 = UserFactory(username="cse-2", organization=vendor_org)
    eng2 = UserFactory(username="engineer-a2", organization=org_a)
    add_member(engagement_a, cse2, party=vendor_party(), roles=[CSE])
    add_member(engagement_a, eng2, party=subscriber_party(), roles=[ENGINEER])
    return {"V": [cse, cse2], "S": [engineer_a, eng2]}


CSE, ENGINEER = "Auth0 Customer Success Engineer", "subscriber's infrastructure engineer"


def test_a_letter_with_a_role_tells_only_its_holders(engagement_a, team, vendor_org):
    """Deployment's R, A name the CSE role: a vendor member without it is not told the work
    is done (the signers are); Informed letters without a role still reach everyone."""
    colleague = UserFactory(username="vendor-sales", organization=vendor_org)
    add_member(engagement_a, colleague, party=vendor_party())
    deploy = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    done = Event(
        engagement=engagement_a,
        task=deploy,
        actor=team["V"][0],
        verb="task.status_changed",
        from_state=TaskStatus.IN_PROGRESS,
        to_state=TaskStatus.DONE,
    )
    told = set(notifications.recipients(done, deploy))
    assert team["V"][1].pk in told and colleague.pk not in told
    monitoring = task_of(engagement_a, "monitoring")
    moved = Event(
        engagement=engagement_a,
        task=monitoring,
        actor=team["S"][0],
        verb="task.status_changed",
        from_state=TaskStatus.NOT_STARTED,
        to_state=TaskStatus.IN_PROGRESS,
    )
    assert colleague.pk in set(notifications.recipients(moved, monitoring))


def expected_people(team, parties: str, actor) -> set[int]:
    return {u.pk for side in parties for u in team[side] if u != actor}


@pytest.mark.parametrize("event_name", EXPECTED)
def test_who_is_told(engagement_a, team, event_name):
    verb, to_state = EVENTS[event_name]
    wrong = {}
    for key, parties in EXPECTED[event_name].items():
        environment = (
            Environment.DEVELOPMENT
            if key in ("infrastructure", "deployment", "configuration")
            else ""
        )
        task = task_of(engagement_a, key, environment)
        data = {}
        if event_name == "question":
            own = (
                "S"
                if any(tp.responsible and not tp.party.is_vendor for tp in task.parties.all())
                else "V"
            )
            other = vendor_party() if own == "S" else subscriber_party()
            data = {"to_party_id": other.pk, "to_party": other.name}
            actor = team[own][0]
        else:
            # The actor is a member of the first party reached, so exclusion is exercised.
            actor = team[(parties or "V")[0]][0]
        event = Event(
            engagement=engagement_a, task=task, actor=actor, verb=verb, to_state=to_state, data=data
        )
        got = set(notifications.recipients(event, task))
        if got != expected_people(team, parties, actor):
            wrong[key] = (sorted(got), sorted(expected_people(team, parties, actor)))
    assert not wrong, wrong


def test_checklist_events(engagement_a, team):
    task = task_of(engagement_a, "infrastructure", Environment.DEVELOPMENT)
    cse, engineer = team["V"][0], team["S"][0]
    for verb, actor, parties in [
        ("checklist.submitted", engineer, "V"),  # the vendor's reviewers: their turn
        ("checklist.accepted", cse, ""),
        ("checklist.returned", cse, "S"),  # the Responsible party's checklist came back
    ]:
        event = Event(engagement=engagement_a, task=task, actor=actor, verb=verb)
        assert set(notifications.recipients(event, task)) == expected_people(
            team, parties, actor
        ), verb


def test_a_person_in_two_roles_gets_one_notification(engagement_a, team):
    deploy = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    cse2 = team["V"][1]
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=team["V"][0])
    deploy.refresh_from_db()
    transition_task(deploy, to=TaskStatus.DONE, actor=team["V"][0])
    event = Event.objects.filter(task=deploy).latest("id")
    rows = Notification.objects.filter(event=event, recipient=cse2)
    assert sorted(rows.values_list("channel", flat=True)) == ["email", "portal"]


def test_events_write_rows_for_each_channel_and_never_for_the_actor(engagement_a, team):
    monitoring = task_of(engagement_a, "monitoring")
    transition_task(monitoring, to=TaskStatus.IN_PROGRESS, actor=team["S"][0])
    rows = Notification.objects.filter(task=monitoring)
    assert {(n.recipient_id, n.channel) for n in rows} == {
        (u.pk, c) for u in team["V"] for c in ("email", "portal")
    }
    assert not rows.filter(recipient=team["S"][0]).exists()


def test_preferences_off_and_digest(engagement_a, team):
    cse, cse2 = team["V"]
    Profile.objects.filter(user=cse).update(
        email_delivery=Delivery.OFF, portal_delivery=Delivery.OFF
    )
    Profile.objects.filter(user=cse2).update(email_delivery=Delivery.DIGEST)
    transition_task(
        task_of(engagement_a, "monitoring"), to=TaskStatus.IN_PROGRESS, actor=team["S"][0]
    )
    assert not Notification.objects.filter(recipient=cse).exists()
    email = Notification.objects.get(recipient=cse2, channel=Channel.EMAIL)
    assert email.digest


def test_a_rolled_back_change_writes_nothing(engagement_a, team):
    monitoring = task_of(engagement_a, "monitoring")
    with pytest.raises(RuntimeError), transaction.atomic():
        transition_task(monitoring, to=TaskStatus.IN_PROGRESS, actor=team["S"][0])
        raise RuntimeError("something later in the request failed")
    assert not Notification.objects.exists()
    monitoring.refresh_from_db()
    assert monitoring.status == TaskStatus.NOT_STARTED


def test_delivery_is_enqueued_only_after_commit(
    engagement_a, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        transition_task(
            task_of(engagement_a, "monitoring"), to=TaskStatus.IN_PROGRESS, actor=team["S"][0]
        )
    assert len(callbacks) == 1
