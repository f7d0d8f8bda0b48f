from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health, security


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Liveness: the process answers. No database, no broker."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def readyz(request):
    """Readiness: database reachable and migrated, broker reachable, beat and a worker alive."""
    ready, checks = health.run_checks()
    return JsonResponse(
        {
            "status": "ready" if ready else "not ready",
            "checks": {n: c.as_dict() for n, c in checks.items()},
        },
        status=200 if ready else 503,
    )


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's confirm step; a completed reset also clears the sign-in lockout."""

    def form_valid(self, form):
        response = super().form_valid(form)
        security.reset_lockout(form.user, self.request)
        return response
