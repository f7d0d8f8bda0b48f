"""Every URL pattern of the portal, resolved with subscriber B's real ids, requested (GET and
POST) as anonymous, as subscriber A's engineer and as a vendor user on no engagement: none
returns B's data or changes it. A new URL pattern fails this test until it is covered here."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from api.models import ApiToken, Scope
from api.tokens import create_api_token
from attachments.actions import add_attachment
from attachments.models import Attachment
from engagements.actions.cycles import propose_cycle
from engagements.actions.handover import schedule_handover
from engagements.actions.invitations import invite_member
from engagements.actions.issues import raise_issue
from engagements.actions.tasks import add_comment, transition_task
from engagements.actions.tokens import create_attestation_token
from engagements.choices import Environment
from engagements.models import (
    Attestation,
    AttestationToken,
    ChatChannel,
    ChecklistItem,
    ChecklistVM,
    Comment,
    EngagementTask,
    Event,
    Handover,
    InfrastructureChecklist,
    Invitation,
    Issue,
    Membership,
    Notification,
    Organization,
    Profile,
    SignOff,
    StandingDuty,
    UpdateCycle,
    VirtualMachine,
)
from raci.models import ChecklistRequirement, TemplateCell, TemplateTask, TemplateVersion
from tests.conftest import task_of
from tests.factories import store_attachments_in, subscriber_party
from webhooks.actions import create_endpoint
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

# Patterns outside the walk, with the reason.
NOT_WALKED = {
    "login",
    "logout",
    "password_change",
    "password_change_done",  # Django's auth views, no object ids
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",  # reset by email: no object ids; tests/test_password_reset.py
    "healthz",
    "readyz",  # probes: no data, tested in tests/test_health.py
    # The signed link is the credential (the invited person has no account yet): its holder
    # sees what they are invited to; tests/engagements/test_invitations.py covers it.
    "accounts:invitation",
}
COVERED = {
    "engagements:my-work",
    "engagements:admin-home",
    "engagements:engagement-list",
    "engagements:portfolio",
    "engagements:engagement-detail",
    "engagements:engagement-timeline",
    "engagements:engagement-template",
    "engagements:engagement-template-apply",
    "engagements:export-matrix",
    "engagements:export-events",
    "engagements:task-detail",
    "engagements:task-transition",
    "engagements:task-sign-off",
    "engagements:task-reopen",
    "engagements:task-override-order",
    "engagements:task-comment",
    "engagements:checklist-detail",
    "engagements:checklist-save",
    "engagements:checklist-review",
    "raci:template-list",
    "raci:compare",
    "raci:version-detail",
    "raci:add-prerequisite",
    "raci:remove-prerequisite",
    "raci:start-draft",
    "raci:publish",
    "raci:toggle-letter",
    "raci:set-cell",
    "raci:add-task",
    "raci:update-task",
    "raci:remove-task",
    "raci:move-task",
    "raci:add-party",
    "raci:remove-party",
    "raci:add-requirement",
    "raci:update-requirement",
    "raci:remove-requirement",
    "raci:move-requirement",
    "engagements:notifications",
    "engagements:notifications-read-all",
    "engagements:notification-preferences",
    "engagements:notification-read",
    "engagements:cycles",
    "engagements:cycle-detail",
    "engagements:cycle-action",
    "engagements:handover",
    "engagements:handover-ics",
    "engagements:handover-action",
    "engagements:duties",
    "engagements:duty-action",
    "engagements:token-create",
    "engagements:token-revoke",
    "engagements:api-attestations",
    "engagements:issues",
    "engagements:issue-detail",
    "engagements:issue-action",
    "engagements:calendar",
    "engagements:calendar-feed",
    "engagements:engagement-new",
    "engagements:members",
    "engagements:member-invite",
    "engagements:member-change",
    "engagements:member-remove",
    "engagements:invitation-action",
    "accounts:account",
    "search:results",
    "accounts:end-other-sessions",
    "accounts:two-factor-verify",
    "accounts:two-factor-enrol",
    "accounts:two-factor-codes",
    "accounts:two-factor-off",
    # Single sign-on (sso/): the ways in, no object ids and nobody's data
    "sso:email-first",
    "sso:start",
    "sso:callback",
    # The REST API (api/): programs, by token or session
    "api:engagement-list",
    "api:engagement-detail",
    "api:task-list",
    "api:task-detail",
    "api:task-comment",
    "api:task-reopen",
    "api:task-sign-off",
    "api:task-transition",
    "api:checklist-list",
    "api:checklist-detail",
    "api:checklist-review",
    "api:checklist-save",
    "api:checklist-submit",
    "api:cycle-list",
    "api:cycle-detail",
    "api:issue-list",
    "api:issue-detail",
    "api:issue-move",
    "api:event-list",
    "api:event-detail",
    "api:notification-list",
    "api:notification-read-all",
    "api:notification-detail",
    "api:notification-read",
    "api:attestations",
    "api:schema",
    "api:docs",
    "api:tokens",
    "api:token-revoke",
    # Attachments (attachments/): uploads to each owner, the download, the removal
    "attachments:task-upload",
    "attachments:checklist-upload",
    "attachments:issue-upload",
    "attachments:handover-upload",
    "attachments:download",
    "attachments:remove",
    # Webhooks (webhooks/): the engagement's managers
    "webhooks:endpoints",
    "webhooks:endpoint",
    "webhooks:endpoint-enable",
    "webhooks:endpoint-delete",
    "webhooks:delivery-replay",
    # Chat channels: a person's own, an engagement's (its managers)
    "engagements:chat-personal",
    "engagements:chat-channels",
    "engagements:chat-remove",
}
# Patterns with an action in the URL: every action is walked.
ACTIONS = {
    "engagements:cycle-action": [
        "windows",
        "accept",
        "prepare",
        "start",
        "status",
        "finish",
        "test",
        "override",
        "cancel",
    ],
    "engagements:handover-action": ["reschedule", "cancel", "held"],
    "engagements:duty-action": ["attest", "cadence"],
    "engagements:issue-action": ["move", "ticket"],
    "engagements:invitation-action": ["resend", "revoke"],
}
# Machine endpoints that authenticate by token, not by session: anonymous gets 401/404/405.
TOKEN_AUTH = {"engagements:api-attestations", "engagements:calendar-feed", "api:attestations"}
# The schema and its reference page describe the API to anyone; they hold no data.
PUBLIC = {"api:schema", "api:docs"}
# Signing in through an identity provider: open to anyone; without a sign-in this browser
# started they refuse (400/403), send to sign in (302) or know no such provider (404).
SIGN_IN = {"sso:email-first", "sso:start", "sso:callback"}
# The REST API's resources: anonymous gets a JSON 401 (no redirect to the sign-in page).
# Their `pk` is the id of B's object of the resource the name starts with.
API_PK = {
    "api:engagement": "engagement_id",
    "api:task": "task_id",
    "api:checklist": "checklist_id",
    "api:cycle": "cycle_id",
    "api:issue": "issue_id",
    "api:event": "event_id",
    "api:notification": "notification_id",
}
# Where a URL's parameter name means another object than elsewhere in the walk.
RENAMED = {"api:token-revoke": {"token_id": "api_token_id"}}


def is_api_resource(name: str) -> bool:
    return name.startswith(tuple(f"{prefix}-" for prefix in API_PK))


def url_kwargs(name: str, pattern: URLPattern, ids: dict) -> dict:
    params = set(pattern.pattern.regex.groupindex) - {"action"}
    kwargs = {}
    for param in params:
        if param == "pk":
            kwargs["pk"] = ids[next(v for k, v in API_PK.items() if name.startswith(k + "-"))]
        else:
            kwargs[param] = ids[RENAMED.get(name, {}).get(param, param)]
    return kwargs


def portal_patterns(resolver=None, namespace: str = "") -> list[tuple[str, URLPattern]]:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # the Django admin: staff only, its own permission checks
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += portal_patterns(entry, ns)
        elif entry.name:
            found.append((f"{namespace}{entry.name}", entry))
    return found


def test_every_pattern_is_covered():
    names = {name for name, _ in portal_patterns()} - NOT_WALKED
    assert names == COVERED, f"cover these in the isolation walk: {sorted(names ^ COVERED)}"


def snapshot(engagement_b, version):
    return (
        list(
            EngagementTask.objects.filter(engagement=engagement_b)
            .order_by("pk")
            .values_list("status", "revision")
        ),
        Event.objects.filter(engagement=engagement_b).count(),
        Comment.objects.filter(task__engagement=engagement_b).count(),
        SignOff.objects.filter(task__engagement=engagement_b).count(),
        list(
            InfrastructureChecklist.objects.filter(engagement=engagement_b).values_list(
                "status", "revision"
            )
        ),
        list(
            ChecklistItem.objects.filter(checklist__engagement=engagement_b)
            .order_by("pk")
            .values_list("value", "confirmed")
        ),
        ChecklistVM.objects.filter(checklist__engagement=engagement_b).count(),
        VirtualMachine.objects.filter(engagement=engagement_b).count(),
        TemplateVersion.objects.count(),
        list(TemplateTask.objects.order_by("pk").values_list("name", "position")),
        list(
            TemplateCell.objects.order_by("pk").values_list(
                "responsible", "accountable", "consulted", "informed"
            )
        ),
        version.status,
        list(ChecklistRequirement.objects.order_by("pk").values_list("key", "label", "position")),
        list(
            Notification.objects.filter(engagement=engagement_b)
            .order_by("pk")
            .values_list("read_at", "sent_at")
        ),
        list(
            Profile.objects.filter(organization=engagement_b.organization).values_list(
                "email_delivery", "portal_delivery"
            )
        ),
        list(UpdateCycle.objects.filter(engagement=engagement_b).values_list("state", "revision")),
        list(Handover.objects.filter(engagement=engagement_b).values_list("state", "sequence")),
        list(
            StandingDuty.objects.filter(engagement=engagement_b).values_list(
                "cadence_days", "grace_days", "due_at"
            )
        ),
        Attestation.objects.filter(duty__engagement=engagement_b).count(),
        list(AttestationToken.objects.filter(engagement=engagement_b).values_list("revoked_at")),
        list(
            Membership.objects.filter(engagement=engagement_b)
            .order_by("pk")
            .values_list("user_id", "party_id", "is_manager")
        ),
        list(
            Invitation.objects.filter(engagement=engagement_b).values_list(
                "state", "nonce", "sent_count"
            )
        ),
        Organization.objects.count(),
        list(
            Issue.objects.filter(engagement=engagement_b).values_list(
                "state", "ticket_reference", "revision"
            )
        ),
        list(ApiToken.objects.filter(user__username="engineer-b").values_list("revoked_at")),
        list(Attachment.objects.order_by("pk").values_list("pk", "name", "key", "size")),
        list(
            ChatChannel.objects.filter(engagement=engagement_b).values_list(
                "url", "kind", "delivery"
            )
        ),
        list(ChatChannel.objects.filter(user__username="engineer-b").values_list("url")),
        list(
            WebhookEndpoint.objects.filter(engagement=engagement_b).values_list(
                "url", "enabled", "kinds"
            )
        ),
        list(
            WebhookDelivery.objects.filter(endpoint__engagement=engagement_b).values_list(
                "delivered_at", "given_up_at", "window_start"
            )
        ),
    )


@pytest.mark.parametrize("persona", ["anonymous", "engineer_a", "vendor_outsider"])
def test_no_one_outside_b_sees_or_changes_bs_data(
    persona, request, client, engagement_a, engagement_b, template_version, cse, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from engagements.choices import TaskStatus

    overrides = request.getfixturevalue("settings")  # B's files in a folder of the test's own
    store_attachments_in(overrides, tmp_path / "attachments")

    # Give B a little history, so there is something to leak.
    endpoint, _ = create_endpoint(
        engagement_b,
        actor=cse,
        url="https://93.184.216.34/appliance-b-hook",
        kinds=["task.status_changed"],
        description="Appliance B hook",
    )
    chat = ChatChannel.objects.create(  # hooks.slack.com is not resolvable here: no service call
        engagement=engagement_b,
        party=subscriber_party(),
        kind="slack",
        url="https://hooks.slack.com/services/appliance-b",
    )
    ChatChannel.objects.create(
        user=engagement_b.memberships.get(party__is_vendor=False).user,
        kind="slack",
        url="https://hooks.slack.com/services/engineer-b",
    )
    deploy = task_of(engagement_b, "deployment", Environment.DEVELOPMENT)
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)
    add_comment(deploy, actor=cse, body="Secret of subscriber B")
    draft = __import__("raci.services", fromlist=["start_draft"]).start_draft(
        template_version, actor=None
    )
    engineer_b = engagement_b.memberships.get(party__is_vendor=False).user
    soon = timezone.now() + dt.timedelta(days=3)
    cycle = propose_cycle(
        engagement_b,
        actor=cse,
        release="B-release",
        windows={
            Environment.DEVELOPMENT: (soon, soon + dt.timedelta(hours=2)),
            Environment.PRODUCTION: (
                soon + dt.timedelta(days=1),
                soon + dt.timedelta(days=1, hours=2),
            ),
        },
    )
    handover = schedule_handover(
        engagement_b, actor=cse, starts_at=soon, attendee_ids=[cse.pk, engineer_b.pk]
    )
    issue = raise_issue(
        engagement_b,
        actor=engineer_b,
        title="Appliance B issue",
        environment=Environment.PRODUCTION,
        severity="high",
        description="Secret of subscriber B",
    )
    token, _ = create_attestation_token(engagement_b, actor=engineer_b, name="B job")
    invitation = invite_member(
        engagement_b, email="new@subscriber-b.example", party=subscriber_party(), actor=cse
    )
    api_token, _ = create_api_token(engineer_b, name="B sync", scope=Scope.READ_WRITE)
    attachment = add_attachment(
        deploy,
        actor=engineer_b,
        upload=SimpleUploadedFile("b.txt", b"Secret of subscriber B", content_type="text/plain"),
    )
    stored = sorted(p.name for p in (tmp_path / "attachments").rglob("*") if p.is_file())

    ids = {
        "slug": "customer",  # a provider's short name (sso:start)
        "engagement_id": engagement_b.pk,
        "task_id": deploy.pk,
        "checklist_id": InfrastructureChecklist.objects.get(
            engagement=engagement_b, environment=Environment.DEVELOPMENT
        ).pk,
        "version_id": draft.pk,
        "notification_id": Notification.objects.filter(engagement=engagement_b, channel="portal")
        .first()
        .pk,
        "cycle_id": cycle.pk,
        "handover_id": handover.pk,
        "duty_id": StandingDuty.objects.filter(engagement=engagement_b).first().pk,
        "token_id": token.pk,
        "issue_id": issue.pk,
        "membership_id": engagement_b.memberships.get(user=engineer_b).pk,
        "invitation_id": invitation.pk,
        "event_id": Event.objects.filter(engagement=engagement_b).first().pk,
        "api_token_id": api_token.pk,
        "attachment_id": attachment.pk,
        "endpoint_id": endpoint.pk,
        "channel_id": chat.pk,
        "delivery_id": WebhookDelivery.objects.filter(endpoint=endpoint).first().pk,
    }
    post_data = {
        "to": "done",
        "revision": "1",
        "reason": "x",
        "comment": "x",
        "body": "x",
        "decision": "accept",
        "version": str(draft.pk),
        "task": str(TemplateTask.objects.filter(version=draft).first().pk),
        "party": str(TemplateCell.objects.filter(task__version=draft).first().party_id),
        "letter": "R",
        "letters": "R",
        "name": "Injected",
        "direction": "up",
        "email_delivery": "off",
        "portal_delivery": "off",
        "environment": "development",
        "message": "x",
        "scripts": "x",
        "result": "passed",
        "notes": "x",
        "note": "x",
        "severity": "high",
        "title": "Injected",
        "description": "x",
        "reference": "SC-1",
        "snapshots": "vm, s1, 2026-01-01 10:00",
        "access_provided": "on",
        "present": "x",
        "dev_start": "2030-01-01T10:00",
        "dev_end": "2030-01-01T12:00",
        "prod_start": "2030-01-02T10:00",
        "prod_end": "2030-01-02T12:00",
        "starts_at": "2030-01-01T10:00",
        "duration_minutes": "90",
        "attendees": [str(cse.pk)],
        "performed_at": "2026-01-01T10:00",
        "tool": "x",
        "cadence_days": "2",
        "grace_days": "1",
        "release": "Injected",
        "action": "rotate",
        "email": "injected@example.com",
        "roles": ["subscriber's infrastructure engineer"],
        "is_manager": "on",
        "organization": str(engagement_b.organization_id),
        "kickoff_date": "2030-01-01",
        "cse": str(cse.pk),
        "item": str(
            InfrastructureChecklist.objects.get(
                engagement=engagement_b, environment=Environment.DEVELOPMENT
            )
            .items.first()
            .pk
        ),
        "file": SimpleUploadedFile("injected.txt", b"injected", content_type="text/plain"),
        "url": "https://93.184.216.34/injected",
        "kinds": ["task.commented"],
        "kind": "slack",
        "delivery": "immediate",
        "remove": "1",
    }
    # What a program might send to each API route: B's ids wherever an id is taken.
    api_post_data = {
        "to": "done",
        "revision": 1,
        "reason": "x",
        "comment": "x",
        "body": "x",
        "decision": "accept",
        "note": "x",
        "items": {"memory": {"value": "Injected", "confirmed": True}},
        "engagement": engagement_b.pk,
        "title": "Injected",
        "environment": "production",
        "severity": "high",
        "description": "x",
        "performed_at": "2026-01-01T10:00:00Z",
        "result": "succeeded",
    }
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    before = snapshot(engagement_b, draft)
    for name, pattern in portal_patterns():
        if name in NOT_WALKED:
            continue
        try:
            kwargs = url_kwargs(name, pattern, ids)
        except (KeyError, StopIteration):
            raise AssertionError(f"{name}: no id of B for it; add one to the walk") from None
        for url, method in [
            (reverse(name, kwargs=kwargs | extra), method)
            for extra in ([{"action": a} for a in ACTIONS[name]] if name in ACTIONS else [{}])
            for method in ("get", "post")
        ]:
            if name.startswith("api:") and method == "post":  # programs send JSON
                response = client.post(
                    url, json.dumps(api_post_data), content_type="application/json"
                )
            else:
                response = getattr(client, method)(
                    url,
                    post_data
                    if method == "post"
                    else {"a": draft.pk, "b": draft.pk, "q": "secret"},
                )
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if persona == "anonymous" and name in TOKEN_AUTH:
                assert response.status_code in (401, 404, 405), (name, method)
            elif name in PUBLIC:
                assert response.status_code in (200, 405), (name, method, response.status_code)
            elif name in SIGN_IN:
                assert response.status_code in (302, 400, 403, 404, 405), (
                    name,
                    method,
                    response.status_code,
                )
            elif persona == "anonymous" and is_api_resource(name):
                assert response.status_code == 401, (name, method, response.status_code)
                assert response.json()["error"], (name, method)
            elif persona == "anonymous":
                assert response.status_code in (302, 405), (name, method, response.status_code)
                if response.status_code == 302:
                    assert response["Location"].startswith(reverse(settings.LOGIN_URL)), (
                        name,
                        method,
                    )
            else:
                assert response.status_code in (200, 302, 400, 401, 403, 404, 405), (
                    name,
                    method,
                    response.status_code,
                )
                if name.startswith("raci:"):
                    assert response.status_code in (403, 405), (name, method, response.status_code)
            assert b"Appliance B" not in body, (name, method)
            assert b"Secret of subscriber B" not in body, (name, method)
    assert snapshot(engagement_b, draft) == before
    assert sorted(p.name for p in (tmp_path / "attachments").rglob("*") if p.is_file()) == stored


def test_search_finds_a_task_of_the_users_engagement_and_not_another_tenants(
    client, engagement_a, engagement_b, engineer_a, engineer_b, cse
):
    """The walk above searches for B's secret as each outsider; here the same words find it
    for B (so the walk's search would have found it) and A's own task for A."""
    add_comment(
        task_of(engagement_b, "deployment", Environment.DEVELOPMENT),
        actor=cse,
        body="Secret of subscriber B",
    )
    url = reverse("search:results")
    client.force_login(engineer_b)
    page = client.get(url, {"q": "secret"}).content.decode()
    assert "<mark>Secret</mark> of subscriber" in page and "Subscriber B: Appliance B" in page
    client.force_login(engineer_a)
    page = client.get(url, {"q": "secret"}).content.decode()
    assert "subscriber B" not in page and 'data-testid="search-empty"' in page
    page = client.get(url, {"q": "deployment"}).content.decode()
    mine = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    theirs = task_of(engagement_b, "deployment", Environment.DEVELOPMENT)
    assert reverse("engagements:task-detail", args=[mine.pk]) in page
    assert reverse("engagements:task-detail", args=[theirs.pk]) not in page
    assert "Appliance B" not in page


# --- Visible but not allowed: the member pages are the managers' ------------------------------
MANAGERS_ONLY = [
    ("engagements:members", "get"),
    ("engagements:member-invite", "post"),
    ("engagements:member-change", "post"),
    ("engagements:member-remove", "post"),
    ("engagements:invitation-action", "post"),
]


def test_members_pages_refuse_a_member_who_is_not_a_manager(client, engagement_a, engineer_a, cse):
    invitation = invite_member(
        engagement_a, email="new@subscriber-a.example", party=subscriber_party(), actor=cse
    )
    ids = {
        "engagements:members": {"engagement_id": engagement_a.pk},
        "engagements:member-invite": {"engagement_id": engagement_a.pk},
        "engagements:member-change": {"membership_id": engagement_a.memberships.get(user=cse).pk},
        "engagements:member-remove": {"membership_id": engagement_a.memberships.get(user=cse).pk},
        "engagements:invitation-action": {"invitation_id": invitation.pk, "action": "revoke"},
    }
    client.force_login(engineer_a)
    for name, method in MANAGERS_ONLY:
        response = getattr(client, method)(
            reverse(name, kwargs=ids[name]), {"email": "x@example.com", "party": "1"}
        )
        assert response.status_code == 403, name
    assert engagement_a.memberships.filter(user=cse).exists()
    invitation.refresh_from_db()
    assert invitation.state == "pending"
    # Starting an engagement: portal admins and the vendor's managers only.
    assert client.get(reverse("engagements:engagement-new")).status_code == 403
