"""/api/v1/ (the resources), /api/schema/ (OpenAPI 3), /api/docs/ (Swagger UI from our own
static files), and the account page's tokens. The API answers programs itself (401 JSON),
so its views are outside LoginRequiredMiddleware's redirect to the sign-in page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from .views import activity, attestations, engagements, operations, tasks, tokens

app_name = "api"


@csrf_exempt
def not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse({"error": "No such resource."}, status=404)


router = SimpleRouter()
router.register("engagements", engagements.EngagementViewSet, basename="engagement")
router.register("tasks", tasks.TaskViewSet, basename="task")
router.register("checklists", operations.ChecklistViewSet, basename="checklist")
router.register("cycles", operations.CycleViewSet, basename="cycle")
router.register("issues", operations.IssueViewSet, basename="issue")
router.register("events", activity.EventViewSet, basename="event")
router.register("notifications", activity.NotificationViewSet, basename="notification")


v1 = [
    *router.urls,
    path(
        "engagements/<int:engagement_id>/attestations/",
        attestations.AttestationView.as_view(),
        name="attestations",
    ),
]
schema = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
]
for pattern in [*v1, *schema]:
    login_not_required(pattern.callback)

urlpatterns = [
    path("api/v1/", include(v1)),
    # Anything else under /api/v1/ (an id that is not a number, a resource that does not
    # exist) is a JSON 404, as programs expect, not the HTML page.
    re_path(r"^api/v1/", login_not_required(not_found)),
    path("api/", include(schema)),
    path("accounts/tokens/", tokens.tokens, name="tokens"),
    path("accounts/tokens/<int:token_id>/revoke/", tokens.token_revoke, name="token-revoke"),
]
