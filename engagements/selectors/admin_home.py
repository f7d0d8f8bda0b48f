"""The portal admins' home: the template work in flight and the engagements it has left
behind ("3 engagements on v1; v2 published"), each with the way to review its difference and
apply the newer version (the engagement's template page, engagements.views.templates)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import F, OuterRef, Subquery

from engagements.choices import EngagementState
from engagements.models import Engagement
from raci.choices import VersionStatus
from raci.models import TemplateVersion

# The engagements listed per version behind (the count is always whole).
LISTED_PER_VERSION = 50


def admin_home() -> dict[str, Any]:
    """Queries: the drafts with their templates (1), the engagements on an older published
    version than their template's newest (1, with the newest version read in a subquery),
    the newest published versions of those templates (1)."""
    drafts = list(
        TemplateVersion.objects.filter(status=VersionStatus.DRAFT)
        .select_related("template", "created_by")
        .order_by("template__name", "-number")
    )
    newest = (
        TemplateVersion.objects.published()
        .filter(template_id=OuterRef("template_version__template_id"))
        .order_by("-number")
    )
    behind = list(
        Engagement.objects.exclude(state=EngagementState.CLOSED)
        .annotate(newest_number=Subquery(newest.values("number")[:1]))
        .filter(template_version__number__lt=F("newest_number"))
        .select_related("organization", "template_version__template")
        .order_by(
            "template_version__template__name",
            "template_version__number",
            "organization__name",
            "name",
        )
    )
    template_ids = {e.template_version.template_id for e in behind}
    latest: dict[int, TemplateVersion] = {}
    for v in (
        TemplateVersion.objects.published()
        .filter(template_id__in=template_ids)
        .order_by("template_id", "-number")
    ):
        latest.setdefault(v.template_id, v)
    groups: dict[int, list[Engagement]] = defaultdict(list)
    for e in behind:
        groups[e.template_version_id].append(e)
    outdated = []
    for engagements in groups.values():
        version = engagements[0].template_version
        newest_version = latest[version.template_id]
        n = len(engagements)
        outdated.append(
            {
                "version": version,
                "latest": newest_version,
                "count": n,
                "summary": (
                    f"{n} engagement{'s' if n != 1 else ''} on {version.template.name} "
                    f"v{version.number}; v{newest_version.number} published"
                ),
                "engagements": engagements[:LISTED_PER_VERSION],
            }
        )
    return {"drafts": drafts, "outdated": outdated}
