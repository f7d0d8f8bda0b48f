from __future__ import annotations

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("me/", views.account, name="account"),
    path("me/sessions/end-others/", views.end_other_sessions, name="end-other-sessions"),
]
