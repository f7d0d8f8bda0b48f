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
    path("two-factor/", views.two_factor_verify, name="two-factor-verify"),
    path("two-factor/set-up/", views.two_factor_enrol, name="two-factor-enrol"),
    path("two-factor/recovery-codes/", views.two_factor_codes, name="two-factor-codes"),
    path("two-factor/off/", views.two_factor_off, name="two-factor-off"),
]
