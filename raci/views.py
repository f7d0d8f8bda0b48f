"""The template editor: portal admins edit a draft as a matrix, publish it, compare versions.

Each edit is a plain form post (redirect back) or an htmx post that re-renders
the editor in place, hygiene warnings included.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from psaas_portal.params import parse_id

from . import checklists, prerequisites, services
from .choices import ENVIRONMENTS, NUMERIC_KINDS, Phase, PrerequisiteUntil, Tracking, ValueKind
from .matrix_diff import compare
from .models import Party, TemplateCell, TemplateTask, TemplateVersion
from .permissions import require_template_editor


def _version(request, version_id: int) -> TemplateVersion:
    require_template_editor(request.user)
    version = TemplateVersion.objects.select_related("template").filter(pk=version_id).first()
    if version is None:
        raise Http404("No such template version.")
    return version


def _editor_context(version: TemplateVersion) -> dict:
    version = services.version_with_matrix(version.pk)
    matrix = services.matrix_of(version)
    findings = services.hygiene_findings(matrix)
    by_task: dict[str, list[str]] = {}
    for f in findings:
        by_task.setdefault(f.task, []).append(f.message)
    columns = list(version.columns.all())
    rows = []
    for task in version.tasks.all():
        cells = {c.party_id: c for c in task.cells.all()}
        rows.append(
            {
                "task": task,
                "cells": [(col.party, cells.get(col.party_id)) for col in columns],
                "warnings": by_task.get(task.name, []),
            }
        )
    return {
        "version": version,
        "matrix": matrix,
        "columns": columns,
        "rows": rows,
        "findings": findings,
        "general_findings": by_task.get("", []),
        "tracking_choices": Tracking.choices,
        "phase_choices": Phase.choices,
        "until_choices": PrerequisiteUntil.choices,
        "environments": ENVIRONMENTS,
        "all_tasks": list(version.tasks.all()),
        "errors": [f for f in findings if f.is_error],
        "letters": "RACI",
        "requirements": list(version.checklist_requirements.all()),
        "kind_choices": ValueKind.choices,
        "numeric_kinds": list(NUMERIC_KINDS),
    }


def _render_version(request, version, status: int = 200) -> HttpResponse:
    template = "raci/partials/editor.html" if request.htmx else "raci/version_detail.html"
    return render(request, template, _editor_context(version), status=status)


@require_GET
def template_list(request):
    require_template_editor(request.user)
    versions = TemplateVersion.objects.select_related("template", "published_by").order_by(
        "template__name", "-number"
    )
    return render(request, "raci/template_list.html", {"versions": versions})


@require_GET
def version_detail(request, version_id: int):
    return _render_version(request, _version(request, version_id))


def _edit(
    request, version_id: int, action: Callable[[TemplateVersion], object], success: str = ""
) -> HttpResponse:
    version = _version(request, version_id)
    try:
        action(version)
    except services.TemplateError as exc:
        messages.error(request, str(exc))
        return _render_version(request, version, status=400)
    if success:
        messages.success(request, success)
    if request.htmx:
        return _render_version(request, version)
    return redirect(
        reverse("raci:version-detail", args=[version.pk]) + request.POST.get("anchor", "")
    )


def _int(request, name: str) -> int:
    value = parse_id(request.POST.get(name))
    if value is None:
        raise services.TemplateError(f"Missing or malformed {name}.")
    return value


@require_POST
def toggle_letter(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: services.toggle_letter(
            v,
            task_id=_int(request, "task"),
            party_id=_int(request, "party"),
            letter=request.POST.get("letter", ""),
            actor=request.user,
        ),
    )


@require_POST
def set_cell(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: services.set_cell(
            v,
            task_id=_int(request, "task"),
            party_id=_int(request, "party"),
            letters=request.POST.get("letters", ""),
            condition=request.POST.get("condition", ""),
            role_title=request.POST.get("role_title", ""),
            actor=request.user,
        ),
        "Cell saved.",
    )


@require_POST
def update_task(request, version_id: int):
    def action(v):
        offset = request.POST.get("due_offset_days", "").strip()
        if offset and parse_id(offset, maximum=services.MAX_DUE_OFFSET_DAYS) is None:
            raise services.TemplateError(
                f"Due offset must be a whole number of days from 0 to {services.MAX_DUE_OFFSET_DAYS}."
            )
        tracking = request.POST.get("tracking", Tracking.ONCE)
        if tracking not in Tracking.values:
            raise services.TemplateError("Unknown tracking.")
        services.update_task(
            v,
            task_id=_int(request, "task"),
            actor=request.user,
            name=request.POST.get("name", "")[:200],
            notes=request.POST.get("notes", ""),
            description=request.POST.get("description", ""),
            is_optional=bool(request.POST.get("is_optional")),
            tracking=tracking,
            due_offset_days=int(offset) if offset else None,
            phase=request.POST.get("phase", Phase.ONBOARDING),
            four_eyes=bool(request.POST.get("four_eyes")),
            tool=request.POST.get("tool", "")[:120],
        )

    return _edit(request, version_id, action, "Task saved.")


@require_POST
def add_task(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: services.add_task(v, name=request.POST.get("name", "")[:200], actor=request.user),
        "Task added.",
    )


def _confirm_removal(request, version_id: int, what: str) -> HttpResponse:
    """The step before removing a task or a party from a draft: a page that says what goes
    with it and asks (a plain form, so it works without JavaScript)."""
    version = _version(request, version_id)
    if not version.is_draft:
        messages.error(request, f"{version} is published: start a draft to change it.")
        return redirect("raci:version-detail", version.pk)
    ident = parse_id(request.POST.get(what) or request.GET.get(what))
    model = TemplateTask if what == "task" else Party
    filters = {"version": version} if what == "task" else {"versions": version}
    obj = model.objects.filter(pk=ident, **filters).first() if ident is not None else None
    if obj is None:
        raise Http404(f"No such {what} in this draft.")
    letters = TemplateCell.objects.filter(
        **({"task": obj} if what == "task" else {"task__version": version, "party": obj})
    )
    return render(
        request,
        "raci/confirm_remove.html",
        {"version": version, "what": what, "obj": obj, "letters": letters.count()},
    )


@require_http_methods(["GET", "POST"])
def remove_task(request, version_id: int):
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        return _confirm_removal(request, version_id, "task")
    return _edit(
        request,
        version_id,
        lambda v: services.remove_task(v, task_id=_int(request, "task"), actor=request.user),
        "Task removed.",
    )


@require_POST
def move_task(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: services.move_task(
            v,
            task_id=_int(request, "task"),
            up=request.POST.get("direction") == "up",
            actor=request.user,
        ),
    )


@require_POST
def add_party(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: services.add_party(
            v,
            name=request.POST.get("name", "")[:80],
            is_vendor=bool(request.POST.get("is_vendor")),
            actor=request.user,
        ),
        "Party added.",
    )


@require_http_methods(["GET", "POST"])
def remove_party(request, version_id: int):
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        return _confirm_removal(request, version_id, "party")
    return _edit(
        request,
        version_id,
        lambda v: services.remove_party(v, party_id=_int(request, "party"), actor=request.user),
        "Party removed.",
    )


def _bound(request, name: str) -> int | None:
    text = request.POST.get(name, "").strip()
    if not text:
        return None
    value = parse_id(text)
    if value is None:
        what = {"min_value": "minimum", "max_value": "maximum"}[name]
        raise services.TemplateError(f"The {what} must be a whole number.")
    return value


@require_POST
def add_requirement(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: checklists.add_requirement(
            v,
            key=request.POST.get("key", "")[:40],
            label=request.POST.get("label", "")[:80],
            kind=request.POST.get("kind", ValueKind.TEXT),
            requirement=request.POST.get("requirement", ""),
            actor=request.user,
        ),
        "Checklist item added.",
    )


@require_POST
def update_requirement(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: checklists.update_requirement(
            v,
            requirement_id=_int(request, "item"),
            actor=request.user,
            label=request.POST.get("label", "")[:80],
            requirement=request.POST.get("requirement", ""),
            kind=request.POST.get("kind", ""),
            required=bool(request.POST.get("required")),
            min_value=_bound(request, "min_value"),
            max_value=_bound(request, "max_value"),
        ),
        "Checklist item saved.",
    )


@require_POST
def remove_requirement(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: checklists.remove_requirement(
            v, requirement_id=_int(request, "item"), actor=request.user
        ),
        "Checklist item removed.",
    )


@require_POST
def move_requirement(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: checklists.move_requirement(
            v,
            requirement_id=_int(request, "item"),
            up=request.POST.get("direction") == "up",
            actor=request.user,
        ),
    )


@require_POST
def add_prerequisite(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: prerequisites.add_prerequisite(
            v,
            task_id=_int(request, "task"),
            required_id=_int(request, "required"),
            until=request.POST.get("until", PrerequisiteUntil.DONE),
            environment=request.POST.get("environment", ""),
            for_environment=request.POST.get("for_environment", ""),
            actor=request.user,
        ),
        "Prerequisite added.",
    )


@require_POST
def remove_prerequisite(request, version_id: int):
    return _edit(
        request,
        version_id,
        lambda v: prerequisites.remove_prerequisite(
            v, prerequisite_id=_int(request, "prerequisite"), actor=request.user
        ),
        "Prerequisite removed.",
    )


@require_POST
def publish(request, version_id: int):
    version = _version(request, version_id)
    try:
        version = services.publish_version(
            version, actor=request.user, change_note=request.POST.get("change_note", "")
        )
    except services.TemplateError as exc:
        messages.error(request, str(exc))
        return _render_version(request, version, status=400)
    messages.success(request, f"Published {version.template.name} v{version.number}.")
    return redirect("raci:version-detail", version.pk)


@require_POST
def start_draft(request, version_id: int):
    version = _version(request, version_id)
    try:
        draft = services.start_draft(version, actor=request.user)
    except services.TemplateError as exc:
        messages.error(request, str(exc))
        return redirect("raci:template-list")
    messages.success(request, f"Draft v{draft.number} started from v{version.number}.")
    return redirect("raci:version-detail", draft.pk)


@require_GET
def compare_versions(request):
    require_template_editor(request.user)
    ids = [parse_id(request.GET.get("a")), parse_id(request.GET.get("b"))]
    if None in ids:
        messages.error(request, "Choose two versions to compare.")
        return redirect("raci:template-list")
    versions = {
        v.pk: v for v in TemplateVersion.objects.select_related("template").filter(pk__in=ids)
    }
    old, new = versions.get(ids[0]), versions.get(ids[1])
    if old is None or new is None:
        raise Http404("No such template version.")
    diff = compare(services.version_matrix(old), services.version_matrix(new))
    notes = services.change_notes(old, new)
    return render(
        request, "raci/compare.html", {"old": old, "new": new, "diff": diff, "notes": notes}
    )
