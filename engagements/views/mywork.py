from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engagements import permissions
from engagements.selectors import mywork as mywork_reads
from engagements.selectors.admin_home import admin_home as admin_home_reads


@require_GET
def my_work(request):
    context = mywork_reads.my_work_page(request.user, page=request.GET.get("page", 1))
    if context["nothing_to_do"] and permissions.is_portal_admin(request.user):
        # A portal admin with nothing of their own to do lands on the admins' home.
        return render(
            request, "engagements/admin_home.html", {**admin_home_reads(), "my_work_empty": True}
        )
    return render(request, "engagements/my_work.html", context)


@require_GET
def admin_home(request):
    if not permissions.is_portal_admin(request.user):
        raise PermissionDenied("The admins' home is for portal admins.")
    return render(request, "engagements/admin_home.html", admin_home_reads())
