from __future__ import annotations

from django.urls import path

from . import views

app_name = "sso"

urlpatterns = [
    path("", views.email_first, name="email-first"),
    # The one redirect URL to register at every identity provider.
    path("callback/", views.CallbackView.as_view(), name="callback"),
    path("<slug:slug>/", views.StartView.as_view(), name="start"),
]
