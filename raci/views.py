from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .models import TemplateVersion
from .services import hygiene_findings, version_matrix


@require_GET
def template_list(request):
    versions = TemplateVersion.objects.select_related("template", "published_by").order_by(
        "template__name", "-number"
    )
    return render(request, "raci/template_list.html", {"versions": versions})


@require_GET
def version_detail(request, version_id: int):
    version = get_object_or_404(TemplateVersion.objects.select_related("template"), pk=version_id)
    matrix = version_matrix(version)
    return render(
        request,
        "raci/version_detail.html",
        {
            "version": version,
            "matrix": matrix,
            "rows": [(row, [row.cells.get(p) for p in matrix.party_names]) for row in matrix.rows],
            "findings": hygiene_findings(matrix),
        },
    )
