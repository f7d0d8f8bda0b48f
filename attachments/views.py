"""Uploading, removing and downloading attachments. Every route checks access on the server:
the owner is fetched with its page's visibility (404 for another tenant), the service asks
the policy (403 for a member the rules refuse), and a download is served only to those who
may see the owner's page, always as a download (`Content-Disposition: attachment`,
`X-Content-Type-Options: nosniff`), with the type attachments.limits gave it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from engagements.errors import DomainError
from engagements.lookups import get_checklist_for_view, get_owned_for_view, get_task_for_view
from engagements.models import Handover, Issue

from .actions import add_attachment, remove_attachment, storage
from .forms import AttachmentForm
from .models import Attachment
from .selectors import get_attachment_for_view
from .uploads import limited_uploads


def owner_url(owner: Any) -> str:
    """The page the owner is listed on (and where its attachments are)."""
    if isinstance(owner, Issue):
        return reverse("engagements:issue-detail", args=[owner.pk]) + f"#attachments-{owner.pk}"
    if isinstance(owner, Handover):
        return (
            reverse("engagements:handover", args=[owner.engagement_id]) + f"#attachments-{owner.pk}"
        )
    if hasattr(owner, "checklist_id"):  # a checklist item
        return reverse("engagements:checklist-detail", args=[owner.checklist_id]) + "#attachments"
    return reverse("engagements:task-detail", args=[owner.pk]) + f"#attachments-{owner.pk}"


def _attach(request: HttpRequest, owner: Any, *, back: str, pick: Callable | None = None):
    form = AttachmentForm(request.POST, request.FILES)
    too_big = getattr(getattr(request, "upload_limit", None), "too_big", "")
    if too_big:
        messages.error(
            request,
            f"Nothing was saved. File: {too_big} is too large; the largest file that can be "
            f"attached is {filesizeformat(settings.ATTACHMENT_MAX_BYTES)}.",
        )
        return redirect(back)
    if not form.is_valid():
        messages.error(request, "Nothing was saved. File: choose a file to attach.")
        return redirect(back)
    try:
        if pick is not None:
            owner = pick(form.cleaned_data.get("item"))
        attachment = add_attachment(owner, actor=request.user, upload=form.cleaned_data["file"])
    except DomainError as exc:  # NotAllowed too: the message says who may
        messages.error(request, f"Nothing was saved. {exc}")
        return redirect(back)
    messages.success(request, f"{attachment.name} attached.")
    return redirect(back)


@require_POST
@limited_uploads
def attach_to_task(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_task_for_view(request.user, task_id)
    return _attach(request, task, back=owner_url(task))


@require_POST
@limited_uploads
def attach_to_checklist_item(request: HttpRequest, checklist_id: int) -> HttpResponse:
    checklist = get_checklist_for_view(request.user, checklist_id)

    def pick(item_id: int | None):
        item = checklist.items.filter(pk=item_id).first() if item_id else None
        if item is None:
            raise DomainError("Checklist item: choose the item the file is for.")
        item.checklist = checklist
        return item

    back = reverse("engagements:checklist-detail", args=[checklist.pk]) + "#attachments"
    return _attach(request, None, back=back, pick=pick)


@require_POST
@limited_uploads
def attach_to_issue(request: HttpRequest, issue_id: int) -> HttpResponse:
    issue = get_owned_for_view(request.user, Issue, issue_id)
    return _attach(request, issue, back=owner_url(issue))


@require_POST
@limited_uploads
def attach_to_handover(request: HttpRequest, handover_id: int) -> HttpResponse:
    handover = get_owned_for_view(request.user, Handover, handover_id)
    return _attach(request, handover, back=owner_url(handover))


@require_POST
def remove(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = get_attachment_for_view(request.user, attachment_id)
    back = owner_url(attachment.owner)
    try:
        remove_attachment(attachment, actor=request.user)
    except DomainError as exc:
        messages.error(request, f"Nothing was removed. {exc}")
        return redirect(back)
    messages.success(request, f"{attachment.name} removed.")
    return redirect(back)


@require_GET
def download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment: Attachment = get_attachment_for_view(request.user, attachment_id)
    try:
        stored = storage().open(attachment.key, "rb")
    except OSError:
        raise Http404("The file is missing from the storage.") from None
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
