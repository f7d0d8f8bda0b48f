from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from engagements import permissions, policy
from engagements.actions.engagements import due_dates, start_engagement
from engagements.choices import OrganizationKind
from engagements.errors import DomainError, NotAllowed
from engagements.forms import DueDatesForm, EngagementStartForm
from engagements.lookups import (
    get_engagement_for_view,
)
from engagements.models import Organization
from engagements.selectors import portfolio as portfolio_reads
from engagements.selectors import timeline as timeline_reads
from engagements.selectors.engagements import engagement_page, engagement_rows
from engagements.views.common import form_errors
from raci.models import TemplateVersion


@require_GET
def engagement_list(request):
    page_obj = Paginator(
        engagement_rows(request.user).order_by("organization__name", "name", "pk"), 50
    ).get_page(request.GET.get("page", 1))
    return render(
        request,
        "engagements/engagement_list.html",
        {
            "engagements": page_obj,
            "page_obj": page_obj,
            "may_start": policy.may_start_engagement(request.user),
        },
    )


@require_GET
def engagement_detail(request, engagement_id: int):
    engagement = get_engagement_for_view(request.user, engagement_id)
    context = engagement_page(engagement, user=request.user, events_page=request.GET.get("page", 1))
    context["can_administer"] = policy.judge(
        request.user, "engagement.administer", engagement, seat=None
    ).allowed
    return render(request, "engagements/engagement_detail.html", context)


@require_GET
def portfolio(request):
    if not permissions.is_vendor_staff(request.user):
        raise PermissionDenied("The portfolio is for the vendor's staff.")
    g = request.GET
    context = portfolio_reads.portfolio(
        request.user,
        cse=g.get("cse", ""),
        subscriber=g.get("subscriber", ""),
        subscriber_name=g.get("subscriber_name", ""),
        state=g.get("state", ""),
        sort=g.get("sort", "subscriber"),
        page=g.get("page", 1),
    )
    query = g.copy()
    query.pop("page", None)
    context["extra_query"] = query.urlencode()
    return render(request, "engagements/portfolio.html", context)


def _start_form(data=None):
    return EngagementStartForm(
        data,
        organizations=Organization.objects.filter(kind=OrganizationKind.SUBSCRIBER).order_by(
            "name"
        ),
        versions=TemplateVersion.objects.published()
        .select_related("template")
        .order_by("template__name", "-number"),
        cses=get_user_model()
        .objects.filter(is_active=True, profile__organization__kind=OrganizationKind.VENDOR)
        .order_by("first_name", "last_name", "username"),
        initial={
            "version": TemplateVersion.objects.latest_published(),
            "kickoff_date": timezone.localdate(),
        }
        if data is None
        else None,
    )


def engagement_new(request):
    """Starts an engagement (portal admins and the vendor's managers): the form, its tasks'
    due dates shown and editable, then the engagement's page. The due dates edited are those
    of the version, kickoff date and environments they were shown for (`due_for`); if any
    changed, they are shown again and nothing is saved."""
    if not policy.may_start_engagement(request.user):
        raise PermissionDenied("Only portal admins and the vendor's managers start engagements.")
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = _start_form(request.POST if request.method == "POST" else None)
    if request.method == "GET":
        form.initial["cse"] = request.user.pk
        return render(request, "engagements/engagement_new.html", {"form": form})
    status, due_form, shown_for = 200, None, ""
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return render(request, "engagements/engagement_new.html", {"form": form}, status=400)
    d = form.cleaned_data
    shown_for = f"{d['version'].pk}:{d['kickoff_date'].isoformat()}:{d['environments']}"
    rows = due_dates(d["version"], d["kickoff_date"], d["environments"])
    posted_for = request.POST.get("due_for", "")
    if "preview" in request.POST or (posted_for and posted_for != shown_for):
        if "preview" not in request.POST:
            messages.error(
                request,
                "The template version, kickoff date or environments changed since the due "
                "dates were shown: check them again. Nothing was saved.",
            )
            status = 400
        due_form = DueDatesForm(rows=rows)
    else:
        due_form = DueDatesForm(request.POST, rows=rows) if posted_for else None
        if due_form is not None and not due_form.is_valid():
            messages.error(request, form_errors(due_form))
            status = 400
        else:
            try:
                engagement = start_engagement(
                    organization=d["organization"],
                    new_organization=d["new_organization"],
                    name=d["name"],
                    version=d["version"],
                    kickoff_date=d["kickoff_date"],
                    environments=d["environments"],
                    cse=d["cse"],
                    actor=request.user,
                    due=due_form.chosen() if due_form is not None else None,
                )
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from None
            except DomainError as exc:
                messages.error(request, str(exc))
                status = 400
            else:
                messages.success(request, f"{engagement} started.")
                return redirect("engagements:engagement-detail", engagement.pk)
    return render(
        request,
        "engagements/engagement_new.html",
        {"form": form, "due_form": due_form, "due_for": shown_for},
        status=status,
    )


@require_GET
def engagement_timeline(request, engagement_id: int):
    engagement = get_engagement_for_view(request.user, engagement_id)
    context = timeline_reads.engagement_timeline(engagement)
    context["engagement"] = engagement
    return render(request, "engagements/timeline.html", context)
