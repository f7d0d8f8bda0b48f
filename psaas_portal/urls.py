from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views as health_views

admin.site.site_header = "PSaaS Portal administration"
admin.site.site_title = "PSaaS Portal admin"

urlpatterns = [
    path("healthz", health_views.healthz, name="healthz"),
    path("readyz", health_views.readyz, name="readyz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(settings.ADMIN_URL, admin.site.urls),
    path("raci/", include("raci.urls")),
    path("", include("engagements.urls")),
]

handler403 = "engagements.views.forbidden"
handler404 = "engagements.views.not_found"
