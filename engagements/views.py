"""Thin views: fetch with the access check, validate the form, call one service, answer.

Every action works as a plain form post (redirect after success) and through
htmx (the panel re-rendered in place). A refused action answers with a clear
message and changes nothing: 400 for bad input, 403 for a move this person
may not make, 409 when someone else changed the object first.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from psaas_portal import csvsafe
from psaas_portal.params import parse_id
from raci.models import Party, TemplateVersion

from . import ops_selectors, permissions, selectors, services
from .forms import (
    ChecklistForm,
    ChecklistReviewForm,
    CommentForm,
    ReopenForm,
    SignOffForm,
    TransitionForm,
)
from .lookups import (
    get_checklist_for_view,
    get_engagement_for_admin,
    get_engagement_for_view,
    get_task_for_action,
    get_task_for_view,
)
from .models import Event


@require_GET
def my_work(request):
    context = selectors.my_work(request.user, page=request.GET.get("page", 1))
    context["operations"] = ops_selectors.waiting_on_me(request.user)
    return render(request, "engagements/my_work.html", context)


@require_GET
def engagement_list(request):
    page_obj = Paginator(
        selectors.engagement_rows(request.user).order_by("organization__name", "name", "pk"), 50
    ).get_page(request.GET.get("page", 1))
    return render(
        request, "engagements/engagement_list.html", {"engagements": page_obj, "page_obj": page_obj}
    )


@require_GET
def engagement_detail(request, engagement_id: int):
    engagement = get_engagement_for_view(request.user, engagement_id)
    context = selectors.engagement_page(
        engagement, user=request.user, events_page=request.GET.get("page", 1)
    )
    context["can_administer"] = permissions.can_administer(request.user, engagement)
    context["ops"] = ops_selectors.operations_summary(engagement)
    return render(request, "engagements/engagement_detail.html", context)


# --- Tasks ------------------------------------------------------------------------


def _render_task(
    request: HttpRequest, task, *, status: int = 200, fresh: bool = False
) -> HttpResponse:
    if not fresh:  # after an action: read the state it left, letters prefetched
        task = get_task_for_view(request.user, task.pk)
    context = selectors.task_page(task, user=request.user)
    template = (
        "engagements/partials/task_panel.html" if request.htmx else "engagements/task_detail.html"
    )
    return render(request, template, context, status=status)


def form_errors(form) -> str:
    parts = []
    for field, errors in form.errors.items():
        label = (
            form.fields[field].label if field in form.fields and form.fields[field].label else field
        )
        parts.append(f"{label}: {' '.join(errors)}" if field != "__all__" else " ".join(errors))
    return "Nothing was saved. " + "; ".join(parts)


def _act(
    request: HttpRequest,
    form,
    action: Callable[[dict], object],
    *,
    success: str,
    render_again,
    done_url: str | Callable[[], str],
) -> HttpResponse:
    """Runs one service call for a validated form and answers the browser or htmx."""
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return render_again(status=400)
    try:
        action(form.cleaned_data)
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
        return render_again(status=403)
    except services.Conflict as exc:
        messages.error(request, str(exc))
        return render_again(status=409)
    except services.DomainError as exc:
        messages.error(request, str(exc))
        return render_again(status=400)
    messages.success(request, success)
    if request.htmx:
        return render_again(status=200)
    return redirect(done_url() if callable(done_url) else done_url)


def _task_action(request, task_id: int, form_class, action, success: str) -> HttpResponse:
    task = get_task_for_action(request.user, task_id)
    return _act(
        request,
        form_class(request.POST),
        lambda data: action(task, data),
        success=success,
        render_again=lambda status: _render_task(request, task, status=status),
        done_url=reverse("engagements:task-detail", args=[task.pk]),
    )


@require_GET
def task_detail(request, task_id: int):
    return _render_task(request, get_task_for_view(request.user, task_id), fresh=True)


@require_POST
def task_transition(request, task_id: int):
    return _task_action(
        request,
        task_id,
        TransitionForm,
        lambda task, d: services.transition_task(
            task, to=d["to"], actor=request.user, reason=d["reason"], revision=d["revision"]
        ),
        "Status updated.",
    )


@require_POST
def task_sign_off(request, task_id: int):
    return _task_action(
        request,
        task_id,
        SignOffForm,
        lambda task, d: services.sign_off_task(
            task, actor=request.user, comment=d["comment"], revision=d["revision"]
        ),
        "Signed off.",
    )


@require_POST
def task_reopen(request, task_id: int):
    return _task_action(
        request,
        task_id,
        ReopenForm,
        lambda task, d: services.reopen_task(
            task, actor=request.user, reason=d["reason"], revision=d["revision"]
        ),
        "Reopened.",
    )


def _party_or_none(party_id: int | None) -> Party | None:
    if party_id is None:
        return None
    party = Party.objects.filter(pk=party_id).first()
    if party is None:
        raise services.DomainError("That party does not exist.")
    return party


@require_POST
def task_comment(request, task_id: int):
    def action(task, d):
        services.add_comment(
            task, actor=request.user, body=d["body"], addressed_to=_party_or_none(d["addressed_to"])
        )

    return _task_action(request, task_id, CommentForm, action, "Comment added.")


# --- Infrastructure Checklist ---------------------------------------------------------


def _render_checklist(request, checklist, *, status: int = 200, form=None) -> HttpResponse:
    checklist = get_checklist_for_view(request.user, checklist.pk)
    context = selectors.checklist_page(checklist, user=request.user)
    context["form"] = form
    return render(request, "engagements/checklist.html", context, status=status)


@require_GET
def checklist_detail(request, checklist_id: int):
    return _render_checklist(request, get_checklist_for_view(request.user, checklist_id))


def _checklist_action(request, checklist_id: int, form_class, action, success: str) -> HttpResponse:
    checklist = get_checklist_for_view(request.user, checklist_id, act=True)
    form = form_class(request.POST)
    return _act(
        request,
        form,
        lambda d: action(checklist, form, d),
        success=success,
        render_again=lambda status: _render_checklist(request, checklist, status=status, form=form),
        done_url=reverse("engagements:checklist-detail", args=[checklist.pk]),
    )


@require_POST
def checklist_save(request, checklist_id: int):
    def action(checklist, form, d):
        services.save_checklist(
            checklist,
            actor=request.user,
            items=form.items(),
            revision=d["revision"],
            submit=bool(request.POST.get("submit")),
        )

    success = "Checklist submitted for review." if request.POST.get("submit") else "Draft saved."
    return _checklist_action(request, checklist_id, ChecklistForm, action, success)


@require_POST
def checklist_review(request, checklist_id: int):
    def action(checklist, form, d):
        services.review_checklist(
            checklist,
            actor=request.user,
            accept=d["decision"] == "accept",
            comment=d["comment"],
            item_comments=form.item_comments(),
            revision=d["revision"],
        )

    return _checklist_action(request, checklist_id, ChecklistReviewForm, action, "Review recorded.")


def not_found(request, exception=None):
    return render(request, "404.html", {"message": str(exception) if exception else ""}, status=404)


def forbidden(request, exception=None):
    return render(request, "403.html", {"message": str(exception) if exception else ""}, status=403)


@require_GET
def portfolio(request):
    if not permissions.is_vendor_staff(request.user):
        raise PermissionDenied("The portfolio is for the vendor's staff.")
    g = request.GET
    context = selectors.portfolio(
        request.user,
        cse=g.get("cse", ""),
        subscriber=g.get("subscriber", ""),
        state=g.get("state", ""),
        sort=g.get("sort", "subscriber"),
        page=g.get("page", 1),
    )
    query = g.copy()
    query.pop("page", None)
    context["extra_query"] = query.urlencode()
    return render(request, "engagements/portfolio.html", context)


# --- Template versions and exports ----------------------------------------------------


@require_GET
def engagement_template(request, engagement_id: int):
    engagement = get_engagement_for_admin(request.user, engagement_id)
    newer = list(
        TemplateVersion.objects.published()
        .filter(
            template_id=engagement.template_version.template_id,
            number__gt=engagement.template_version.number,
        )
        .order_by("-number")
    )
    chosen = next(
        (v for v in newer if str(v.pk) == request.GET.get("version")), newer[0] if newer else None
    )
    diff = services.template_diff(engagement, chosen) if chosen else None
    return render(
        request,
        "engagements/engagement_template.html",
        {"engagement": engagement, "newer": newer, "chosen": chosen, "diff": diff},
    )


@require_POST
def engagement_template_apply(request, engagement_id: int):
    engagement = get_engagement_for_admin(request.user, engagement_id)
    version_id = parse_id(request.POST.get("version"))
    version = (
        TemplateVersion.objects.filter(pk=version_id).first() if version_id is not None else None
    )
    if version is None:
        messages.error(request, "Choose a published version to apply.")
        return redirect("engagements:engagement-template", engagement.pk)
    try:
        services.apply_template_version(engagement, version, actor=request.user)
    except services.DomainError as exc:
        messages.error(request, str(exc))
        return redirect("engagements:engagement-template", engagement.pk)
    messages.success(
        request, f"The engagement now follows {version.template.name} v{version.number}."
    )
    return redirect("engagements:engagement-detail", engagement.pk)


def _csv_response(filename: str, rows) -> StreamingHttpResponse:
    """Streams CSV rows, so a long audit trail never sits in memory."""

    class Echo:
        def write(self, value):
            return value

    writer = csvsafe.writer(Echo())  # cells that would run as formulas are quoted
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def export_matrix(request, engagement_id: int):
    engagement = get_engagement_for_view(request.user, engagement_id)
    matrix = selectors.engagement_matrix(engagement)
    environments = ["all", "development", "production"]

    def rows():
        yield [
            "task",
            *matrix.party_names,
            "notes",
            *(f"status {e}" for e in environments),
            *(f"due {e}" for e in environments),
        ]
        for row in matrix.rows:
            status = row.extra["status"]
            yield [
                row.display_name,
                *(row.cells[p].text() if p in row.cells else "" for p in matrix.party_names),
                row.notes,
                *(status.get(e, {}).get("status", "") for e in environments),
                *(status.get(e, {}).get("due_date") or "" for e in environments),
            ]

    return _csv_response(f"engagement-{engagement.pk}-matrix.csv", rows())


@require_GET
def export_events(request, engagement_id: int):
    engagement = get_engagement_for_view(request.user, engagement_id)
    events = (
        Event.objects.filter(engagement=engagement)
        .order_by("created_at", "id")
        .values_list(
            "created_at",
            "actor__username",
            "verb",
            "task__name",
            "task__environment",
            "from_state",
            "to_state",
            "data",
        )
    )

    def rows():
        yield ["time (UTC)", "actor", "verb", "task", "environment", "from", "to", "data"]
        for created_at, actor, verb, task, env, frm, to, data in events.iterator(chunk_size=2000):
            yield [
                created_at.isoformat(),
                actor or "",
                verb,
                task or "",
                env or "",
                frm,
                to,
                json.dumps(data, sort_keys=True),
            ]

    return _csv_response(f"engagement-{engagement.pk}-audit-trail.csv", rows())


# --- Notifications --------------------------------------------------------------------


@require_GET
def notification_list(request):
    context = selectors.inbox(
        request.user, page=request.GET.get("page", 1), unread_only=request.GET.get("unread") == "1"
    )
    return render(request, "engagements/notifications.html", context)


@require_POST
def notification_read(request, notification_id: int):
    if not services.mark_read(request.user, notification_id):
        raise Http404("No such notification.")
    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect("engagements:notifications")


@require_POST
def notification_read_all(request):
    count = services.mark_all_read(request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("engagements:notifications")


def notification_preferences(request):
    if request.method == "POST":
        try:
            services.set_delivery_preferences(
                request.user,
                email=request.POST.get("email_delivery", ""),
                portal=request.POST.get("portal_delivery", ""),
            )
        except services.DomainError as exc:
            messages.error(request, str(exc))
            return render(
                request,
                "engagements/preferences.html",
                selectors.preferences(request.user),
                status=400,
            )
        messages.success(request, "Preferences saved.")
        return redirect("engagements:notification-preferences")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "engagements/preferences.html", selectors.preferences(request.user))
