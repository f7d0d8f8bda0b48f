"""Each page renders in a constant number of SQL queries whatever its size: measured at two
sizes (12 and 200 tasks; 3 and 300 engagements) and compared, with a budget."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements.actions.membership import add_member
from engagements.actions.tasks import add_comment, transition_task
from engagements.choices import TaskStatus
from raci.matrix import Cell, Matrix, Row
from raci.services import create_version
from tests.factories import (
    OrganizationFactory,
    UserFactory,
    make_engagement,
    subscriber_party,
    vendor_party,
)

pytestmark = pytest.mark.django_db


def big_template(n_tasks: int):
    rows = [
        Row(
            name=f"Task {i}",
            key=f"t{i}",
            cells={
                "Auth0": Cell("RA" if i % 2 else "C"),
                "Subscriber": Cell("I" if i % 2 else "RA"),
            },
            tracking="per_environment" if i % 5 == 0 else "once",
            due_offset_days=i % 30,
        )
        for i in range(1, n_tasks + 1)
    ]
    matrix = Matrix(title="Big", parties=[("Auth0", True), ("Subscriber", False)], rows=rows)
    return create_version(matrix, template_name=f"Big {n_tasks}", publish=True)


def engagement_with(n_tasks: int, org, cse, engineer):
    version = big_template(n_tasks)
    engagement = make_engagement(
        org, f"E{n_tasks}", version=version, kickoff=dt.date.today() - dt.timedelta(days=10)
    )
    add_member(engagement, cse, party=vendor_party(), is_manager=True)
    add_member(engagement, engineer, party=subscriber_party())
    for task in engagement.tasks.all()[:5]:
        actor = engineer if task.parties.get(party__name="Subscriber").responsible else cse
        transition_task(task, to=TaskStatus.IN_PROGRESS, actor=actor)
    return engagement


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.fixture
def sized(template_version, org_a, cse, engineer_a, vendor_org):
    small = engagement_with(12, org_a, cse, engineer_a)
    large = engagement_with(200, org_a, cse, engineer_a)
    return small, large


def test_engagement_task_and_my_work_pages(client_for, sized, engineer_a):
    small, large = sized
    client = client_for(engineer_a)
    # Engagement page (8): the session with its user and who the viewer is (portal admin,
    # vendor staff, unread count: one query, psaas_portal.signed_in), the engagement
    # (visibility and whether the viewer administers it, one query), the page's fixed parts
    # (columns, the operations summary, the VM inventory: one query,
    # engagements.selectors.summary), tasks, letters, the version's prerequisites, members
    # with their roles, the events page (one more row, no COUNT). Task page (9: with the members its
    # "waiting on" names). Timeline (7): the session with its user and who the viewer is,
    # the engagement, the onboarding tasks with their first done time (one subquery), the
    # version's prerequisites, update windows, handovers.
    pages = {
        "timeline": [
            reverse("engagements:engagement-timeline", args=[e.pk]) for e in (small, large)
        ],
        "engagement": [
            reverse("engagements:engagement-detail", args=[e.pk]) for e in (small, large)
        ],
        "task": [
            reverse("engagements:task-detail", args=[e.tasks.order_by("pk").first().pk])
            for e in (small, large)
        ],
    }
    for name, (url_small, url_large) in pages.items():
        n_small, n_large = count(client, url_small), count(client, url_large)
        assert n_small == n_large, (name, n_small, n_large)
        assert n_small <= {"engagement": 8, "task": 9, "timeline": 7}[name], (name, n_small)
    # Every page also pays: the session read with its user and the viewer's facts: 1. The
    # session is not written on every request (psaas_portal.sessions refreshes it when due).


def test_my_work_at_two_sizes(
    client_for, template_version, org_a, org_b, cse, engineer_a, engineer_b
):
    engagement_with(12, org_a, cse, engineer_a)
    engagement_with(200, org_b, cse, engineer_b)
    # 1 per request (see above) + the counts (which also size the pages), the page, its
    # letters with their parties, my seats on the page's engagements, which operations and
    # checklists wait on me (one UNION; none here, so none of their own queries runs): 6.
    n_small = count(client_for(engineer_a), reverse("engagements:my-work"))
    n_large = count(client_for(engineer_b), reverse("engagements:my-work"))
    assert n_small == n_large <= 6


def analyze() -> None:
    """Statistics for the data just made, as autovacuum keeps them in production: a table
    that autovacuum once saw empty in this long test run has reltuples=0, and PostgreSQL
    then plans the large page with nested loops that take minutes."""
    if connection.vendor == "postgresql":
        from psaas_portal.backup import table_names

        with connection.cursor() as cursor:  # the portal's own tables (no superuser needed)
            cursor.execute("ANALYZE " + ", ".join(f'"{t}"' for t in table_names()))


def test_portfolio_at_3_and_300_engagements(client_for, template_version, cse, admin_user):
    def grow(to: int):
        for i in range(to - Engagement.objects.count()):
            org = OrganizationFactory()
            engagement = make_engagement(org, f"P{i}", version=template_version)
            add_member(engagement, cse, party=vendor_party(), is_manager=True)

    from engagements.models import Engagement

    client = client_for(cse)
    grow(3)
    # the session with the user and who the viewer is (vendor staff, portal admin, unread
    # count: one read), the page with annotated counts and one more row (no COUNT), the
    # page's status and waiting counts with the roles no one holds (one query over the
    # page's tasks), the timeline bars (one query over the page's onboarding tasks), CSEs
    # of the page, the CSE filter list (subscribers are searched by name, not listed): 6.
    n_small = count(client, reverse("engagements:portfolio"))
    grow(300)
    analyze()
    n_large = count(client, reverse("engagements:portfolio") + "?sort=-progress&page=2")
    assert n_small == n_large <= 6


def test_template_editor_at_two_sizes(client_for, admin_user):
    from raci.services import start_draft

    client = client_for(admin_user)
    small, large = (
        start_draft(big_template(12), actor=admin_user),
        start_draft(big_template(200), actor=admin_user),
    )
    # 1 per request (with the editor permission, navigation flags and unread count),
    # version, version with columns, tasks, cells, prerequisites, checklist items: 8.
    n_small = count(client, reverse("raci:version-detail", args=[small.pk]))
    n_large = count(client, reverse("raci:version-detail", args=[large.pk]))
    assert n_small == n_large <= 8


def test_checklist_page_at_two_sizes(client_for, engagement_a, engineer_a, cse):
    """The checklist page with 2 VMs listed and accepted, and with 60: the same queries."""
    from engagements.actions.checklists import review_checklist, save_checklist
    from engagements.models import InfrastructureChecklist
    from tests.factories import checklist_items, checklist_vms

    dev, prod = (
        InfrastructureChecklist.objects.get(engagement=engagement_a, environment=env)
        for env in ("development", "production")
    )
    for checklist, n in ((dev, 2), (prod, 60)):
        save_checklist(
            checklist, actor=engineer_a, items=checklist_items(), vms=checklist_vms(n), submit=True
        )
        checklist.refresh_from_db()
        review_checklist(checklist, actor=cse, accept=True)
    # 1 per request (with portal admin for visibility, the navigation flags, the unread
    # count), the checklist with its engagement and people, the task, its letters and their
    # parties, my party, the items, the checklist's VMs, the inventory: 9.
    for user in (engineer_a, cse):
        client = client_for(user)
        n_small = count(client, reverse("engagements:checklist-detail", args=[dev.pk]))
        n_large = count(client, reverse("engagements:checklist-detail", args=[prod.pk]))
        assert n_small == n_large <= 9, (user.username, n_small, n_large)


def test_draft_checklist_page_at_two_sizes(client_for, engagement_a, engineer_a):
    from engagements.actions.checklists import save_checklist
    from engagements.models import InfrastructureChecklist
    from tests.factories import checklist_items, checklist_vms

    dev, prod = (
        InfrastructureChecklist.objects.get(engagement=engagement_a, environment=env)
        for env in ("development", "production")
    )
    save_checklist(dev, actor=engineer_a, items=checklist_items(), vms=checklist_vms(1))
    save_checklist(prod, actor=engineer_a, items=checklist_items(), vms=checklist_vms(60))
    client = client_for(engineer_a)
    n_small = count(client, reverse("engagements:checklist-detail", args=[dev.pk]))
    n_large = count(client, reverse("engagements:checklist-detail", args=[prod.pk]))
    assert n_small == n_large <= 9, (n_small, n_large)


def test_members_page_at_5_and_200_members(client_for, engagement_a, cse, org_a):
    from engagements.actions.invitations import invite_member

    def grow(to: int):
        for i in range(to - engagement_a.memberships.count()):
            person = UserFactory(username=f"m{to}-{i}", organization=org_a)
            add_member(
                engagement_a,
                person,
                party=subscriber_party(),
                roles=["subscriber's infrastructure engineer"],
            )
        invite_member(
            engagement_a, email=f"invited-{to}@example.com", party=subscriber_party(), actor=cse
        )

    client = client_for(cse)
    url = reverse("engagements:members", args=[engagement_a.pk])
    grow(5)
    n_small = count(client, url)
    grow(200)
    analyze()
    n_large = count(client, url)
    # 1 per request (the session with the user, the navigation flags and the unread count)
    # + the engagement (visibility) and the page's member rules, columns, roles, members
    # and invitations: 8, the same at 5 and 200 members.
    assert n_small == n_large <= 8, (n_small, n_large)


def test_status_change_post(client_for, engagement_a, engineer_a, cse):
    """A status change through the browser: one read under the row lock (the task, its
    letters with their parties, the actor's seat and whether they may see it), then the
    update, the event, the recipients with their preferences, the notification rows."""
    from tests.conftest import task_of

    task = task_of(engagement_a, "monitoring")
    client = client_for(engineer_a)
    url = reverse("engagements:task-transition", args=[task.pk])
    counts = []
    for to in (TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED):
        task.refresh_from_db()
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(url, {"to": to, "reason": "", "revision": task.revision})
        assert response.status_code == 302
        counts.append(len(ctx.captured_queries))
    # the session with its user; BEGIN, the locked task with its letters, the seat and visibility (one
    # query, engagements.selectors.locked, which also says whether the task has prerequisites:
    # [their read, only when moving forward a task that has some], UPDATE, the event, the recipients with their preferences, the
    # notifications, the chat channels of the parties reached, the webhook endpoints of the
    # engagement (webhooks.outbox), COMMIT: 10.
    assert counts[0] <= 10 and counts[1] <= 10, counts


def test_pages_listing_attachments_at_1_and_25_files(
    client_for, engagement_a, engineer_a, cse, settings, tmp_path
):
    """The task page and the checklist page read their files inside their own queries (a
    JSON subquery per owner row): 1 file or 25, by the viewer or by someone else, the same
    number of queries, within the pages' budgets (task 9, checklist 9)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.actions import add_attachment
    from engagements.models import InfrastructureChecklist
    from tests.conftest import task_of

    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }

    def attach(owner, n):
        for i in range(n):
            add_attachment(
                owner,
                actor=(engineer_a, cse)[i % 2],
                upload=SimpleUploadedFile(f"f{i}.txt", b"log line\n", content_type="text/plain"),
            )

    small, large = task_of(engagement_a, "monitoring"), task_of(engagement_a, "backup")
    attach(small, 1)
    attach(large, 25)
    dev, prod = (
        InfrastructureChecklist.objects.get(engagement=engagement_a, environment=env)
        for env in ("development", "production")
    )
    attach(dev.items.first(), 1)
    for item in prod.items.all()[:5]:
        attach(item, 5)
    for user in (engineer_a, cse):
        client = client_for(user)
        tasks = [
            count(client, reverse("engagements:task-detail", args=[t.pk])) for t in (small, large)
        ]
        lists = [
            count(client, reverse("engagements:checklist-detail", args=[c.pk])) for c in (dev, prod)
        ]
        assert tasks[0] == tasks[1] <= 9, (user.username, tasks)  # as the task page
        assert lists[0] == lists[1] <= 9, (user.username, lists)  # as the checklist page


def test_status_change_in_the_panel_at_two_sizes(client_for, sized, engineer_a):
    """A move in the task panel (htmx) answers with the panel and the out-of-band fragments
    of the page it is on: their queries are a fixed number, whatever the engagement's size."""
    from engagements.choices import TaskStatus

    def post(engagement, from_url: str) -> int:
        task = (
            engagement.tasks.filter(parties__party__name="Subscriber", parties__responsible=True)
            .order_by("pk")
            .first()
        )
        url = reverse("engagements:task-transition", args=[task.pk])
        to = TaskStatus.NOT_STARTED if task.status == TaskStatus.IN_PROGRESS else "in_progress"
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(
                url,
                {"to": to, "reason": "", "revision": task.revision},
                HTTP_HX_REQUEST="true",
                HTTP_HX_CURRENT_URL=f"http://testserver{from_url(engagement)}",
            )
        assert response.status_code == 200, response.content[:300]
        assert b'hx-swap-oob="true"' in response.content
        return len(ctx.captured_queries)

    client = client_for(engineer_a)
    small, large = sized
    pages = {
        # The move (as test_status_change_post, without the redirect), the task re-read
        # with its letters and the panel's reads (as the task page), the unread count for
        # the header's fragment; then on the engagement page its tasks, their letters, the
        # version's prerequisites and members with roles (4 more: 19 since the signed-in
        # read and the locked read of psaas_portal.signed_in / selectors.locked); on My
        # work its counts, page, letters, seats and which operations wait (5 more: 20).
        "engagement": (
            lambda e: reverse("engagements:engagement-detail", args=[e.pk]),
            19,
        ),
        "my-work": (lambda e: reverse("engagements:my-work"), 20),
    }
    for name, (from_url, budget) in pages.items():
        n_small, n_large = post(small, from_url), post(large, from_url)
        assert n_small == n_large, (name, n_small, n_large)
        assert n_small <= budget, (name, n_small)


def test_admin_home_at_two_sizes(client_for, template_version, admin_user, cse):
    """The admins' home (6): session, user, who the viewer is, the drafts, the engagements
    behind their template's newest version, those templates' newest versions. Landing on
    "/" with an empty My work first reads My work (its counts and page, my seats) and then
    the same home."""
    from engagements.models import Engagement
    from raci.services import publish_version, start_draft

    def grow(to: int):
        for i in range(to - Engagement.objects.count()):
            make_engagement(OrganizationFactory(), f"H{i}", version=template_version)

    client = client_for(admin_user)
    grow(2)
    publish_version(start_draft(template_version, actor=admin_user), actor=admin_user)
    start_draft(template_version, actor=admin_user)
    n_small = count(client, reverse("engagements:admin-home"))
    grow(60)
    big_template(3)  # another template with a published version and nobody behind
    n_large = count(client, reverse("engagements:admin-home"))
    landing = count(client, reverse("engagements:my-work"))
    assert n_small == n_large <= 6, (n_small, n_large)
    assert landing <= 10, landing


def test_webhook_pages_at_two_sizes(client_for, engagement_a, cse):
    """The endpoints list (1 and 10 endpoints) and an endpoint's delivery log (2 and 60
    deliveries, 50 shown)."""
    from engagements.actions.tasks import add_comment
    from tests.conftest import task_of
    from webhooks.actions import create_endpoint

    def endpoint():
        return create_endpoint(
            engagement_a, actor=cse, url="https://93.184.216.34/h", kinds=["task.commented"]
        )[0]

    task = task_of(engagement_a, "monitoring")
    client = client_for(cse)
    first = endpoint()
    for _ in range(2):
        add_comment(task, actor=cse, body="x")
    list_url = reverse("webhooks:endpoints", args=[engagement_a.pk])
    one_url = reverse("webhooks:endpoint", args=[first.pk])
    n_list_small, n_one_small = count(client, list_url), count(client, one_url)
    for _ in range(9):
        endpoint()
    for _ in range(58):
        add_comment(task, actor=cse, body="x")
    analyze()
    n_list_large, n_one_large = count(client, list_url), count(client, one_url)
    # session, user, who the viewer is (one read), the engagement (visibility and whether
    # the viewer administers it: the manage rule costs nothing more), the endpoints with
    # their counts.
    assert n_list_small == n_list_large <= 5, (n_list_small, n_list_large)
    # session, user, who the viewer is, the endpoint (visibility), whether the viewer
    # administers its engagement, the deliveries with their events.
    assert n_one_small == n_one_large <= 6, (n_one_small, n_one_large)


def test_chat_pages_at_two_sizes(client_for, engagement_a, cse):
    """An engagement's chat channels (none, and one per party) and the preferences page
    (without and with a personal channel)."""
    from engagements.models import ChatChannel
    from tests.factories import subscriber_party

    client = client_for(cse)
    url = reverse("engagements:chat-channels", args=[engagement_a.pk])
    prefs = reverse("engagements:notification-preferences")
    n_small, p_small = count(client, url), count(client, prefs)
    for party in (subscriber_party(), vendor_party()):
        ChatChannel.objects.create(
            engagement=engagement_a, party=party, kind="slack", url="https://hooks.slack.com/x"
        )
    ChatChannel.objects.create(user=cse, kind="teams", url="https://x.webhook.office.com/y")
    n_large, p_large = count(client, url), count(client, prefs)
    # session, user, who the viewer is (one read), the engagement (visibility and whether
    # the viewer administers it), the version's parties, the channels.
    assert n_small == n_large <= 6, (n_small, n_large)
    # session, user, who the viewer is, the profile, the personal channel.
    assert p_small == p_large <= 5, (p_small, p_large)


def test_search_at_two_sizes(
    client_for, template_version, org_a, org_b, cse, engineer_a, engineer_b
):
    """The search page (search/): one ranked query per kind whatever the number of hits
    (each kind capped at PER_KIND): 2 per request + who the viewer is (header) + 4 kinds
    (engagements, tasks, issues, comments; each selects its engagement and organisation,
    comments their author and task): 7."""
    engagement_with(12, org_a, cse, engineer_a)
    large = engagement_with(200, org_b, cse, engineer_b)
    for task in large.tasks.order_by("pk")[:30]:
        add_comment(task, actor=cse, body=f"Task note {task.pk}")
    url = reverse("search:results") + "?q=task"
    n_small = count(client_for(engineer_a), url)
    n_large = count(client_for(engineer_b), url)
    assert n_small == n_large <= 7, (n_small, n_large)


def test_issue_page_at_two_sizes(client_for, engagement_a, engineer_a, cse):
    """An issue just raised, and one with a ticket and twenty events behind it: the same
    queries (the issue read once, with the check that the person may see it)."""
    from engagements.actions.issues import set_ticket_reference
    from tests.factories import raise_production_issue

    small = raise_production_issue(engagement_a, engineer_a)
    large = raise_production_issue(engagement_a, engineer_a, title="Logs are late")
    for i in range(20):
        large = set_ticket_reference(large, actor=engineer_a, reference=f"SC-{100 + i}")
    for person in (engineer_a, cse):
        client = client_for(person)
        n_small = count(client, reverse("engagements:issue-detail", args=[small.pk]))
        n_large = count(client, reverse("engagements:issue-detail", args=[large.pk]))
        assert n_small == n_large, (person, n_small, n_large)
        # the session with the person (1), the issue with its access check and files (1),
        # the issue tasks (1) and their letters (1) the policy reads, the person's seats
        # (1), the issue's events (1)
        assert n_large <= 6, (person, n_large)
