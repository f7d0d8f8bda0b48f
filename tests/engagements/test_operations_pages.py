"""The operations pages over HTTP: the attestation API, the calendar feed, the forms' refusals,
and each page's queries at two sizes."""

from __future__ import annotations

import datetime as dt
import json

import icalendar
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.actions.cycles import (
    SnapshotIn,
    accept_windows,
    cancel_cycle,
    finish_update,
    post_status,
    propose_cycle,
    record_preparation,
    record_test,
    start_update,
)
from engagements.actions.duties import AttestationIn, record_attestation
from engagements.actions.feeds import rotate_calendar_feed
from engagements.actions.handover import cancel_handover, schedule_handover
from engagements.actions.issues import move_issue, raise_issue
from engagements.actions.membership import add_member, remove_member
from engagements.actions.tokens import create_attestation_token, revoke_attestation_token
from engagements.choices import AttestationResult, DutyKind, Environment, Severity
from engagements.models import Attestation, Event, Snapshot, StandingDuty, UpdateCycle
from tests.factories import UserFactory, store_attachments_in, subscriber_party, vendor_party
from tests.factories import update_windows as windows

pytestmark = pytest.mark.django_db

DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION


# The endpoint's older address; tests/api/test_attestations_v1.py runs the same tests
# against /api/v1/ by setting this to "api:attestations".
ATTESTATIONS_URL = "engagements:api-attestations"


def api(client, engagement_id, body, token=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(
        reverse(ATTESTATIONS_URL, args=[engagement_id]),
        data=body if isinstance(body, (str, bytes)) else json.dumps(body),
        content_type="application/json",
        **headers,
        **extra,
    )


GOOD = {
    "duty": "backup",
    "performed_at": "2026-11-27T02:00:00Z",
    "result": "succeeded",
    "tool": "Command-Line Tools",
    "reference": "backup-20261127.tar.gz",
    "size_bytes": 1048576,
}


@pytest.fixture
def token(engagement_a, engineer_a):
    return create_attestation_token(engagement_a, actor=engineer_a, name="nightly")


def good_body():
    return {**GOOD, "performed_at": (timezone.now() - dt.timedelta(hours=1)).isoformat()}


# --- The attestation endpoint ------------------------------------------------------------


def test_a_valid_token_records_an_attestation(client, engagement_a, token, caplog):
    row, raw = token
    response = api(client, engagement_a.pk, good_body(), raw)
    assert response.status_code == 201, response.content
    data = response.json()
    attestation = Attestation.objects.get(pk=data["id"])
    assert attestation.via_token == row and attestation.size_bytes == 1048576
    assert attestation.duty.kind == DutyKind.BACKUP
    event = Event.objects.get(verb="duty.attested")
    assert event.data["via"] == "token" and raw not in json.dumps(event.data)
    assert raw not in caplog.text


@pytest.mark.parametrize(
    "header, status",
    [
        (None, 401),
        ("Bearer psat_wrong", 401),
        ("Basic dXNlcjpwYXNz", 401),
        ("Bearer ", 401),
    ],
)
def test_missing_or_wrong_tokens_are_refused(client, engagement_a, token, header, status):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = api(client, engagement_a.pk, good_body(), **extra)
    assert response.status_code == status
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "error" in response.json()
    assert not Attestation.objects.exists()


def test_a_revoked_token_is_refused(client, engagement_a, engineer_a, token):
    row, raw = token
    revoke_attestation_token(row, actor=engineer_a)
    assert api(client, engagement_a.pk, good_body(), raw).status_code == 401
    assert not Attestation.objects.exists()


def test_another_engagements_token_is_forbidden(client, engagement_a, engagement_b, token):
    _, raw = token
    response = api(client, engagement_b.pk, good_body(), raw)
    assert response.status_code == 403
    assert not Attestation.objects.exists()


@pytest.mark.parametrize(
    "body, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({**GOOD, "performed_at": "yesterday"}, "performed_at"),
        ({**GOOD, "duty": "coffee"}, "duty must be"),
        ({**GOOD, "size_bytes": "big"}, "size_bytes"),
        ({**GOOD, "result": "maybe"}, "succeeded or failed"),
        ({**GOOD, "tool": 7}, "tool must be a string"),
        ({**GOOD, "performed_at": "2099-01-01T00:00:00Z"}, "future"),
    ],
)
def test_malformed_bodies_get_a_400_with_a_message(client, engagement_a, token, body, message):
    _, raw = token
    response = api(client, engagement_a.pk, body, raw)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Attestation.objects.exists()


def test_the_api_only_takes_posts(client, engagement_a, token):
    _, raw = token
    response = client.get(
        reverse(ATTESTATIONS_URL, args=[engagement_a.pk]),
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 405


def test_the_token_is_shown_once_and_never_again(client_for, engagement_a, engineer_a):
    client = client_for(engineer_a)
    response = client.post(
        reverse("engagements:token-create", args=[engagement_a.pk]), {"name": "nightly"}
    )
    assert response.status_code == 200
    assert {"no-store", "private"} <= {p.strip() for p in response["Cache-Control"].split(",")}
    raw = response.context["new_token"]
    assert raw.encode() in response.content
    page = client.get(reverse("engagements:duties", args=[engagement_a.pk]))
    assert raw.encode() not in page.content
    assert raw[:12].encode() in page.content  # the prefix, to recognise it


# --- The calendar feed ------------------------------------------------------------------------


def test_the_calendar_feed(client_for, client, engagement_a, cse, engineer_a):
    propose_cycle(engagement_a, actor=cse, release="2026.12.1", windows=windows())
    start = timezone.now() + dt.timedelta(days=10)
    handover = schedule_handover(
        engagement_a, actor=cse, starts_at=start, attendee_ids=[cse.pk, engineer_a.pk]
    )
    page = client_for(engineer_a).post(reverse("engagements:calendar"), {"action": "rotate"})
    url = page.context["new_url"]
    assert "?token=" in url
    client.logout()
    response = client.get(url.split("testserver", 1)[1])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    feed_uid = f"handover-{handover.uid}-feed@psaas-portal"
    assert feed_uid in events and "METHOD" not in cal
    assert abs(events[feed_uid].decoded("dtstart") - start) < dt.timedelta(seconds=1)
    windows_ = [e for e in events.values() if "window" in str(e["summary"])]
    assert len(windows_) == 2
    due = [e for e in events.values() if str(e["summary"]).startswith("Due:")]
    assert due and all(isinstance(e.decoded("dtstart"), dt.date) for e in due)
    # Rotating makes the old address stop working; revoking too.
    client_for(engineer_a).post(reverse("engagements:calendar"), {"action": "rotate"})
    client.logout()
    assert client.get(url.split("testserver", 1)[1]).status_code == 404
    assert client.get(reverse("engagements:calendar-feed")).status_code == 404


# --- Forms: refusals change nothing ------------------------------------------------------------


def test_starting_the_development_update_without_evidence_is_refused_on_the_page(
    client_for, engagement_a, cse, engineer_a
):
    cycle = propose_cycle(engagement_a, actor=cse, release="r1", windows=windows())
    accept_windows(cycle, actor=engineer_a)
    cycle.refresh_from_db()
    client = client_for(cse)
    response = client.post(
        reverse("engagements:cycle-action", args=[cycle.pk, "start"]),
        {"revision": cycle.revision, "environment": "development"},
    )
    assert response.status_code == 400
    assert b"has not recorded its preparation" in response.content
    assert UpdateCycle.objects.get(pk=cycle.pk).state == "agreed"


def test_a_malformed_snapshot_line_is_a_clear_400(client_for, engagement_a, cse, engineer_a):
    cycle = propose_cycle(engagement_a, actor=cse, release="r1", windows=windows())
    response = client_for(engineer_a).post(
        reverse("engagements:cycle-action", args=[cycle.pk, "prepare"]),
        {
            "revision": cycle.revision,
            "environment": "development",
            "snapshots": "app-1 snap-1",
            "access_provided": "on",
            "present": "me",
        },
    )
    assert response.status_code == 400
    assert "Line 1" in response.content.decode()
    assert not Snapshot.objects.exists()


def test_the_subscriber_cannot_start_an_update(client_for, engagement_a, cse, engineer_a):
    cycle = propose_cycle(engagement_a, actor=cse, release="r1", windows=windows())
    response = client_for(engineer_a).post(
        reverse("engagements:cycle-action", args=[cycle.pk, "start"]),
        {"revision": cycle.revision, "environment": "development"},
    )
    assert response.status_code == 403
    assert UpdateCycle.objects.get(pk=cycle.pk).state == "proposed"


def test_an_unknown_action_is_a_404(client_for, engagement_a, cse):
    cycle = propose_cycle(engagement_a, actor=cse, release="r1", windows=windows())
    response = client_for(cse).post(reverse("engagements:cycle-action", args=[cycle.pk, "nuke"]))
    assert response.status_code == 404


def test_the_handover_invitation_download(client_for, engagement_a, cse, engineer_a):
    handover = schedule_handover(
        engagement_a,
        actor=cse,
        starts_at=timezone.now() + dt.timedelta(days=3),
        attendee_ids=[cse.pk, engineer_a.pk],
    )
    response = client_for(engineer_a).get(reverse("engagements:handover-ics", args=[handover.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["uid"]) == str(handover.uid)


def test_every_operations_page_renders(client_for, engagement_a, cse, engineer_a):
    cycle = propose_cycle(engagement_a, actor=cse, release="r1", windows=windows())
    issue = raise_issue(
        engagement_a,
        actor=engineer_a,
        title="Slow",
        environment=PROD,
        severity=Severity.LOW,
        description="d",
    )
    for user in (cse, engineer_a):
        client = client_for(user)
        for url in [
            reverse("engagements:engagement-detail", args=[engagement_a.pk]),
            reverse("engagements:cycles", args=[engagement_a.pk]),
            reverse("engagements:cycle-detail", args=[cycle.pk]),
            reverse("engagements:handover", args=[engagement_a.pk]),
            reverse("engagements:duties", args=[engagement_a.pk]),
            reverse("engagements:issues", args=[engagement_a.pk]),
            reverse("engagements:issues", args=[engagement_a.pk]) + "?state=all",
            reverse("engagements:issue-detail", args=[issue.pk]),
            reverse("engagements:calendar"),
        ]:
            assert client.get(url).status_code == 200, url


# --- Queries at two sizes ------------------------------------------------------------------------


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def grow(engagement, cse, engineer, n: int):
    """n of everything: cycles (with snapshots and status posts), handovers, attestations,
    issues."""
    now = timezone.now()
    for i in range(n):
        cycle = propose_cycle(
            engagement, actor=cse, release=f"r{i}-{engagement.pk}", windows=windows()
        )
        accept_windows(cycle, actor=engineer)
        record_preparation(
            cycle,
            actor=engineer,
            environment=DEV,
            snapshots=[
                SnapshotIn(f"vm{j}", f"s{j}", now - dt.timedelta(hours=1)) for j in range(3)
            ],
            access_provided=True,
            present="team",
        )
        start_update(cycle, actor=cse, environment=DEV)
        post_status(cycle, actor=cse, message=f"step {i}")
        finish_update(cycle, actor=cse, scripts="none")
        record_test(cycle, actor=engineer, result="failed", notes=f"broken {i}")
        if i < n - 1:
            cancel_cycle(cycle, actor=cse, reason="superseded")
        handover = schedule_handover(
            engagement,
            actor=cse,
            starts_at=now + dt.timedelta(days=1 + i),
            attendee_ids=[cse.pk, engineer.pk],
        )
        if i < n - 1:
            cancel_handover(handover, actor=cse, reason="moved")
        for duty in StandingDuty.objects.filter(engagement=engagement):
            record_attestation(
                duty,
                actor=engineer,
                attestation=AttestationIn(
                    now - dt.timedelta(hours=i),
                    AttestationResult.SUCCEEDED,
                    tool="CLI",
                    monitored="cpu",
                    alerts_to="ops@",
                ),
            )
        create_attestation_token(engagement, actor=engineer, name=f"t{i}")
        raise_issue(
            engagement,
            actor=engineer,
            title=f"Issue {i}",
            environment=PROD,
            severity=Severity.LOW,
            description="d",
        )
    return UpdateCycle.objects.filter(engagement=engagement).latest("id")


def test_operations_pages_at_two_sizes(
    client_for, template_version, org_a, cse, engineer_a, vendor_org, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.actions import add_attachment
    from engagements.models import Handover
    from tests.factories import make_engagement

    store_attachments_in(settings, tmp_path)

    def attach(owners, n):
        """n files on each owner, by both sides (the issue and handover pages list them)."""
        for owner in owners:
            for i in range(n):
                add_attachment(
                    owner,
                    actor=(engineer_a, cse)[i % 2],
                    upload=SimpleUploadedFile(f"f{i}.log", b"line\n", content_type="text/plain"),
                )

    def member(engagement):

        add_member(engagement, cse, party=vendor_party(), is_manager=True)
        add_member(engagement, engineer_a, party=subscriber_party())
        for _ in range(4):
            add_member(engagement, UserFactory(organization=org_a), party=subscriber_party())
        return engagement

    small = member(make_engagement(org_a, "Small", version=template_version))
    large = member(make_engagement(org_a, "Large", version=template_version))
    small_cycle = grow(small, cse, engineer_a, 1)
    large_cycle = grow(large, cse, engineer_a, 12)
    for engagement, n in ((small, 1), (large, 6)):
        attach([engagement.issues.first(), *Handover.objects.filter(engagement=engagement)], n)
    for user in (engineer_a, cse):
        client = client_for(user)
        for name, small_url, large_url, budget in [
            (
                "engagement",
                reverse("engagements:engagement-detail", args=[small.pk]),
                reverse("engagements:engagement-detail", args=[large.pk]),
                16,  # with a cycle's stages and the VM inventory
            ),
            (
                "cycles",
                reverse("engagements:cycles", args=[small.pk]),
                reverse("engagements:cycles", args=[large.pk]),
                10,
            ),
            (
                "cycle",
                reverse("engagements:cycle-detail", args=[small_cycle.pk]),
                reverse("engagements:cycle-detail", args=[large_cycle.pk]),
                13,
            ),
            (
                "handover",
                reverse("engagements:handover", args=[small.pk]),
                reverse("engagements:handover", args=[large.pk]),
                10,  # the person's seat (party and named roles) is one read
            ),
            (
                "duties",
                reverse("engagements:duties", args=[small.pk]),
                reverse("engagements:duties", args=[large.pk]),
                10,
            ),
            (
                "issues",
                reverse("engagements:issues", args=[small.pk]),
                reverse("engagements:issues", args=[large.pk]),
                9,
            ),
            (
                "issue",
                reverse("engagements:issue-detail", args=[small.issues.first().pk]),
                reverse("engagements:issue-detail", args=[large.issues.first().pk]),
                9,
            ),
        ]:
            n_small, n_large = count(client, small_url), count(client, large_url)
            assert n_small == n_large, (name, user.username, n_small, n_large)
            assert n_small <= budget, (name, user.username, n_small)


def test_the_calendar_feed_at_two_sizes(client, template_version, org_a, cse, engineer_a):
    from tests.factories import make_engagement

    def engagements(n: int):
        for i in range(n):
            engagement = make_engagement(org_a, f"Feed {n}-{i}", version=template_version)
            add_member(engagement, cse, party=vendor_party())
            add_member(engagement, engineer_a, party=subscriber_party())
            propose_cycle(engagement, actor=cse, release="r", windows=windows())
            schedule_handover(
                engagement,
                actor=cse,
                starts_at=timezone.now() + dt.timedelta(days=2),
                attendee_ids=[cse.pk, engineer_a.pk],
            )

    raw = rotate_calendar_feed(engineer_a)
    url = reverse("engagements:calendar-feed") + f"?token={raw}"
    engagements(1)
    n_small = count(client, url)
    engagements(10)
    n_large = count(client, url)
    assert n_small == n_large <= 5


def test_my_work_lists_the_operations_waiting_on_each_side(
    client_for, engagement_a, engagement_b, cse, engineer_a, engineer_b
):
    from engagements.models import StandingDuty

    cycle = propose_cycle(engagement_a, actor=cse, release="2026.12.1", windows=windows())
    issue = raise_issue(
        engagement_a,
        actor=engineer_a,
        title="Login loops",
        environment=PROD,
        severity=Severity.HIGH,
        description="d",
    )
    StandingDuty.objects.filter(engagement=engagement_a, kind=DutyKind.BACKUP).update(
        due_at=timezone.now() - dt.timedelta(hours=2)
    )
    StandingDuty.objects.filter(engagement=engagement_b, kind=DutyKind.BACKUP).update(
        due_at=timezone.now() - dt.timedelta(hours=2)
    )

    def items(user) -> list[str]:
        from engagements.selectors.mywork import waiting_on_me

        return sorted(i["what"] for i in waiting_on_me(user))

    assert items(engineer_a) == [
        "Agree the update windows: update to 2026.12.1",
        "Backing up is due: record an attestation",
    ]
    assert items(cse) == [f"Resolve issue #{issue.pk}: Login loops"]
    assert items(engineer_b) == ["Backing up is due: record an attestation"]
    accept_windows(cycle, actor=engineer_a)
    assert "Record the Development snapshots: update to 2026.12.1" in items(engineer_a)
    move_issue(issue, actor=cse, to="waiting", note="Logs please")
    assert f"Answer issue #{issue.pk}: Login loops" in items(engineer_a)
    page = client_for(engineer_a).get(reverse("engagements:my-work"))
    assert b"Waiting on you: operations, questions, escalations" in page.content
    assert b"Appliance B" not in page.content


def test_proposing_an_update_and_raising_an_issue_by_plain_post_redirect(
    client_for, engagement_a, cse, engineer_a
):
    w = windows()
    fmt = "%Y-%m-%dT%H:%M"
    response = client_for(cse).post(
        reverse("engagements:cycles", args=[engagement_a.pk]),
        {
            "release": "2026.12.1",
            "release_notes_url": "https://example.com/notes",
            "dev_start": w[DEV][0].strftime(fmt),
            "dev_end": w[DEV][1].strftime(fmt),
            "prod_start": w[PROD][0].strftime(fmt),
            "prod_end": w[PROD][1].strftime(fmt),
        },
    )
    cycle = UpdateCycle.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("engagements:cycle-detail", args=[cycle.pk])
    assert cycle.stages.get(environment=DEV).window_start == w[DEV][0].replace(second=0)
    response = client_for(engineer_a).post(
        reverse("engagements:issues", args=[engagement_a.pk]),
        {
            "title": "Login loops",
            "environment": "production",
            "severity": "high",
            "description": "After the update",
            "cycle": str(cycle.pk),
        },
    )
    from engagements.models import Issue

    issue = Issue.objects.get()
    assert response.status_code == 302 and issue.cycle == cycle
    assert response["Location"] == reverse("engagements:issue-detail", args=[issue.pk])


def test_an_oversized_size_is_a_400(client, engagement_a, token):
    _, raw = token
    response = api(client, engagement_a.pk, {**good_body(), "size_bytes": 2**70}, raw)
    assert response.status_code == 400 and "size_bytes" in response.json()["error"]
    assert not Attestation.objects.exists()


def test_a_token_stops_with_its_creators_role(client, engagement_a, engineer_a, token):

    _, raw = token
    remove_member(engagement_a, engineer_a)
    response = api(client, engagement_a.pk, good_body(), raw)
    assert response.status_code == 401  # revoked when its creator left the role (issue 17)
    engineer_a.is_active = False
    engineer_a.save(update_fields=["is_active"])
    assert api(client, engagement_a.pk, good_body(), raw).status_code == 401
    assert not Attestation.objects.exists()
