"""Words, not codes: every event kind as a sentence, people by their full names, HTML emails
that say everything their text part says, plain-text subjects, the issue severity chosen on
purpose, and a meeting address that is a link only when it is a web address."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from engagements import events
from engagements.actions.cycles import propose_cycle
from engagements.actions.handover import schedule_handover
from engagements.actions.tasks import sign_off_task, transition_task
from engagements.choices import Channel, ReminderKind, TaskStatus
from engagements.choices import NotificationReason as Reason
from engagements.models import Event, Issue, Notification
from engagements.outbox_mail import email_context
from engagements.templatetags.portal import person, place
from psaas_portal.emails import render_email
from tests.conftest import task_of
from tests.factories import update_windows

pytestmark = pytest.mark.django_db
# A stored code: words joined by a dot ("checklist.submitted", "engagement.template_applied").
DOTTED_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)*\.[a-z]+(?:_[a-z]+)*\b")


@pytest.mark.parametrize("verb", sorted(events.REGISTRY))
def test_every_registered_kind_reads_as_a_sentence_naming_the_person(verb, engagement_a, cse):
    event = Event(
        engagement=engagement_a,
        task=task_of(engagement_a, "handover"),
        actor=cse,
        verb=verb,
        from_state="not_started",
        to_state="in_progress",
        data={"summary": "did a thing", "user": "Alex Acme", "party": "Auth0", "email": "a@b.c"},
    )
    sentence = events.sentence(event)
    assert sentence.startswith(cse.get_full_name() + " "), sentence
    assert sentence.endswith((".", "”")), sentence
    for text in (sentence, events.title(event)):
        codes = [c for c in DOTTED_CODE.findall(text) if c != "b.c"]  # the address's domain
        assert codes == [] and "{" not in text and "_" not in text.replace("a@b.c", ""), text
    for state in ("not_started", "in_progress"):
        assert "_" not in events.state_label(event, state)


def test_a_person_is_their_full_name_and_their_username_only_without_one(cse):
    assert person(cse) == cse.get_full_name() != cse.username
    nameless = get_user_model().objects.create_user("nameless")
    assert person(nameless) == "nameless"
    assert person(None) == ""
    rendered = Template("{% load portal %}{{ u|person }}").render(Context({"u": cse}))
    assert rendered == cse.get_full_name()


def test_pages_name_people_by_full_name(client_for, engagement_a, cse):
    cycle = propose_cycle(engagement_a, actor=cse, release="2027.1", windows=update_windows())
    page = client_for(cse).get(reverse("engagements:cycle-detail", args=[cycle.pk]))
    text = page.content.decode()
    assert f"Proposed by {cse.get_full_name()}" in text and "Proposed by cse" not in text


def _words(text: str) -> set[str]:
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r'href="([^"]+)"', r"> \1 <", text)))
    return set(re.findall(r"[\w'@:/.#?=&-]+", text.replace("·", " "))) - {"", "-"}


def _assert_html_says_all(message) -> None:
    ((html_part, mime),) = message.alternatives
    assert mime == "text/html"
    missing = _words(message.body) - _words(html_part)
    assert not missing, (missing, message.body)


def _informed_email(event, task, recipient) -> Notification:
    """The email row of an Informed person about an event (not saved)."""
    return Notification(
        engagement=task.engagement,
        event=event,
        task=task,
        recipient=recipient,
        channel=Channel.EMAIL,
        kind=event.verb,
        reason=Reason.INFORMED,
    )


def test_html_emails_carry_everything_the_text_part_says(engagement_a, cse, engineer_a):
    monitoring = task_of(engagement_a, "monitoring")
    transition_task(monitoring, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    transition_task(monitoring, to=TaskStatus.DONE, actor=engineer_a)
    sign_off_task(monitoring, actor=engineer_a, comment="Alerts reach the on-call rota")
    event = Event.objects.filter(task=monitoring).order_by("-created_at", "-id").first()
    base = {
        "engagement": engagement_a,
        "task": monitoring,
        "recipient": cse,
        "link": "http://x/t/1",
    }
    n = _informed_email(event, monitoring, cse)
    message = render_email("notification", email_context(n, cse), "cse@example.com")
    assert "Alerts reach the on-call rota" in message.body
    _assert_html_says_all(message)
    for kind in ReminderKind.values:
        n = Notification(
            engagement=engagement_a,
            task=monitoring,
            recipient=cse,
            channel=Channel.EMAIL,
            kind=kind,
            day=timezone.localdate(),
        )
        _assert_html_says_all(render_email("reminder", {**base, "n": n}, "cse@example.com"))


def test_a_notification_email_says_when_in_the_portals_time_zone_and_why(
    settings, engagement_a, cse, engineer_a
):
    """The time is formatted once per event for both parts (WHEN_FORMAT), as the `date`
    filter would in the portal's time zone; the reason reads as its label."""
    settings.TIME_ZONE = "Europe/Paris"
    monitoring = task_of(engagement_a, "monitoring")
    transition_task(monitoring, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    event = Event.objects.filter(task=monitoring).latest("id")
    event.created_at = dt.datetime(2027, 1, 5, 13, 7, tzinfo=dt.UTC)  # in memory only
    n = _informed_email(event, monitoring, cse)
    with timezone.override("Europe/Paris"):
        message = render_email("notification", email_context(n, cse), "cse@example.com")
        by_filter = Template('{{ t|date:"j M Y H:i e" }}').render(Context({"t": event.created_at}))
    assert by_filter == "5 Jan 2027 14:07 CET"
    assert f"on {by_filter}." in message.body
    ((html_part, _),) = message.alternatives
    assert f"on {by_filter}.</p>" in html_part
    assert f"Why you: {Reason.INFORMED.label}" in message.body
    assert f"Why you: {html.escape(str(Reason.INFORMED.label))}</p>" in html_part


def test_subjects_are_never_html_escaped(engagement_a, cse):
    engagement_a.organization.name = "O'Brien & Sons"
    engagement_a.name = "Dana's appliance"
    task = task_of(engagement_a, "handover")
    n = Notification(
        engagement=engagement_a,
        task=task,
        recipient=cse,
        channel=Channel.EMAIL,
        kind=ReminderKind.OVERDUE,
        day=timezone.localdate(),
    )
    context = {"engagement": engagement_a, "task": task, "recipient": cse, "link": "x", "n": n}
    message = render_email("reminder", context, "cse@example.com")
    assert message.subject.startswith("[O'Brien & Sons] Overdue: ")
    assert "&#x27;" not in message.body and "&amp;" not in message.body


def test_the_issue_severity_has_no_choice_made_for_you(client_for, engagement_a, engineer_a):
    client = client_for(engineer_a)
    url = reverse("engagements:issues", args=[engagement_a.pk])
    page = client.get(url).content.decode()
    select = page.split('name="severity"')[1].split("</select>")[0]
    # The empty first option is the one shown; no severity is chosen for the person.
    assert re.findall(r'<option value="([^"]*)"[^>]* selected', select) == [""]
    assert select.split("<option")[1].startswith(' value=""') and " required" in select
    before = Issue.objects.count()
    form = {"title": "Login fails", "environment": "production", "description": "500s"}
    response = client.post(url, form)
    assert response.status_code == 400
    assert "Choose how severe the issue is." in response.content.decode()
    assert Issue.objects.count() == before  # nothing changed
    assert client.post(url, {**form, "severity": "medium"}).status_code == 302
    assert Issue.objects.get().severity == "medium"


def test_a_meeting_address_is_a_link_only_when_it_is_a_web_address(
    client_for, engagement_a, cse, engineer_a
):
    assert str(place("https://meet.example.com/abc?x=1&y=2")) == (
        '<a href="https://meet.example.com/abc?x=1&amp;y=2" rel="noopener noreferrer">'
        "https://meet.example.com/abc?x=1&amp;y=2</a>"
    )
    for text in (
        "javascript:alert(1)",
        "Room 4.2",
        "data:text/html,<b>x</b>",
        "http://a b",
        "http:x",
    ):
        rendered = Template("{% load portal %}{{ w|place }}").render(Context({"w": text}))
        assert "<a " not in rendered and "<b>" not in rendered, text
    schedule_handover(
        engagement_a,
        actor=cse,
        starts_at=timezone.now() + dt.timedelta(days=2),
        attendee_ids=[cse.pk, engineer_a.pk],
        location="https://meet.example.com/handover",
    )
    page = client_for(cse).get(reverse("engagements:handover", args=[engagement_a.pk]))
    assert (
        '<a href="https://meet.example.com/handover" rel="noopener noreferrer">'
        in page.content.decode()
    )


def test_membership_events_name_the_person_not_their_username(engagement_a, cse, org_a):
    from engagements.actions.membership import add_member, remove_member
    from tests.factories import UserFactory, subscriber_party

    newcomer = UserFactory(
        username="dana7", first_name="Dana", last_name="Scully", organization=org_a
    )
    add_member(engagement_a, newcomer, party=subscriber_party(), actor=cse)
    remove_member(engagement_a, newcomer, actor=cse)
    added, removed = Event.objects.filter(engagement=engagement_a).order_by("-id")[:2][::-1]
    assert events.sentence(added).startswith(f"{cse.get_full_name()} added Dana Scully to ")
    assert events.sentence(removed) == f"{cse.get_full_name()} removed Dana Scully from Subscriber."
    assert events.title(added) == "Dana Scully added to Subscriber"
    assert added.data["username"] == "dana7"  # kept for the audit trail's data column
