from __future__ import annotations

from django.http import (
    HttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from engagements.actions.checklists import review_checklist, save_checklist
from engagements.errors import Refused
from engagements.forms import (
    ChecklistForm,
    ChecklistReviewForm,
)
from engagements.lookups import (
    get_checklist_for_view,
)
from engagements.selectors.checklists import checklist_page
from engagements.views.common import act


def _field_errors(form) -> dict[str, str]:
    """The refusals item by item: the service's (`Refused`), else the form's own (a field
    named "<item key>-<part>" or "vm-<n>-<field>")."""
    errors = dict(getattr(form, "refused", {}))
    if form is not None and form.is_bound:
        for name, messages in form.errors.items():
            key = "vms" if name.startswith("vm") else name.rsplit("-", 1)[0]
            label = form.fields[name].label if name in form.fields else name
            errors.setdefault(key, f"{label}: {' '.join(messages)}")
    return errors


def _render_checklist(
    request, checklist, *, status: int = 200, form=None, fresh: bool = False
) -> HttpResponse:
    if not fresh:  # after a post: as it now is
        checklist = get_checklist_for_view(request.user, checklist.pk)
    refused = form is not None and status >= 400
    context = checklist_page(
        checklist,
        user=request.user,
        posted=form.data if refused and isinstance(form, ChecklistForm) else None,
        errors=_field_errors(form) if refused else None,
    )
    context["form"] = form
    template = (
        "engagements/partials/checklist_body.html" if request.htmx else "engagements/checklist.html"
    )
    return render(request, template, context, status=status)


@require_GET
def checklist_detail(request, checklist_id: int):
    return _render_checklist(
        request, get_checklist_for_view(request.user, checklist_id), fresh=True
    )


def _checklist_action(request, checklist_id: int, form_class, action, success: str) -> HttpResponse:
    checklist = get_checklist_for_view(request.user, checklist_id)
    form = form_class(request.POST, items=list(checklist.items.all()))
    return act(
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
        try:
            save_checklist(
                checklist,
                actor=request.user,
                items=form.items(),
                vms=form.vms(),
                revision=d["revision"],
                submit=bool(request.POST.get("submit")),
            )
        except Refused as exc:
            form.refused = exc.errors  # shown next to each item
            raise

    success = "Checklist submitted for review." if request.POST.get("submit") else "Draft saved."
    return _checklist_action(request, checklist_id, ChecklistForm, action, success)


@require_POST
def checklist_review(request, checklist_id: int):
    def action(checklist, form, d):
        review_checklist(
            checklist,
            actor=request.user,
            accept=d["decision"] == "accept",
            comment=d["comment"],
            item_comments=form.item_comments(),
            revision=d["revision"],
        )

    return _checklist_action(request, checklist_id, ChecklistReviewForm, action, "Review recorded.")
