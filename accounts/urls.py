from __future__ import annotations

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    # The signed token rides in the query string: paths are what request and access logs
    # record, so no log holds a usable link (as with the calendar feed's secret).
    path("invitation/", views.invitation, name="invitation"),
    path("me/", views.account, name="account"),
    path("me/sessions/end-others/", views.end_other_sessions, name="end-other-sessions"),
]
