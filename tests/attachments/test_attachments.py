"""Attachments on local files: uploading to each owner, the listing, the download's headers,
the type and size refusals (nothing saved, no file left), who may remove, the events and who
hears of them, other tenants refused, and orphans pruned."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from attachments.actions import add_attachment, remove_attachment
from attachments.models import Attachment
from engagements.actions.handover import schedule_handover
from engagements.actions.issues import raise_issue
from engagements.choices import Environment
from engagements.errors import DomainError, NotAllowed
from engagements.models import Event, InfrastructureChecklist, Notification
from tests.attachments.conftest import PDF, PNG, stored_files, upload
from tests.conftest import task_of

pytestmark = pytest.mark.django_db


def said(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def nothing_saved(folder) -> None:
    assert not Attachment.objects.exists()
    assert not Event.objects.filter(verb__startswith="attachment.").exists()
    assert stored_files(folder) == [] if folder.exists() else True


def test_attach_to_a_task_lists_it_and_tells_the_working_parties(
    client_for, engagement_a, engineer_a, cse, attachment_dir
):
    deploy = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)  # vendor R, A
    client = client_for(engineer_a)
    response = client.post(
        reverse("attachments:task-upload", args=[deploy.pk]),
        {"file": upload("install log.pdf")},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#attachments-{deploy.pk}")
    assert "install log.pdf attached" in said(response)
    attachment = Attachment.objects.get()
    assert (attachment.task_id, attachment.engagement_id) == (deploy.pk, engagement_a.pk)
    assert (attachment.name, attachment.size, attachment.content_type) == (
        "install log.pdf",
        len(PDF),
        "application/pdf",
    )
    assert stored_files(attachment_dir) == [attachment.key]
    assert (attachment_dir / attachment.key).read_bytes() == PDF
    event = Event.objects.get(verb="attachment.added")
    assert (event.task_id, event.actor_id, event.data["name"]) == (
        deploy.pk,
        engineer_a.pk,
        "install log.pdf",
    )
    # Told like a comment: the Responsible and Accountable party (the vendor's CSE).
    told = set(
        Notification.objects.filter(event=event).values_list("recipient__username", flat=True)
    )
    assert told == {"cse"}

    page = client_for(cse).get(reverse("engagements:task-detail", args=[deploy.pk]))
    html = page.content.decode()
    assert "install log.pdf" in html and engineer_a.get_full_name() in html
    assert reverse("attachments:download", args=[attachment.pk]) in html
    assert "attached <em>install log.pdf</em> to" in html  # the history says so


def test_download_is_always_a_download_with_nosniff(client_for, engagement_a, engineer_a, cse):
    monitoring = task_of(engagement_a, "monitoring")
    attachment = add_attachment(monitoring, actor=engineer_a, upload=upload("graph.png", PNG))
    response = client_for(cse).get(reverse("attachments:download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="graph.png"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(PNG))
    assert "sandbox" in response["Content-Security-Policy"]  # nothing in it can run
    assert b"".join(response.streaming_content) == PNG


REFUSED = [
    ("page.html", b"<html><body>hi</body></html>", "web pages, SVG images"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "web pages, SVG images"),
    ("setup.exe", b"MZ\x90\x00", "programs"),
    ("report.pdf", b"<html><script>alert(1)</script></html>", "does not look like a .pdf"),
    ("notes.txt", b"hello <script>alert(1)</script>", "does not look like a .txt"),
    ("notes.txt", b"#!/bin/sh\nrm -rf /\n", "program or script"),
    ("photo.png", b"GIF89a....", "does not look like a .png"),
    ("data.xyz", b"abc", "not a type that can be attached"),
    ("empty.txt", b"", "is empty"),
]


@pytest.mark.parametrize(("name", "content", "why"), REFUSED)
def test_types_are_refused_with_a_message_and_nothing_saved(
    client_for, engagement_a, engineer_a, attachment_dir, name, content, why
):
    monitoring = task_of(engagement_a, "monitoring")
    response = client_for(engineer_a).post(
        reverse("attachments:task-upload", args=[monitoring.pk]),
        {"file": upload(name, content, "text/plain")},
    )
    assert response.status_code == 302
    message = said(response)
    assert message.startswith("Nothing was saved. File:"), message
    assert why in message, message
    nothing_saved(attachment_dir)


def test_size_limit_from_settings(client_for, engagement_a, engineer_a, attachment_dir, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    monitoring = task_of(engagement_a, "monitoring")
    client = client_for(engineer_a)
    url = reverse("attachments:task-upload", args=[monitoring.pk])
    response = client.post(url, {"file": upload("big.txt", b"x" * 101, "text/plain")})
    assert "the largest file that can be attached is 100" in said(response)
    nothing_saved(attachment_dir)
    response = client.post(url, {"file": upload("fits.txt", b"x" * 100, "text/plain")})
    assert Attachment.objects.get().name == "fits.txt"
    # The form says what is allowed, from the same settings.
    page = client.get(reverse("engagements:task-detail", args=[monitoring.pk])).content.decode()
    assert "Up to 100" in page and "pdf" in page


def test_no_file_chosen_names_the_field(client_for, engagement_a, engineer_a, attachment_dir):
    monitoring = task_of(engagement_a, "monitoring")
    response = client_for(engineer_a).post(
        reverse("attachments:task-upload", args=[monitoring.pk]), {}
    )
    assert "File: choose a file" in said(response)
    nothing_saved(attachment_dir)


def test_a_storage_failure_leaves_no_row_and_no_file(
    engagement_a, engineer_a, attachment_dir, monkeypatch
):
    from django.core.files.storage import FileSystemStorage

    def broken(self, name, content):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(b"half")  # a partial write, then the disk fails
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "_save", broken)
    with pytest.raises(DomainError, match="could not be stored"):
        add_attachment(
            task_of(engagement_a, "monitoring"), actor=engineer_a, upload=upload("a.pdf")
        )
    nothing_saved(attachment_dir)


def test_other_tenants_and_outsiders_are_refused(
    client_for,
    client,
    engagement_a,
    engagement_b,
    engineer_a,
    engineer_b,
    vendor_outsider,
    attachment_dir,
):
    monitoring = task_of(engagement_a, "monitoring")
    attachment = add_attachment(monitoring, actor=engineer_a, upload=upload("secret.pdf"))
    before = stored_files(attachment_dir)
    for person in (engineer_b, vendor_outsider):
        c = client_for(person)
        assert c.get(reverse("attachments:download", args=[attachment.pk])).status_code == 404
        assert c.post(reverse("attachments:remove", args=[attachment.pk])).status_code == 404
        response = c.post(
            reverse("attachments:task-upload", args=[monitoring.pk]),
            {"file": upload("injected.pdf")},
        )
        assert response.status_code == 404
    client.logout()
    response = client.get(reverse("attachments:download", args=[attachment.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert list(Attachment.objects.values_list("name", flat=True)) == ["secret.pdf"]
    assert stored_files(attachment_dir) == before


def test_who_may_remove(
    client_for, engagement_a, engineer_a, cse, attachment_dir, django_capture_on_commit_callbacks
):
    monitoring = task_of(engagement_a, "monitoring")
    by_cse = add_attachment(monitoring, actor=cse, upload=upload("runbook.pdf"))
    by_engineer = add_attachment(monitoring, actor=engineer_a, upload=upload("alerts.pdf"))
    # A member removes only their own files; the page offers only those.
    page = client_for(engineer_a).get(reverse("engagements:task-detail", args=[monitoring.pk]))
    html = page.content.decode()
    assert reverse("attachments:remove", args=[by_engineer.pk]) in html
    assert reverse("attachments:remove", args=[by_cse.pk]) not in html
    with pytest.raises(NotAllowed, match="managers"):
        remove_attachment(by_cse, actor=engineer_a)
    response = client_for(engineer_a).post(reverse("attachments:remove", args=[by_cse.pk]))
    assert "Nothing was removed" in said(response)
    assert Attachment.objects.filter(pk=by_cse.pk).exists()
    # A manager (the CSE) removes anyone's; the file goes after commit; the events stay.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cse).post(reverse("attachments:remove", args=[by_engineer.pk]))
    assert response.status_code == 302 and "alerts.pdf removed" in said(response)
    assert not Attachment.objects.filter(pk=by_engineer.pk).exists()
    assert stored_files(attachment_dir) == [by_cse.key]
    removed = Event.objects.get(verb="attachment.removed")
    assert (removed.actor_id, removed.data["name"]) == (cse.pk, "alerts.pdf")
    assert Event.objects.filter(verb="attachment.added").count() == 2
    # Removing it again says so.
    with pytest.raises(DomainError, match="already removed"):
        remove_attachment(by_engineer.pk, actor=cse)


def test_checklist_item_issue_and_handover(
    client_for, engagement_a, engagement_b, engineer_a, cse, attachment_dir
):
    checklist = InfrastructureChecklist.objects.get(
        engagement=engagement_a, environment=Environment.PRODUCTION
    )
    item = checklist.items.order_by("position").first()
    engineer = client_for(engineer_a)
    url = reverse("attachments:checklist-upload", args=[checklist.pk])
    response = engineer.post(
        url, {"item": item.pk, "file": upload("cert.pem", b"-----BEGIN CERTIFICATE-----\nMII\n")}
    )
    assert response["Location"].endswith("#attachments"), said(response)
    attachment = Attachment.objects.get(checklist_item=item)
    assert attachment.content_type == "application/x-pem-file"
    event = Event.objects.get(verb="attachment.added")
    assert event.task.key == "infrastructure" and event.task.environment == "production"
    assert event.data["owner"] == f"{item.label} on the Production Infrastructure Checklist"
    # The vendor is Consulted on Preparing VM Infrastructure: the reviewer hears of it.
    assert Notification.objects.filter(event=event, recipient=cse).exists()
    page = client_for(cse).get(reverse("engagements:checklist-detail", args=[checklist.pk]))
    assert "cert.pem" in page.content.decode() and item.label in page.content.decode()
    # An item of another checklist (another tenant's) is refused, naming the field.
    foreign = InfrastructureChecklist.objects.get(
        engagement=engagement_b, environment=Environment.PRODUCTION
    ).items.first()
    response = engineer.post(url, {"item": foreign.pk, "file": upload("x.pdf")})
    assert "Checklist item: choose the item" in said(response)
    assert Attachment.objects.count() == 1

    issue = raise_issue(
        engagement_a,
        actor=engineer_a,
        title="Login fails",
        environment=Environment.PRODUCTION,
        severity="high",
        description="After the update",
    )
    engineer.post(
        reverse("attachments:issue-upload", args=[issue.pk]),
        {"file": upload("trace.log", b"ERROR 500 at /login\n", "text/plain")},
    )
    page = (
        client_for(cse).get(reverse("engagements:issue-detail", args=[issue.pk])).content.decode()
    )
    assert "trace.log" in page and engineer_a.get_full_name() in page
    assert "attached <em>trace.log</em> to issue #" in page  # on the issue's timeline

    handover = schedule_handover(
        engagement_a,
        actor=cse,
        starts_at=timezone.now() + dt.timedelta(days=2),
        attendee_ids=[cse.pk, engineer_a.pk],
    )
    client_for(cse).post(
        reverse("attachments:handover-upload", args=[handover.pk]),
        {"file": upload("handover notes.pdf")},
    )
    page = engineer.get(reverse("engagements:handover", args=[engagement_a.pk])).content.decode()
    assert "handover notes.pdf" in page and cse.get_full_name() in page
    assert Attachment.objects.count() == 3


def test_prune_deletes_only_old_orphans(engagement_a, engineer_a, attachment_dir):
    kept = add_attachment(
        task_of(engagement_a, "monitoring"), actor=engineer_a, upload=upload("a.pdf")
    )
    old_orphan = attachment_dir / "1" / "dead" / "gone.pdf"
    new_orphan = attachment_dir / "1" / "fresh" / "uploading.pdf"
    for path in (old_orphan, new_orphan):
        path.parent.mkdir(parents=True)
        path.write_bytes(PDF)
    two_days_ago = time.time() - 2 * 86400
    os.utime(old_orphan, (two_days_ago, two_days_ago))
    os.utime(attachment_dir / kept.key, (two_days_ago, two_days_ago))
    call_command("prune_attachments")
    assert stored_files(attachment_dir) == sorted([kept.key, "1/fresh/uploading.pdf"])


def test_a_file_over_the_limit_is_not_read_to_the_end(
    client_for, engagement_a, engineer_a, attachment_dir, settings
):
    """The upload stops at the limit: the file is never built (nor spooled to a temporary
    file), the rest of the body is dropped, and the page says why."""
    settings.ATTACHMENT_MAX_BYTES = 1000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # would spool to disk past this
    monitoring = task_of(engagement_a, "monitoring")
    response = client_for(engineer_a).post(
        reverse("attachments:task-upload", args=[monitoring.pk]),
        {"file": upload("huge.txt", b"x" * 200_000, "text/plain")},
    )
    assert response.status_code == 302
    assert "file" not in response.wsgi_request.FILES
    assert response.wsgi_request.upload_limit.too_big == "huge.txt"
    message = said(response)
    assert message.startswith("Nothing was saved. File: huge.txt is too large; the largest file"), (
        message
    )
    nothing_saved(attachment_dir)


def test_an_upload_without_its_csrf_token_is_refused(engagement_a, engineer_a, attachment_dir):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer_a)
    monitoring = task_of(engagement_a, "monitoring")
    response = client.post(
        reverse("attachments:task-upload", args=[monitoring.pk]),
        {"file": upload("a.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 403
    nothing_saved(attachment_dir)
