from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from sso import views as sso_views
from sso.forms import AdminSignInForm

from . import views as portal_views
from .forms import PortalPasswordResetForm

admin.site.site_header = "PSaaS Portal administration"
admin.site.site_title = "PSaaS Portal admin"
admin.site.login_form = AdminSignInForm

urlpatterns = [
    path("healthz", portal_views.healthz, name="healthz"),
    path("readyz", portal_views.readyz, name="readyz"),
    path("accounts/login/", sso_views.SignInView.as_view(), name="login"),
    path("accounts/sso/", include("sso.urls")),
    path("accounts/logout/", sso_views.SignOutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(form_class=PortalPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        portal_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/", include("accounts.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("raci/", include("raci.urls")),
    path("", include("api.urls")),
    path("", include("attachments.urls")),
    path("", include("webhooks.urls")),
    path("", include("search.urls")),
    path("", include("engagements.urls")),
]

handler403 = "engagements.views.common.forbidden"
handler404 = "engagements.views.common.not_found"
