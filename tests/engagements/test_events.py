"""Every event kind is declared once, with its words and its audience; no page, email or
CSV shows a stored verb, and no code outside the registry compares verb strings."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from engagements import events
from engagements import tasks as celery_tasks
from engagements.actions.checklists import review_checklist, save_checklist
from engagements.actions.cycles import propose_cycle
from engagements.actions.engagements import move_engagement
from engagements.actions.tasks import add_comment, sign_off_task, transition_task
from engagements.choices import Channel, EngagementState, Environment, TaskStatus
from engagements.models import Event, InfrastructureChecklist, Notification
from tests.conftest import task_of
from tests.factories import checklist_items, checklist_vms, update_windows

ROOT = Path(__file__).resolve().parents[2]
VERBS = sorted(events.REGISTRY)


def test_every_kind_has_words_and_a_declared_audience():
    assert len(VERBS) >= 40
    for verb, kind in events.REGISTRY.items():
        assert kind.verb == verb
        assert kind.title.strip() and kind.timeline.strip(), verb
        assert isinstance(kind.reach, tuple), verb  # AUDIT_ONLY is a declaration too
        for reach in kind.reach:
            assert reach.reason, verb
        if kind.machine:
            assert kind.machine in events.MACHINES, verb


@pytest.mark.django_db
@pytest.mark.parametrize("verb", VERBS)
def test_the_words_of_each_kind_never_show_its_verb(verb, engagement_a, cse):
    task = task_of(engagement_a, "monitoring")
    event = Event(
        engagement=engagement_a,
        task=task,
        actor=cse,
        verb=verb,
        from_state="not_started",
        to_state="in_progress",
        data={"summary": "did a thing", "reason": "why", "user": "alex", "party": "Auth0"},
    )
    for text in (events.title(event), str(events.timeline(event)), events.plain_timeline(event)):
        assert text.strip(), verb
        assert verb not in text and "{" not in text, (verb, text)


@pytest.mark.django_db
def test_no_timeline_email_or_csv_shows_a_raw_verb(client_for, engagement_a, cse, engineer_a):
    monitoring = task_of(engagement_a, "monitoring")
    transition_task(monitoring, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    transition_task(monitoring, to=TaskStatus.DONE, actor=engineer_a)
    sign_off_task(monitoring, actor=engineer_a, comment="Alerts reach the on-call rota")
    add_comment(monitoring, actor=cse, body="Thanks")
    checklist = InfrastructureChecklist.objects.get(
        engagement=engagement_a, environment=Environment.DEVELOPMENT
    )
    save_checklist(
        checklist, actor=engineer_a, items=checklist_items(), vms=checklist_vms(), submit=True
    )
    review_checklist(checklist, actor=cse, accept=False, comment="Memory is too small")
    propose_cycle(engagement_a, actor=cse, release="2027.1", windows=update_windows())
    move_engagement(engagement_a, to=EngagementState.LIVE, actor=cse)

    client = client_for(cse)
    pages = [
        client.get(reverse("engagements:engagement-detail", args=[engagement_a.pk])),
        client.get(reverse("engagements:task-detail", args=[monitoring.pk])),
        client_for(engineer_a).get(reverse("engagements:notifications")),
    ]
    export = client_for(cse).get(reverse("engagements:export-events", args=[engagement_a.pk]))
    trail = b"".join(export.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(trail)))
    assert len(rows) == Event.objects.filter(engagement=engagement_a).count() + 1
    celery_tasks.deliver(
        list(Notification.objects.filter(channel=Channel.EMAIL).values_list("pk", flat=True))
    )
    assert mail.outbox
    texts = [p.content.decode() for p in pages] + [trail]
    texts += [m.subject + m.body + str(m.alternatives) for m in mail.outbox]
    used = set(Event.objects.filter(engagement=engagement_a).values_list("verb", flat=True))
    assert {"engagement.state_changed", "checklist.returned", "task.signed_off"} <= used
    for text in texts:
        for verb in used:
            assert verb not in text, verb
    # The sign-off comment reaches the HTML email too.
    signed = [m for m in mail.outbox if "signed off" in m.subject]
    assert signed and "Alerts reach the on-call rota" in str(signed[0].alternatives)


def test_no_code_outside_the_registry_compares_verb_strings():
    pattern = re.compile(r"verb\s*(==|!=|in\b)|verb\.startswith|\.verb\s*==|verb ==")
    offenders = []
    for path in [
        *ROOT.joinpath("engagements").rglob("*.py"),
        *ROOT.joinpath("templates").rglob("*"),
    ]:
        if path.is_dir() or "migrations" in path.parts or path.name == "events.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.django_db
def test_email_subjects_are_plain_text_not_html_escaped(engagement_a, cse, engineer_a):
    engagement_a.organization.name = "Dana's Bank"
    engagement_a.organization.save()
    monitoring = task_of(engagement_a, "monitoring")
    transition_task(monitoring, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    celery_tasks.deliver(
        list(Notification.objects.filter(channel=Channel.EMAIL).values_list("pk", flat=True))
    )
    assert mail.outbox
    assert all(m.subject.startswith("[Dana's Bank] ") for m in mail.outbox), [
        m.subject for m in mail.outbox
    ]
    assert not any("&#x27;" in m.subject or "&amp;" in m.subject for m in mail.outbox)


def test_the_readme_table_of_who_is_told_is_the_registrys():
    from pathlib import Path

    from django.conf import settings

    from engagements.event_table import audience_table

    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    copy = readme.split("<!-- audience-table -->\n")[1].split("<!-- /audience-table -->")[0]
    assert copy == audience_table(), "regenerate the README's table from the registry"
