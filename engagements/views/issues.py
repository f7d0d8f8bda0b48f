from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagements.actions.issues import (
    move_issue,
    raise_issue,
    set_issue_scope,
    set_ticket_reference,
)
from engagements.choices import IssueScope
from engagements.errors import DomainError
from engagements.forms import (
    IssueForm,
    IssueMoveForm,
    ScopeForm,
    TicketForm,
)
from engagements.lookups import (
    get_engagement_for_view,
    get_owned_for_view,
)
from engagements.models import Issue, UpdateCycle
from engagements.selectors.issues import issue_page, issues_page
from engagements.views.common import act


def _render_issues(request, engagement, *, status=200, form=None):
    context = issues_page(
        engagement,
        user=request.user,
        page=request.GET.get("page", 1),
        state=request.GET.get("state", "open"),
    )
    context["form"] = form or IssueForm(
        initial={"cycle": request.GET.get("cycle")}, environments=engagement.environment_list
    )
    return render(request, "engagements/ops/issues.html", context, status=status)


@require_http_methods(["GET", "POST"])
def issues(request, engagement_id: int):
    if request.method == "GET":
        return _render_issues(request, get_engagement_for_view(request.user, engagement_id))
    engagement = get_engagement_for_view(request.user, engagement_id)
    form = IssueForm(request.POST, environments=engagement.environment_list)
    created = {}

    def call(d):
        cycle = None
        if d.get("cycle"):
            cycle = UpdateCycle.objects.filter(pk=d["cycle"], engagement=engagement).first()
            if cycle is None:
                raise DomainError("That update cycle is not part of this engagement.")
        created["issue"] = raise_issue(
            engagement,
            actor=request.user,
            title=d["title"],
            environment=d["environment"],
            severity=d["severity"],
            description=d["description"],
            ticket_reference=d["ticket_reference"],
            scope=d["scope"] or IssueScope.CORE,
            cycle=cycle,
        )

    return act(
        request,
        form,
        call,
        success="Issue raised; the vendor is consulted.",
        render_again=lambda status: _render_issues(request, engagement, status=status, form=form),
        done_url=lambda: reverse("engagements:issue-detail", args=[created["issue"].pk]),
    )


def _render_issue(request, issue_id: int, *, status=200):
    """The issue page, read afresh (after a refused action, as it now stands) in one read
    that also checks the person may see it."""
    issue = get_owned_for_view(
        request.user, Issue, issue_id, related=("raised_by", "cycle"), files="issue"
    )
    context = issue_page(issue, user=request.user)
    return render(request, "engagements/ops/issue_detail.html", context, status=status)


@require_GET
def issue_detail(request, issue_id: int):
    return _render_issue(request, issue_id)


@require_POST
def issue_action(request, issue_id: int, action: str):
    issue = get_owned_for_view(request.user, Issue, issue_id)
    if action == "move":
        form = IssueMoveForm(request.POST)

        def call(d):
            move_issue(
                issue, actor=request.user, to=d["to"], note=d["note"], revision=d["revision"]
            )

        success = "Issue updated."
    elif action == "ticket":
        form = TicketForm(request.POST)

        def call(d):
            set_ticket_reference(
                issue, actor=request.user, reference=d["reference"], revision=d["revision"]
            )

        success = "Ticket reference recorded."
    elif action == "scope":
        form = ScopeForm(request.POST)

        def call(d):
            set_issue_scope(
                issue,
                actor=request.user,
                scope=d["scope"],
                reason=d["reason"],
                revision=d["revision"],
            )

        success = "Scope changed: the other side resolves it now."
    else:
        raise Http404("No such action.")
    return act(
        request,
        form,
        call,
        success=success,
        render_again=lambda status: _render_issue(request, issue.pk, status=status),
        done_url=reverse("engagements:issue-detail", args=[issue.pk]),
    )
