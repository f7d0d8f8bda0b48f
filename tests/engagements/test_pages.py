"""My work, the engagement page, the portfolio and the exports."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from engagements.actions.tasks import transition_task
from engagements.choices import Environment, TaskStatus
from engagements.models import EngagementTask
from tests.conftest import task_of

pytestmark = pytest.mark.django_db


def test_my_work_lists_r_and_a_tasks_overdue_first(client_for, engagement_a, engineer_a):
    today = dt.date.today()
    EngagementTask.objects.filter(engagement=engagement_a).update(due_date=None)
    EngagementTask.objects.filter(engagement=engagement_a, key="code_integration").update(
        due_date=today - dt.timedelta(days=3)
    )
    EngagementTask.objects.filter(engagement=engagement_a, key="user_migration").update(
        due_date=today + dt.timedelta(days=2)
    )
    response = client_for(engineer_a).get(reverse("engagements:my-work"))
    rows = response.context["rows"]
    names = [r["task"].name for r in rows]
    assert names[:2] == ["Code Integration into Applications", "User Migration"]
    # Operations tasks are never a one-off "Not started · Act": their operations are listed.
    assert "Monitoring" not in names and "Backing Up" not in names
    assert (
        "Deployment to Development and Production environments" not in names
    )  # only Informed there
    assert "Operations Handover" not in names  # only Consulted there
    counts = response.context["counts"]
    assert (counts["overdue"], counts["due_soon"]) == (1, 1)
    assert rows[0]["expected"] == "Act"


def test_my_work_says_sign_off_to_the_signer(client_for, engagement_a, cse):
    deploy = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)
    deploy.refresh_from_db()
    transition_task(deploy, to=TaskStatus.DONE, actor=cse)
    rows = client_for(cse).get(reverse("engagements:my-work")).context["rows"]
    assert {r["expected"] for r in rows if r["task"].pk == deploy.pk} == {"Sign off"}


def test_engagement_page_shows_matrix_progress_members_and_timeline(
    client_for, engagement_a, engineer_a, cse
):
    transition_task(
        task_of(engagement_a, "monitoring"), to=TaskStatus.IN_PROGRESS, actor=engineer_a
    )
    response = client_for(engineer_a).get(
        reverse("engagements:engagement-detail", args=[engagement_a.pk])
    )
    html = response.content.decode()
    # Onboarding counts its 9 tasks (three per environment, handover, integration,
    # migration); the six operations rows show their live state instead.
    assert response.context["progress"] == {"applicable": 9, "finished": 0, "percent": 0}
    assert 'data-testid="live-monitoring">Starts when Production goes live' in html
    assert 'data-testid="live-updates">No update cycle yet' in html
    assert "0 open with the vendor · 0 waiting on the subscriber" in html
    assert "in the event that there are issues" in html
    assert "Auth0 Customer Success Engineer" in html
    assert "moved <em>Monitoring</em> from not started to in progress" in html
    assert len(response.context["rows"]) == 12


def test_portfolio_is_for_vendor_staff_with_filters(
    client_for, engagement_a, engagement_b, cse, engineer_a, vendor_outsider
):
    assert client_for(engineer_a).get(reverse("engagements:portfolio")).status_code == 403
    assert client_for(vendor_outsider).get(reverse("engagements:portfolio")).context["rows"] == []
    client = client_for(cse)
    rows = client.get(reverse("engagements:portfolio")).context["rows"]
    assert [r["engagement"].name for r in rows] == ["Appliance A", "Appliance B"]
    assert rows[0]["waiting_subscriber"] > 0 and rows[0]["waiting_vendor"] > 0
    filtered = client.get(
        reverse("engagements:portfolio") + f"?subscriber={engagement_b.organization_id}"
    ).context["rows"]
    assert [r["engagement"].name for r in filtered] == ["Appliance B"]
    assert client.get(reverse("engagements:portfolio") + "?state=closed").context["rows"] == []
    assert client.get(reverse("engagements:portfolio") + "?sort=bogus&page=99").status_code == 200


def test_exports(client_for, engagement_a, engineer_a):
    transition_task(
        task_of(engagement_a, "monitoring"), to=TaskStatus.IN_PROGRESS, actor=engineer_a
    )
    client = client_for(engineer_a)
    matrix = client.get(reverse("engagements:export-matrix", args=[engagement_a.pk]))
    assert matrix["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(matrix.streaming_content).decode())))
    assert rows[0][:4] == ["task", "Auth0", "Subscriber", "notes"]
    assert rows[5][0] == "Monitoring" and rows[5][4] == "In progress"  # words, not codes
    events = client.get(reverse("engagements:export-events", args=[engagement_a.pk]))
    lines = list(csv.reader(io.StringIO(b"".join(events.streaming_content).decode())))
    assert lines[0][:3] == ["time (UTC)", "actor", "event"]
    # Words, not the stored verb: the event's declared title.
    # The person's full name, never a username.
    assert lines[-1][1:4] == [
        engineer_a.get_full_name(),
        "Monitoring: not started → in progress",
        "Monitoring",
    ]
    # From and to in words, and what happened as a sentence, who first.
    assert lines[-1][5:8] == [
        "Not started",
        "In progress",
        f"{engineer_a.get_full_name()} moved Monitoring from not started to in progress.",
    ]


def test_waiting_on_names_the_people_and_the_next_step(
    client_for, engagement_a, cse, engineer_a, org_a
):
    """ "Waiting on" names people and the step: the Responsible holders to move it, the
    signers once done (issue 12, item 1)."""
    from engagements.actions.membership import add_member
    from tests.factories import UserFactory, subscriber_party

    named = UserFactory(username="dana", first_name="Dana", last_name="Doe", organization=org_a)
    add_member(engagement_a, named, party=subscriber_party())
    monitoring = task_of(engagement_a, "monitoring")  # Auth0 I; Subscriber R, A (no role)
    page = client_for(cse).get(reverse("engagements:engagement-detail", args=[engagement_a.pk]))
    html = page.content.decode()
    assert "Dana Doe" in html and ", to start it</span>" in html
    panel = client_for(cse).get(reverse("engagements:task-detail", args=[monitoring.pk]))
    text = panel.content.decode()
    waiting = text.split("waiting on ")[1].split("</")[0].strip()
    assert "Dana Doe" in waiting and waiting.endswith("to start it")
    transition_task(monitoring, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    transition_task(monitoring, to=TaskStatus.DONE, actor=engineer_a)
    text = client_for(cse).get(reverse("engagements:task-detail", args=[monitoring.pk]))
    waiting = text.content.decode().split("waiting on ")[1].split("</")[0].strip()
    assert "Dana Doe" in waiting and waiting.endswith("to sign it off")
