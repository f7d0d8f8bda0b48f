from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from engagements.actions.templates import apply_template_version, roles_lost, template_diff
from engagements.errors import DomainError
from engagements.lookups import (
    get_engagement_for_admin,
)
from psaas_portal.params import parse_id
from raci.models import TemplateVersion


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
    diff = template_diff(engagement, chosen) if chosen else None
    lost = roles_lost(engagement, chosen) if chosen else []
    notes = [v for v in newer if chosen and v.number <= chosen.number]
    return render(
        request,
        "engagements/engagement_template.html",
        {
            "engagement": engagement,
            "newer": newer,
            "chosen": chosen,
            "diff": diff,
            "roles_lost": lost,
            "notes": notes,
        },
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
        apply_template_version(engagement, version, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("engagements:engagement-template", engagement.pk)
    messages.success(
        request, f"The engagement now follows {version.template.name} v{version.number}."
    )
    return redirect("engagements:engagement-detail", engagement.pk)
